// Optimizer updates, one thread per parameter element, the rules of rust/optim/*.rs (see each
// file there for the formulas and where torch and the papers differ). The host folds bias
// corrections and signs into the constants, exactly as the CPU kernels do.
//   P[0] n   P[1] rule (0 SGD, 1 Adam/AdamW, 2 Adamax, 3 Adagrad, 4 RMSprop, 5 Adadelta)
//   P[2] flags   P[4..16] f32 constants, per rule (listed at each case)
//   P[16..21] element offsets of G, W, S0, S1, S2 in their buffers

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read_write> W: array<f32>;
@group(0) @binding(5) var<storage, read_write> S0: array<f32>;
@group(0) @binding(6) var<storage, read_write> S1: array<f32>;
@group(0) @binding(7) var<storage, read_write> S2: array<f32>;

fn c(k: u32) -> f32 { return bitcast<f32>(P[4u + k]); }
fn flag(b: u32) -> bool { return (P[2] & (1u << b)) != 0u; }

@compute @workgroup_size(256)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= P[0]) { return; }
    let g = G[P[16] + i];
    let wi = P[17] + i;
    var p = W[wi];
    let i0 = P[18] + i;
    let i1 = P[19] + i;
    let i2 = P[20] + i;
    switch P[1] {
        // lr, momentum, 1 - dampening, sign, weight_decay; flags: 0 momentum, 1 first, 2 nesterov
        case 0u: {
            var d = c(3) * g + c(4) * p;
            if (flag(0u)) {
                var b = d;
                if (!flag(1u)) { b = c(1) * S0[i0] + c(2) * d; }
                S0[i0] = b;
                if (flag(2u)) { d = d + c(1) * b; } else { d = b; }
            }
            p = p - c(0) * d;
        }
        // step_size, 1/sqrt(bc2), b1, b2, 1-b1, 1-b2, eps, sign, l2, lr*wd; flags: 0 amsgrad
        case 1u: {
            let gi = c(7) * g + c(8) * p;
            p = p - c(9) * p;
            let m = c(2) * S0[i0] + c(4) * gi;
            let v = c(3) * S1[i1] + c(5) * gi * gi;
            S0[i0] = m;
            S1[i1] = v;
            var vh = v;
            if (flag(0u)) {
                vh = max(S2[i2], v);
                S2[i2] = vh;
            }
            p = p - c(0) * m / (sqrt(vh) * c(1) + c(6));
        }
        // clr, b1, 1-b1, b2, eps, wd, sign
        case 2u: {
            let gi = c(6) * g + c(5) * p;
            let m = c(1) * S0[i0] + c(2) * gi;
            let u = max(c(3) * S1[i1], abs(gi) + c(4));
            S0[i0] = m;
            S1[i1] = u;
            p = p - c(0) * m / u;
        }
        // clr, eps, wd, sign
        case 3u: {
            let gi = c(3) * g + c(2) * p;
            let s = S0[i0] + gi * gi;
            S0[i0] = s;
            p = p - c(0) * gi / (sqrt(s) + c(1));
        }
        // lr, alpha, 1-alpha, eps, wd, momentum, sign; flags: 0 momentum, 1 centered
        // (states: S0 square_avg, S1 momentum_buffer, S2 grad_avg)
        case 4u: {
            let gi = c(6) * g + c(4) * p;
            let v = c(1) * S0[i0] + c(2) * gi * gi;
            S0[i0] = v;
            var var_ = v;
            if (flag(1u)) {
                let a = c(1) * S2[i2] + c(2) * gi;
                S2[i2] = a;
                var_ = max(v - a * a, 0.0);
            }
            let avg = sqrt(var_) + c(3);
            if (flag(0u)) {
                let b = c(5) * S1[i1] + gi / avg;
                S1[i1] = b;
                p = p - c(0) * b;
            } else {
                p = p - c(0) * gi / avg;
            }
        }
        // lr, rho, 1-rho, eps, wd, sign
        case 5u: {
            let gi = c(5) * g + c(4) * p;
            let v = c(1) * S0[i0] + c(2) * gi * gi;
            S0[i0] = v;
            let delta = sqrt(S1[i1] + c(3)) / sqrt(v + c(3)) * gi;
            S1[i1] = c(1) * S1[i1] + c(2) * delta * delta;
            p = p - c(0) * delta;
        }
        default: {}
    }
    W[wi] = p;
}
