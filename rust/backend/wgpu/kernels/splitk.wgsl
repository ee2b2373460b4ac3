// The second half of a GEMM cut into slices of K (matmul.rs): adds the slices' partial
// products in slice order (so the result does not depend on scheduling), adds the bias and
// stores C through its strides.
//   P[0] M   P[1] N   P[2] slices   P[3..6] C offset / row stride / column stride
//   P[6] bias mode (0 none, 1 per column, 2 per row)

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(256)
fn splitk_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    let mn = P[0] * P[1];
    if (i >= mn) { return; }
    var v = 0.0;
    for (var z = 0u; z < P[2]; z = z + 1u) {
        v = v + PART[z * mn + i];
    }
    let r = i / P[1];
    let c = i % P[1];
    if (P[6] == 1u) { v = v + BIAS[c]; } else if (P[6] == 2u) { v = v + BIAS[r]; }
    C[P[3] + r * P[4] + c * P[5]] = v;
}
