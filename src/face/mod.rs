//! The face pipeline, independent of the backend: align, embed (detect and landmarks follow).

pub mod align;
pub mod embed;
