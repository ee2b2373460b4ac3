//! Dropout masks drawn on the device (kernels/random.wgsl): a counter-based hash of the global
//! generator's next key and the element index, so nothing is uploaded. The draws follow the
//! same distribution as the CPU's but not the same stream: a seeded run is reproducible on
//! each device, not across devices.

use super::queue::{self, dispatch, grid, Kernel};
use super::{f, tensor, u};
use crate::error::Result;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/random.wgsl");

pub fn dropout_mask(shape: &[usize], p: f32) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let key = crate::random::next_key();
    let y = queue::alloc(n)?;
    let params = [u(n), key as u32, (key >> 32) as u32, f(p), f(1.0 / (1.0 - p))];
    dispatch(&Kernel { key: "dropout_mask", source: SRC, entry: "dropout_mask" }, &params, &[(4, &y.buf)], grid(n))?;
    Ok(tensor(y, shape))
}
