// Row gather and its adjoint for `t[idx]` along the first dim. Row indices travel as u32 bits
// in an f32 buffer. One thread per output element.
//   P[0] output elements   P[1] row length   P[2] number of indices

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> I: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// Y[r, j] = X[idx[r], j]
@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = flat(gid, nwg);
    if (e >= P[0]) { return; }
    let len = P[1];
    Y[e] = X[bitcast<u32>(I[e / len]) * len + e % len];
}

// Y[i, j] = Σ over r with idx[r] = i of X[r, j]: a gather over the index list (repeated
// indices add up, no atomics needed).
@compute @workgroup_size(256)
fn scatter_add_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = flat(gid, nwg);
    if (e >= P[0]) { return; }
    let len = P[1];
    let row = e / len;
    let col = e % len;
    var s = 0.0;
    for (var r = 0u; r < P[2]; r = r + 1u) {
        if (bitcast<u32>(I[r]) == row) { s = s + X[r * len + col]; }
    }
    Y[e] = s;
}
