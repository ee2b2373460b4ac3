//! ferrograd: float32 tensors with reverse-mode autograd, on a CPU backend built from
//! ndarray, rayon and the `gemm` crate.
//!
//! Imports only run downwards: `py` → `optim` → `ops` → `autograd` → `tensor` → `backend`.
//! `autograd` knows no op; every op in `ops/` holds its forward and its backward rule, the rule
//! written in tensor ops so it runs unchanged on any backend.
//!
//! ```
//! use ferrograd::Tensor;
//! let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap().requires_grad(true);
//! let y = x.mul(&x).unwrap().sum_all().unwrap();
//! y.backward(None, false).unwrap();
//! assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 4.0, 6.0]);
//! ```

pub mod autograd;
pub mod backend;
pub mod error;
pub mod io;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod random;
pub mod tensor;

#[cfg(feature = "python")]
mod py;

/// The Python module allocates through mimalloc (see Cargo.toml).
#[cfg(feature = "python")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use autograd::{is_grad_enabled, set_grad_enabled, NoGradGuard};
pub use error::{Error, Result};
pub use tensor::{Device, Layout, Tensor};
