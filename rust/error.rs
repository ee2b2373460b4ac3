//! One error type for the whole crate. The Python bindings map each variant to one Python
//! exception class (`py/errors.rs`), so the variant is chosen by what the user did wrong.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Shapes that do not fit together (→ ValueError).
    Shape(String),
    /// A bad argument value: out-of-range dim, negative size, ... (→ ValueError).
    Value(String),
    /// An index outside a dimension (→ IndexError, which also ends Python iteration).
    Index(String),
    /// An argument of the wrong kind (→ TypeError).
    Type(String),
    /// Tensors on different devices, or an unavailable device (→ RuntimeError).
    Device(String),
    /// Autograd misuse and other run-time failures (→ RuntimeError).
    Runtime(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m) | Error::Value(m) | Error::Index(m) | Error::Type(m) | Error::Device(m) | Error::Runtime(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for Error {}

/// `shape_err!("matmul", "...{}", x)` builds an `Error::Shape` whose message starts with the op.
#[macro_export]
macro_rules! shape_err {
    ($op:expr, $($arg:tt)*) => { $crate::error::Error::Shape(format!("{}: {}", $op, format!($($arg)*))) };
}

#[macro_export]
macro_rules! value_err {
    ($op:expr, $($arg:tt)*) => { $crate::error::Error::Value(format!("{}: {}", $op, format!($($arg)*))) };
}
