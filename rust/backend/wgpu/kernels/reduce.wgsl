// Row reductions of a dense (rows, cols) matrix: one 256-thread workgroup per row, each thread
// folding a strided slice of the row, then a tree in workgroup memory.
//   P[0] rows   P[1] cols   P[2] op (0 sum, 1 max, 2 min; argext: 1 largest, 0 smallest)

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

var<workgroup> val: array<f32, 256>;
var<workgroup> idx: array<u32, 256>;

fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn combine(op: u32, a: f32, b: f32) -> f32 {
    if (op == 0u) { return a + b; }
    if (is_nan(a)) { return a; }
    if (is_nan(b)) { return b; }
    if (op == 1u) { return max(a, b); }
    return min(a, b);
}

fn identity(op: u32) -> f32 {
    if (op == 1u) { return bitcast<f32>(0xff800000u); }
    if (op == 2u) { return bitcast<f32>(0x7f800000u); }
    return 0.0;
}

@compute @workgroup_size(256)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    let rows = P[0];
    let cols = P[1];
    let op = P[2];
    var acc = identity(op);
    if (row < rows) {
        let base = row * cols;
        for (var c = t; c < cols; c = c + 256u) {
            acc = combine(op, acc, X[base + c]);
        }
    }
    val[t] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (t < s) {
            val[t] = combine(op, val[t], val[t + s]);
        }
        workgroupBarrier();
    }
    if (t == 0u && row < rows) {
        Y[row] = val[0];
    }
}

// Is (b, j) a better pick than (a, i)? The first NaN wins, then the extreme value, then the
// lower index (torch's argmax / argmin).
fn better(largest: bool, a: f32, i: u32, b: f32, j: u32) -> bool {
    let an = is_nan(a);
    let bn = is_nan(b);
    if (an || bn) {
        if (an && bn) { return j < i; }
        return bn;
    }
    if (b == a) { return j < i; }
    if (largest) { return b > a; }
    return b < a;
}

@compute @workgroup_size(256)
fn argext_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    let rows = P[0];
    let cols = P[1];
    let largest = P[2] == 1u;
    var best = 0.0;
    var bi = 0xffffffffu;
    if (row < rows) {
        let base = row * cols;
        for (var c = t; c < cols; c = c + 256u) {
            let x = X[base + c];
            if (bi == 0xffffffffu || better(largest, best, bi, x, c)) {
                best = x;
                bi = c;
            }
        }
    }
    val[t] = best;
    idx[t] = bi;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (t < s) {
            let j = idx[t + s];
            if (j != 0xffffffffu && (idx[t] == 0xffffffffu || better(largest, val[t], idx[t], val[t + s], j))) {
                val[t] = val[t + s];
                idx[t] = j;
            }
        }
        workgroupBarrier();
    }
    if (t == 0u && row < rows) {
        Y[row] = f32(idx[0]);
    }
}
