//! One error type for the whole crate: each variant says which kind of input was at fault.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A model file that is malformed, hostile or uses something we do not support.
    Model(String),
    /// A tensor, frame or image given to us that we cannot use.
    Input(String),
    /// Reading or writing a file failed.
    Io(String),
    /// The GPU backend is unavailable or failed (no adapter, device lost, out of memory).
    Gpu(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Model(m) => write!(f, "model: {m}"),
            Error::Input(m) => write!(f, "input: {m}"),
            Error::Io(m) => write!(f, "io: {m}"),
            Error::Gpu(m) => write!(f, "gpu: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for a model error, used all over the reader and the rewrites.
pub(crate) fn model_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Model(msg.into()))
}
