//! CPU kernels over `&[f32]` + `Layout`. Large loops go parallel with rayon above
//! `PAR_THRESHOLD` elements; below it the thread hand-off costs more than it saves.

pub mod elementwise;
pub mod index;
pub mod batchnorm;
pub mod conv;
pub mod math;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod softmax;
pub mod strided;
pub mod threads;
pub mod transpose;

/// Elements below which a loop stays on one thread. Splitting also moves data between cores:
/// in a training step the operands are fresh in the calling core's cache, and the other
/// core's half must travel there and back (with the workers awake, an Adam step over 25k
/// parameters went from 31 to 48 µs split, a 2 MFLOP product over a just-gathered batch lost
/// too). When the workers slept, `exp` of 32k elements took 63 µs on one thread and 103 on two,
/// 131k elements 238 and 156.
pub const PAR_THRESHOLD: usize = 1 << 16;
/// Whether a loop over `n` elements goes parallel: at least `PAR_THRESHOLD` of them, and more
/// than one thread in the pool (with one, rayon would still hand each loop from the calling
/// thread to its single worker and back: the optimizer step of a 60-row MLP took 155 µs that
/// way instead of 35).
pub fn parallel(n: usize) -> bool {
    n >= PAR_THRESHOLD && threads::begin_parallel()
}

/// Elements per parallel chunk.
pub const PAR_CHUNK: usize = 1 << 13;
