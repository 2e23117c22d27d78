//! The options of `Recognizer.create`, checked once, with their defaults.

use super::{error, js_error};
use crate::backend::Backend;
use crate::error::ErrorKind;
use crate::face::detect::Range;
use crate::face::LandmarkSource;
use crate::gallery::Metric;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// Options of `Recognizer.create`; `onProgress` is read apart, being a function.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Options {
    /// "auto" (default), "cpu" or "gpu".
    backend: Option<String>,
    /// Where the .tflite files are; the package's own models/ folder by default.
    model_base_url: Option<String>,
    /// "short" (default) or "full".
    detector: Option<String>,
    /// "onet" (default) or "blazeface".
    landmarks: Option<String>,
    /// "cosine" (default) or "euclidean".
    metric: Option<String>,
    threshold: Option<f32>,
    /// Cut large frames into tiles to find small faces (default false: live video wants speed).
    tiles: Option<bool>,
    /// Encrypts the stored gallery (AES-256-GCM, key from PBKDF2); needed to read it back.
    passphrase: Option<String>,
    // `gallery` (the IndexedDB key, or null for memory only) is read apart: serde cannot tell null from absent.
}

/// Options, checked and with their defaults.
pub(super) struct Settings {
    pub(super) backend: Backend,
    pub(super) range: Range,
    pub(super) landmarks: LandmarkSource,
    pub(super) metric: Metric,
    pub(super) threshold: Option<f32>,
    pub(super) tiles: bool,
    pub(super) gallery: Option<String>,
    pub(super) model_base_url: String,
    pub(super) passphrase: Option<String>,
}

impl Settings {
    pub(super) fn parse(options: JsValue) -> Result<Settings, JsValue> {
        let gallery = match js_sys::Reflect::get(&options, &"gallery".into()) {
            Ok(v) if v.is_null() => None,
            Ok(v) if v.is_undefined() => Some("default".to_string()),
            Ok(v) => Some(
                v.as_string().ok_or_else(|| error(ErrorKind::Option, "gallery must be a string (its key) or null"))?,
            ),
            Err(_) => Some("default".to_string()),
        };
        let o: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| error(ErrorKind::Option, format!("Recognizer options: {e}")))?
        };
        // Each option's words are parsed by its type's own rule, the one the command-line tool uses too.
        let choice = |value: Option<String>, default: &str| value.unwrap_or_else(|| default.to_string());
        let backend: Backend = choice(o.backend, "auto").parse().map_err(js_error)?;
        let range: Range = choice(o.detector, "short").parse().map_err(js_error)?;
        let landmarks: LandmarkSource = choice(o.landmarks, "onet").parse().map_err(js_error)?;
        let metric: Metric = choice(o.metric, "cosine").parse().map_err(js_error)?;
        if o.threshold.is_some_and(|t| !t.is_finite()) {
            return Err(error(ErrorKind::Option, "threshold must be a finite number"));
        }
        let base = o.model_base_url.unwrap_or_else(|| "models/".into());
        Ok(Settings {
            backend,
            range,
            landmarks,
            metric,
            threshold: o.threshold,
            tiles: o.tiles.unwrap_or(false),
            gallery,
            model_base_url: if base.ends_with('/') { base } else { format!("{base}/") },
            passphrase: o.passphrase.filter(|p| !p.is_empty()),
        })
    }
}
