//! One error type for the whole crate: a kind (what went wrong, for code to branch on), a message, and a
//! chain of context added on the way out ("operator 3 (CONV_2D)", a file's path), as candle's and anyhow's
//! errors carry it. Context is kept as data, so nothing is ever parsed back out of a message.

use std::fmt;

/// What went wrong. Each kind has a stable name for JavaScript (`name`) and, for the command-line tool's
/// messages, the word of the input at fault (`tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A model file that is malformed, hostile or uses something we do not support.
    Model,
    /// A tensor, frame, image or value given to us that we cannot use.
    Input,
    /// An option with a value we do not know.
    Option,
    /// No face where one was needed.
    NoFace,
    /// Several faces where exactly one was needed (enrolment).
    ManyFaces,
    /// A face too small, blurred, turned away or badly lit to enrol (`face::quality`).
    PoorShot,
    /// A gallery file that is not one, is damaged, or holds embeddings of another model.
    GalleryCorrupt,
    /// An encrypted gallery without its passphrase, or with a wrong one.
    GalleryLocked,
    /// A gallery change was asked for while the one before it was still being saved.
    GalleryBusy,
    /// A name that is not enrolled (rename, remove).
    UnknownPerson,
    /// A name that is already enrolled (rename).
    NameTaken,
    /// Reading or writing a file failed.
    Io,
    /// The GPU backend is unavailable or failed (no adapter, device lost, out of memory).
    Gpu,
}

impl ErrorKind {
    /// The stable name JavaScript sees as `error.name` (documented in `index.d.ts`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Model => "ModelInvalid",
            ErrorKind::Input => "InputInvalid",
            ErrorKind::Option => "OptionInvalid",
            ErrorKind::NoFace => "NoFace",
            ErrorKind::ManyFaces => "ManyFaces",
            ErrorKind::PoorShot => "PoorShot",
            ErrorKind::GalleryCorrupt => "GalleryCorrupt",
            ErrorKind::GalleryLocked => "GalleryLocked",
            ErrorKind::GalleryBusy => "GalleryBusy",
            ErrorKind::UnknownPerson => "UnknownPerson",
            ErrorKind::NameTaken => "NameTaken",
            ErrorKind::Io => "IoFailed",
            ErrorKind::Gpu => "GpuFailed",
        }
    }

    /// The word that starts the message: which input was at fault ("model", "input", "io", "gpu").
    fn tag(self) -> &'static str {
        match self {
            ErrorKind::Model => "model",
            ErrorKind::Io => "io",
            ErrorKind::Gpu => "gpu",
            _ => "input",
        }
    }
}

/// An error: its kind, what happened, and where (context, innermost first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    context: Vec<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), context: Vec::new() }
    }

    pub fn model(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Model, message)
    }

    pub fn input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input, message)
    }

    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }

    pub fn gpu(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Gpu, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Adds where the error happened, outside what is already there.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.context.push(context.to_string());
        self
    }

    /// The same error, judged as another kind (a model's own declared input that does not fit is the
    /// model's fault, not the caller's).
    pub(crate) fn into_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    /// The context, outermost first, then the message, without the kind's word: what a user reads beside
    /// the kind's name.
    pub fn message(&self) -> String {
        let mut parts: Vec<&str> = self.context.iter().rev().map(String::as_str).collect();
        parts.push(&self.message);
        parts.join(": ")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.tag(), self.message())
    }
}

impl std::error::Error for Error {}

/// `.context(...)` on results, as anyhow has it.
pub trait Context<T> {
    fn context(self, context: impl fmt::Display) -> Result<T>;
    /// The context is only built when there is an error.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}

/// An option's value that is not one of `allowed`: one wording for the command line and the web API.
pub(crate) fn unknown_choice(what: &str, value: &str, allowed: &[&str]) -> Error {
    Error::new(ErrorKind::Option, format!("{what} '{value}': use {}", allowed.join(", ")))
}

/// Shorthand for a model error, used all over the reader and the rewrites.
pub(crate) fn model_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::model(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_reads_outermost_first_after_the_kind() {
        let e = Error::model("filter of shape [3]").context("operator 3 (CONV_2D)").context("face.tflite");
        assert_eq!(e.kind(), ErrorKind::Model);
        assert_eq!(e.message(), "face.tflite: operator 3 (CONV_2D): filter of shape [3]");
        assert_eq!(e.to_string(), "model: face.tflite: operator 3 (CONV_2D): filter of shape [3]");
        let r: Result<()> = Err(Error::new(ErrorKind::GalleryLocked, "wrong passphrase"));
        let e = r.with_context(|| "g.lfg").unwrap_err();
        assert_eq!((e.kind().name(), e.to_string().as_str()), ("GalleryLocked", "input: g.lfg: wrong passphrase"));
    }
}
