//! The global seeded generator behind every random op (`rand`, `randn`, dropout masks, init).
//!
//! Each random op draws one 64-bit key from the global generator, then fills its elements in
//! fixed-size blocks, block `b` from a generator seeded by (key, b). The values therefore do
//! not depend on how many threads fill the blocks, and `manual_seed(s)` replays everything.

use crate::tensor::Tensor;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::sync::Mutex;

static GLOBAL: Mutex<Option<Xoshiro256PlusPlus>> = Mutex::new(None);
const BLOCK: usize = 1 << 14;
const DEFAULT_SEED: u64 = 0x5EED_F0E1_7A0B_0001;

/// Reseeds the global generator (torch.manual_seed).
pub fn manual_seed(seed: u64) {
    *GLOBAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(Xoshiro256PlusPlus::seed_from_u64(seed));
}

/// A fresh key for one random op.
pub fn next_key() -> u64 {
    let mut g = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(|| Xoshiro256PlusPlus::seed_from_u64(DEFAULT_SEED)).next_u64()
}

fn block_rng(key: u64, block: usize) -> Xoshiro256PlusPlus {
    // SplitMix-style mixing so neighbouring blocks get unrelated streams.
    let mut z = key ^ (block as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Fills `out` block-wise with `draw(rng)`, in parallel for large buffers.
pub fn fill_with(out: &mut [f32], key: u64, draw: impl Fn(&mut Xoshiro256PlusPlus) -> f32 + Sync + Send) {
    let body = |(b, chunk): (usize, &mut [f32])| {
        let mut rng = block_rng(key, b);
        chunk.iter_mut().for_each(|x| *x = draw(&mut rng));
    };
    if out.len() > 2 * BLOCK && crate::backend::cpu::threads::begin_parallel() {
        out.par_chunks_mut(BLOCK).enumerate().for_each(body);
    } else {
        out.chunks_mut(BLOCK).enumerate().for_each(body);
    }
}

/// Uniform [0, 1) values.
pub fn uniform_vec(n: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; n];
    fill_with(&mut v, next_key(), |r| r.random::<f32>());
    v
}

/// Standard normal values.
pub fn normal_vec(n: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; n];
    fill_with(&mut v, next_key(), |r| StandardNormal.sample(r));
    v
}

pub fn rand(shape: &[usize]) -> Tensor {
    Tensor::from_vec(uniform_vec(crate::tensor::numel(shape)), shape).expect("sizes agree")
}

pub fn randn(shape: &[usize]) -> Tensor {
    Tensor::from_vec(normal_vec(crate::tensor::numel(shape)), shape).expect("sizes agree")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_moments() {
        // Explicit keys: the global generator is shared with tests running in parallel.
        let draw = |r: &mut Xoshiro256PlusPlus| StandardNormal.sample(r);
        let (mut a, mut b) = (vec![0.0f32; 100_000], vec![0.0f32; 100_000]);
        fill_with(&mut a, 7, draw);
        fill_with(&mut b, 7, draw);
        assert_eq!(a, b);
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
        let u = uniform_vec(10_000);
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
    }
}
