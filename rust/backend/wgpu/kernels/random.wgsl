// Dropout masks from a counter-based generator: element i's draw is a hash of (key, i), so a
// mask needs no state on the device and any element can be recomputed.
//   P[0] n   P[1], P[2] the 64-bit key (low, high)   P[3] p (f32)   P[4] 1/(1-p) (f32)

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

// "lowbias32" (Wellons' hash prospector): a strong 32-bit integer mix.
fn mix(v: u32) -> u32 {
    var x = v;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

@compute @workgroup_size(256)
fn dropout_mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= P[0]) { return; }
    let h = mix(mix(i ^ mix(P[1])) + P[2] * 0x9e3779b9u);
    // 24 random bits: a uniform float in [0, 1) with every value exactly representable.
    let r = f32(h >> 8u) * (1.0 / 16777216.0);
    Y[i] = select(0.0, bitcast<f32>(P[4]), r >= bitcast<f32>(P[3]));
}
