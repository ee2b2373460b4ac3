//! Optimizer steps on the device (kernels/optim.wgsl): one dispatch per parameter, updating the
//! parameter and its state buffers in place. The constants mirror the CPU kernels in
//! rust/optim/ (bias corrections folded on the host in f64, then rounded to f32).

use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, dense, f, u};
use crate::error::Result;
use crate::optim::Rule;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/optim.wgsl");

fn sign(maximize: bool) -> f32 {
    if maximize {
        -1.0
    } else {
        1.0
    }
}

/// (rule code, flags, constants) for one step.
fn constants(rule: &Rule, step: u64) -> (u32, u32, Vec<f32>) {
    let t = step.min(i32::MAX as u64) as i32;
    match rule {
        Rule::Sgd(h) => {
            let flags = (h.momentum != 0.0) as u32 | ((step == 1) as u32) << 1 | (h.nesterov as u32) << 2;
            (0, flags, vec![h.lr as f32, h.momentum as f32, (1.0 - h.dampening) as f32, sign(h.maximize), h.weight_decay as f32])
        }
        Rule::Adam(h) => {
            let bc1 = 1.0 - h.beta1.powi(t);
            let bc2_sqrt = (1.0 - h.beta2.powi(t)).sqrt();
            let (l2, lr_wd) = if h.decoupled_weight_decay { (0.0, (h.lr * h.weight_decay) as f32) } else { (h.weight_decay as f32, 0.0) };
            let c = vec![
                (h.lr / bc1) as f32,
                (1.0 / bc2_sqrt) as f32,
                h.beta1 as f32,
                h.beta2 as f32,
                (1.0 - h.beta1) as f32,
                (1.0 - h.beta2) as f32,
                h.eps as f32,
                sign(h.maximize),
                l2,
                lr_wd,
            ];
            (1, h.amsgrad as u32, c)
        }
        Rule::Adamax(h) => {
            let clr = (h.lr / (1.0 - h.beta1.powi(t))) as f32;
            (2, 0, vec![clr, h.beta1 as f32, (1.0 - h.beta1) as f32, h.beta2 as f32, h.eps as f32, h.weight_decay as f32, sign(h.maximize)])
        }
        Rule::Adagrad(h) => {
            let clr = (h.lr / (1.0 + (step - 1) as f64 * h.lr_decay)) as f32;
            (3, 0, vec![clr, h.eps as f32, h.weight_decay as f32, sign(h.maximize)])
        }
        Rule::RmsProp(h) => {
            let flags = (h.momentum > 0.0) as u32 | (h.centered as u32) << 1;
            let c = vec![h.lr as f32, h.alpha as f32, (1.0 - h.alpha) as f32, h.eps as f32, h.weight_decay as f32, h.momentum as f32, sign(h.maximize)];
            (4, flags, c)
        }
        Rule::Adadelta(h) => (5, 0, vec![h.lr as f32, h.rho as f32, (1.0 - h.rho) as f32, h.eps as f32, h.weight_decay as f32, sign(h.maximize)]),
    }
}

/// Updates the contiguous GPU parameter `p` (and its `states`, in `rule.state_names()` order)
/// from `g`. RMSprop's states map to the kernel's fixed slots (square_avg, momentum, grad_avg).
pub fn step(rule: &Rule, step: u64, p: &Tensor, g: &Tensor, states: &[Tensor]) -> Result<()> {
    let n = p.numel();
    let gd = dense(g)?;
    let (code, flags, c) = constants(rule, step);
    let mut params = vec![0u32; 21];
    params[..3].copy_from_slice(&[u(n), code, flags]);
    for (k, v) in c.iter().enumerate() {
        params[4 + k] = f(*v);
    }
    // Unused state slots get small scratch buffers, made once (each binding needs its own).
    static SCRATCH: std::sync::OnceLock<[queue::GpuBuffer; 3]> = std::sync::OnceLock::new();
    let scratch = match SCRATCH.get() {
        Some(s) => s,
        None => {
            let made = [queue::alloc(1)?, queue::alloc(1)?, queue::alloc(1)?];
            SCRATCH.get_or_init(|| made)
        }
    };
    let mut slots: [(&wgpu::Buffer, usize); 3] = [(&scratch[0].buf, 0), (&scratch[1].buf, 0), (&scratch[2].buf, 0)];
    // Which kernel slot each state fills: RMSprop's optional states keep fixed slots.
    let slot_of: Vec<usize> = match rule {
        Rule::RmsProp(h) => {
            let mut v = vec![0];
            if h.momentum > 0.0 {
                v.push(1);
            }
            if h.centered {
                v.push(2);
            }
            v
        }
        _ => (0..states.len()).collect(),
    };
    for (s, &k) in states.iter().zip(&slot_of) {
        slots[k] = (buf(s), s.layout().offset);
    }
    params[16] = u(gd.layout().offset);
    params[17] = u(p.layout().offset);
    for k in 0..3 {
        params[18 + k] = u(slots[k].1);
    }
    let slots = [slots[0].0, slots[1].0, slots[2].0];
    let bind = [(1, buf(&gd)), (4, buf(p)), (5, slots[0]), (6, slots[1]), (7, slots[2])];
    dispatch(&Kernel { key: "optim_step", source: SRC, entry: "step" }, &params, &bind, grid(n))?;
    p.storage().bump_version();
    for s in states {
        s.storage().bump_version();
    }
    Ok(())
}
