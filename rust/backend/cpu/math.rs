//! Branch-free elementary functions that the compiler can vectorise (libm's `expf` is a scalar
//! call per element: 2 ns each, most of a sigmoid layer's forward pass).

/// e^x to within 2 ulp over the normal range, the subnormal tail rounded, 0 below about −103.9,
/// +inf above about 88.72, NaN for NaN. Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a
/// degree-7 polynomial for e^r, and 2^n applied as two factors so the subnormal tail is right.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln2 split so n·LN2_HI is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // Clamping keeps n in [−150, 128]: 2^128 overflows to +inf as e^x should, and below −150 the
    // result is 0 anyway. NaN stays NaN.
    let x = x.clamp(-104.0, 89.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let ni = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4_f32;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5; // Cephes' 5.0000001201e-1, which rounds to 0.5 in f32
    let er = p * (r * r) + r + 1.0;
    // 2^n = 2^h · 2^(n−h), each factor a normal float (h = n/2 ∈ [−75, 64]).
    let h = ni >> 1;
    let s1 = f32::from_bits(((h + 127) as u32) << 23);
    let s2 = f32::from_bits(((ni - h + 127) as u32) << 23);
    er * s1 * s2
}

/// Σ s in f64 with eight independent accumulators: they vectorise, where one running sum is a
/// chain of dependent adds (~4 cycles each). Inlined, it takes the vector width of the
/// multiversioned function it lands in (batch norm's statistics, `reduce::sum_row`).
#[inline(always)]
pub fn sum_f64(s: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i] as f64;
        }
    }
    rest.iter().fold(acc.iter().sum::<f64>(), |t, &v| t + v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_and_handles_the_edges() {
        let mut worst = 0f64;
        let mut i = 0;
        while i <= 2_000_000 {
            let x = -103.0 + 192.0 * (i as f32 / 2_000_000.0);
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            if want >= f32::MIN_POSITIVE as f64 && want <= f32::MAX as f64 {
                let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
                worst = worst.max((got - want).abs() / ulp);
            } else if want < f32::MIN_POSITIVE as f64 {
                // Subnormal results: within a few units of the smallest subnormal.
                assert!((got - want).abs() <= 4.0 * 1.4e-45, "exp({x}) = {got}, want {want}");
            }
            i += 1;
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
    }
}
