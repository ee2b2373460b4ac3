// Softmax, log-softmax and cross-entropy over the rows of a dense (rows, cols) matrix: one
// 256-thread workgroup per row (max, then sum of exponentials, both as workgroup trees).
//   P[0] rows   P[1] cols   P[2] log (softmax_rows) | label smoothing eps as f32 (cross_entropy)

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
// Cross-entropy targets: the class per row, or -1 for an ignored row.
@group(0) @binding(2) var<storage, read> T: array<i32>;
@group(0) @binding(3) var<storage, read_write> L: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

var<workgroup> red: array<f32, 256>;

fn tree_max(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (t < s) { red[t] = max(red[t], red[t + s]); }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn tree_sum(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (t < s) { red[t] = red[t] + red[t + s]; }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

// Max and log-sum-exp of one row, computed by the whole workgroup.
fn row_stats(t: u32, base: u32, cols: u32, valid: bool) -> vec2<f32> {
    var m = bitcast<f32>(0xff800000u);
    if (valid) {
        for (var c = t; c < cols; c = c + 256u) { m = max(m, X[base + c]); }
    }
    let mx = tree_max(t, m);
    var s = 0.0;
    if (valid) {
        for (var c = t; c < cols; c = c + 256u) { s = s + exp(X[base + c] - mx); }
    }
    let total = tree_sum(t, s);
    return vec2<f32>(mx, log(total));
}

@compute @workgroup_size(256)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    let cols = P[1];
    let valid = row < P[0];
    let base = row * cols;
    let st = row_stats(t, base, cols, valid);
    if (!valid) { return; }
    for (var c = t; c < cols; c = c + 256u) {
        let z = X[base + c] - st.x - st.y;
        Y[base + c] = select(exp(z), z, P[2] == 1u);
    }
}

@compute @workgroup_size(256)
fn cross_entropy_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    let cols = P[1];
    let eps = bitcast<f32>(P[2]);
    let valid = row < P[0];
    let base = row * cols;
    let st = row_stats(t, base, cols, valid);
    var s = 0.0;
    if (valid) {
        for (var c = t; c < cols; c = c + 256u) {
            let x = X[base + c];
            Y[base + c] = exp(x - st.x - st.y);
            s = s + x;
        }
    }
    let row_sum = tree_sum(t, s);
    if (t == 0u && valid) {
        let cls = T[row];
        if (cls < 0) {
            L[row] = 0.0;
        } else {
            let lse = st.x + st.y;
            let nll = lse - X[base + u32(cls)];
            if (eps == 0.0) {
                L[row] = nll;
            } else {
                L[row] = (1.0 - eps) * nll + eps * (lse - row_sum / f32(cols));
            }
        }
    }
}
