// Elementwise kernels over strided views: unary maps, broadcast binary maps, `where`, strided
// copies (gather / scatter / contiguous) and fills. One thread per output element.
//
// Parameters (binding 0, u32 words):
//   P[0] n        elements      P[1] ndim (<= 8)     P[2] op code
//   P[3] s0, P[4] s1            f32 scalars (bit patterns)
//   P[5] flags    bit 0: every operand is contiguous (skip the index arithmetic)
//   P[8..16]      output shape
//   P[16 + 9k]    operand k's offset, then its 8 strides (0 on broadcast dims)
// Operands are numbered in binding order: A, B, C (those the kernel reads), then Y.

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> C: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

fn at(i: u32, k: u32) -> u32 {
    let base = 16u + 9u * k;
    if ((P[5] & 1u) != 0u) {
        return P[base] + i;
    }
    var rem = i;
    var off = P[base];
    var d = P[1];
    loop {
        if (d == 0u) { break; }
        d = d - 1u;
        let s = P[8u + d];
        off = off + (rem % s) * P[base + 1u + d];
        rem = rem / s;
    }
    return off;
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

fn s0() -> f32 { return bitcast<f32>(P[3]); }
fn s1() -> f32 { return bitcast<f32>(P[4]); }

// Bit test, not x != x: shader compilers may assume no NaNs.
fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// x^y with C's pow semantics for negative bases and integer exponents (WGSL's pow is undefined
// for x < 0).
fn fpow(x: f32, y: f32) -> f32 {
    if (y == 0.0) { return 1.0; }
    if (y == 2.0) { return x * x; }
    if (y == 1.0) { return x; }
    if (x == 0.0) {
        if (y > 0.0) { return 0.0; }
        return bitcast<f32>(0x7f800000u);
    }
    let r = exp2(y * log2(abs(x)));
    if (x > 0.0) { return r; }
    if (floor(y) != y) { return bitcast<f32>(0x7fc00000u); }
    if ((i32(abs(y)) & 1) == 1 && abs(y) < 16777216.0) { return -r; }
    return r;
}

fn sigmoid(x: f32) -> f32 {
    if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
    let e = exp(x);
    return e / (1.0 + e);
}

fn bool_f(b: bool) -> f32 {
    return select(0.0, 1.0, b);
}

fn unary_op(op: u32, x: f32) -> f32 {
    switch op {
        case 0u: { return -x; }
        case 1u: { return exp(x); }
        case 2u: {
            if (x == 0.0) { return bitcast<f32>(0xff800000u); }
            if (x < 0.0) { return bitcast<f32>(0x7fc00000u); }
            return log(x);
        }
        case 3u: {
            if (x < 0.0) { return bitcast<f32>(0x7fc00000u); }
            return sqrt(x);
        }
        case 4u: { return abs(x); }
        case 5u: {
            if (x > 0.0) { return 1.0; }
            if (x < 0.0) { return -1.0; }
            return x * 0.0;
        }
        // tanh saturates to ±1 in f32 beyond |x| = 10; clamping avoids exp overflow in drivers
        // that compute it as a ratio of exponentials.
        case 6u: { return tanh(clamp(x, -15.0, 15.0)); }
        case 7u: { return sigmoid(x); }
        case 8u: { return select(x, 0.0, x < 0.0); }
        case 9u: { return select(x, x * s0(), x < 0.0); }
        case 11u: {
            if (x < s0()) { return s0(); }
            if (x > s1()) { return s1(); }
            return x;
        }
        case 12u: { return bool_f(x >= s0() && x <= s1()); }
        case 13u: { return fpow(x, s0()); }
        case 14u: { return x + s0(); }
        case 15u: { return x * s0(); }
        default: { return x; }
    }
}

fn maximum(a: f32, b: f32) -> f32 {
    if (is_nan(a) || a > b) { return a; }
    if (is_nan(b)) { return b; }
    return max(a, b);
}

fn minimum(a: f32, b: f32) -> f32 {
    if (is_nan(a) || a < b) { return a; }
    if (is_nan(b)) { return b; }
    return min(a, b);
}

fn binary_op(op: u32, x: f32, y: f32) -> f32 {
    switch op {
        case 0u: { return x + y; }
        case 1u: { return x - y; }
        case 2u: { return x * y; }
        case 3u: { return x / y; }
        case 4u: { return fpow(x, y); }
        case 5u: { return maximum(x, y); }
        case 6u: { return minimum(x, y); }
        case 7u: { return bool_f(x == y); }
        case 8u: { return bool_f(x != y); }
        case 9u: { return bool_f(x < y); }
        case 10u: { return bool_f(x <= y); }
        case 11u: { return bool_f(x > y); }
        case 12u: { return bool_f(x >= y); }
        // (leaky) ReLU backward: x the gradient, y the layer's input, s0 the slope.
        case 13u: { return select(x * s0(), x, y > 0.0); }
        // sigmoid and tanh backward from their outputs y.
        case 14u: { return x * (y * (1.0 - y)); }
        case 15u: { return x * (1.0 - y * y); }
        default: { return x; }
    }
}

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= P[0]) { return; }
    Y[at(i, 1u)] = unary_op(P[2], A[at(i, 0u)]);
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= P[0]) { return; }
    Y[at(i, 2u)] = binary_op(P[2], A[at(i, 0u)], B[at(i, 1u)]);
}

// Y = C != 0 ? A : B  (operands in order C, A, B, Y: C is bound at binding 3).
@compute @workgroup_size(256)
fn where3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= P[0]) { return; }
    let c = C[at(i, 0u)];
    Y[at(i, 3u)] = select(B[at(i, 2u)], A[at(i, 1u)], c != 0.0);
}

// Y[view] = A[view]: contiguous(), copy_, cat, and the gradients of views.
@compute @workgroup_size(256)
fn assign(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= P[0]) { return; }
    Y[at(i, 1u)] = A[at(i, 0u)];
}

// Y[view] = s0.
@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= P[0]) { return; }
    Y[at(i, 0u)] = s0();
}
