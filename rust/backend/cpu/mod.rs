//! CPU kernels over `&[f32]` + `Layout`. Large loops go parallel with rayon above
//! `PAR_THRESHOLD` elements; below it the thread hand-off costs more than it saves.

pub mod elementwise;
pub mod index;
pub mod batchnorm;
pub mod conv;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod softmax;
pub mod strided;

/// Elements below which a loop stays on one thread.
pub const PAR_THRESHOLD: usize = 1 << 15;
/// Elements per parallel chunk.
pub const PAR_CHUNK: usize = 1 << 13;
