// 2-D max and average pooling over (planes, H, W), forward and backward; backward is a gather
// over the windows that contain each input element (no atomics).
//   P[0] planes P[1] h P[2] w P[3] kh P[4] kw P[5] sh P[6] sw P[7] ph P[8] pw P[9] dh P[10] dw
//   P[11] oh P[12] ow P[13] avg: count padding cells (1) or not (0)
//   P[14] mode: 0 max, 1 average
// Max pooling's winner index (flat, within its plane) travels as u32 bits in an f32 buffer (J
// forward, I backward); average pooling binds a scratch J and its own dy as I, unused.

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> I: array<f32>;
@group(0) @binding(3) var<storage, read_write> J: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// Cells averaged by output (oi, oj), as the CPU kernel counts them.
fn window_count(oi: u32, oj: u32) -> f32 {
    if (P[13] == 1u) {
        let hi = min(oi * P[5] + (P[3] - 1u) * P[9] + 1u, P[1] + 2u * P[7]) - oi * P[5];
        let wi = min(oj * P[6] + (P[4] - 1u) * P[10] + 1u, P[2] + 2u * P[8]) - oj * P[6];
        return f32(((hi + P[9] - 1u) / P[9]) * ((wi + P[10] - 1u) / P[10]));
    }
    var c = 0u;
    for (var ki = 0u; ki < P[3]; ki = ki + 1u) {
        let y = i32(oi * P[5] + ki * P[9]) - i32(P[7]);
        for (var kj = 0u; kj < P[4]; kj = kj + 1u) {
            let x = i32(oj * P[6] + kj * P[10]) - i32(P[8]);
            if (y >= 0 && y < i32(P[1]) && x >= 0 && x < i32(P[2])) { c = c + 1u; }
        }
    }
    return f32(max(c, 1u));
}

// One output per thread: the window's max (and where it is) or its average.
@compute @workgroup_size(256)
fn pool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    let ohw = P[11] * P[12];
    if (i >= P[0] * ohw) { return; }
    let is_max = P[14] == 0u;
    let plane = i / ohw;
    let oi = (i % ohw) / P[12];
    let oj = i % P[12];
    let base = plane * P[1] * P[2];
    var best = bitcast<f32>(0xff800000u);
    var at = 0xffffffffu;
    var s = 0.0;
    for (var ki = 0u; ki < P[3]; ki = ki + 1u) {
        let y = i32(oi * P[5] + ki * P[9]) - i32(P[7]);
        if (y < 0 || y >= i32(P[1])) { continue; }
        for (var kj = 0u; kj < P[4]; kj = kj + 1u) {
            let x = i32(oj * P[6] + kj * P[10]) - i32(P[8]);
            if (x < 0 || x >= i32(P[2])) { continue; }
            let pos = u32(y) * P[2] + u32(x);
            let v = X[base + pos];
            s = s + v;
            if (at == 0xffffffffu || v > best || (is_nan(v) && !is_nan(best))) {
                best = v;
                at = pos;
            }
        }
    }
    if (is_max) {
        Y[i] = best;
        J[i] = bitcast<f32>(at);
    } else {
        Y[i] = s / window_count(oi, oj);
    }
}

// One input element per thread: the sum over the windows that contain it of their gradient,
// routed to the winner (max) or shared by the window's cells (average).
@compute @workgroup_size(256)
fn pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    let hw = P[1] * P[2];
    if (i >= P[0] * hw) { return; }
    let is_max = P[14] == 0u;
    let plane = i / hw;
    let pos = i % hw;
    let y = i32(pos / P[2]);
    let x = i32(pos % P[2]);
    let ohw = P[11] * P[12];
    var s = 0.0;
    for (var ki = 0u; ki < P[3]; ki = ki + 1u) {
        let ty = y + i32(P[7]) - i32(ki * P[9]);
        if (ty < 0 || ty % i32(P[5]) != 0) { continue; }
        let oi = u32(ty) / P[5];
        if (oi >= P[11]) { continue; }
        for (var kj = 0u; kj < P[4]; kj = kj + 1u) {
            let tx = x + i32(P[8]) - i32(kj * P[10]);
            if (tx < 0 || tx % i32(P[6]) != 0) { continue; }
            let oj = u32(tx) / P[6];
            if (oj >= P[12]) { continue; }
            let o = plane * ohw + oi * P[12] + oj;
            if (is_max) {
                if (bitcast<u32>(I[o]) == pos) { s = s + X[o]; }
            } else {
                s = s + X[o] / window_count(oi, oj);
            }
        }
    }
    Y[i] = s;
}
