// im2col / col2im for Conv2d: the GEMMs around them do the arithmetic (matmul.rs).
// Columns are laid out (N, OH·OW, C·KH·KW), row-major.
//   P[0] n  P[1] c  P[2] h  P[3] w  P[4] kh  P[5] kw  P[6] sh  P[7] sw  P[8] ph  P[9] pw
//   P[10] dh  P[11] dw  P[12] oh  P[13] ow

@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<u32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    let kk = P[4] * P[5];
    let ck = P[1] * kk;
    let l = P[12] * P[13];
    if (i >= P[0] * l * ck) { return; }
    let col = i % ck;
    let row = i / ck;
    let n = row / l;
    let pos = row % l;
    let oi = pos / P[13];
    let oj = pos % P[13];
    let ch = col / kk;
    let ki = (col % kk) / P[5];
    let kj = col % P[5];
    let y = i32(oi * P[6] + ki * P[10]) - i32(P[8]);
    let x = i32(oj * P[7] + kj * P[11]) - i32(P[9]);
    var v = 0.0;
    if (y >= 0 && y < i32(P[2]) && x >= 0 && x < i32(P[3])) {
        v = X[((n * P[1] + ch) * P[2] + u32(y)) * P[3] + u32(x)];
    }
    Y[i] = v;
}

// im2col with each column's (channel, kernel row, kernel column) read from a table made on
// the host, T[2·col] = ch·H·W and T[2·col + 1] = (ki·dh) << 16 | kj·dw: three integer divisions
// per entry instead of about ten (they dominated: conv 32→64 5×5 over 128 14×14 images spent
// 190 µs of a 357 µs forward in im2col on an H100).
@compute @workgroup_size(256)
fn im2col_table(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    let ck = P[1] * P[4] * P[5];
    let l = P[12] * P[13];
    if (i >= P[0] * l * ck) { return; }
    let row = i / ck;
    let col = i - row * ck;
    let n = row / l;
    let pos = row - n * l;
    let oi = pos / P[13];
    let oj = pos - oi * P[13];
    let t = T[2u * col + 1u];
    let y = i32(oi * P[6] + (t >> 16u)) - i32(P[8]);
    let x = i32(oj * P[7] + (t & 0xffffu)) - i32(P[9]);
    var v = 0.0;
    if (y >= 0 && y < i32(P[2]) && x >= 0 && x < i32(P[3])) {
        v = X[n * P[1] * P[2] * P[3] + T[2u * col] + u32(y) * P[3] + u32(x)];
    }
    Y[i] = v;
}

// The adjoint of im2col: each input element sums the column entries that read it (a gather,
// so no atomics are needed).
@compute @workgroup_size(256)
fn col2im(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    let hw = P[2] * P[3];
    if (i >= P[0] * P[1] * hw) { return; }
    let x = i32(i % P[3]);
    let y = i32((i / P[3]) % P[2]);
    let ch = (i / hw) % P[1];
    let n = i / (hw * P[1]);
    let kk = P[4] * P[5];
    let ck = P[1] * kk;
    let l = P[12] * P[13];
    var s = 0.0;
    for (var ki = 0u; ki < P[4]; ki = ki + 1u) {
        let ty = y + i32(P[8]) - i32(ki * P[10]);
        if (ty < 0 || ty % i32(P[6]) != 0) { continue; }
        let oi = u32(ty) / P[6];
        if (oi >= P[12]) { continue; }
        for (var kj = 0u; kj < P[5]; kj = kj + 1u) {
            let tx = x + i32(P[9]) - i32(kj * P[11]);
            if (tx < 0 || tx % i32(P[7]) != 0) { continue; }
            let oj = u32(tx) / P[7];
            if (oj >= P[13]) { continue; }
            s = s + X[(n * l + oi * P[13] + oj) * ck + ch * kk + ki * P[5] + kj];
        }
    }
    Y[i] = s;
}
