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
    /// Where the user's own .tflite files are (not checked against the default models).
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
    /// "MobileFaceNet" (default) or "fr_feature" (`face::embed::SPECS`).
    embedder: Option<String>,
    /// Where the embedder's file is, when not with the other models (fr_feature is not in the package).
    embedder_url: Option<String>,
    // `gallery` (the IndexedDB key, or null for memory only) is read apart: serde cannot tell null from absent.
    // So is `packageModels` (set by the package's index.js: file name to URL, or to a function reading the
    // file in Node.js), which holds functions.
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
    pub(super) models: Models,
    pub(super) passphrase: Option<String>,
    /// The embedder's file name, and where to fetch it from when not with the other models.
    pub(super) embedder: &'static str,
    pub(super) embedder_url: Option<String>,
}

/// Where `Recognizer.create` fetches the models from.
pub(super) enum Models {
    /// The user's own, under this base URL (ending in /): not checked.
    Own(String),
    /// The package's (`packageModels`: by file name, a URL or a function that reads the file; where the
    /// package's index.js did not say, under models/ beside the page): checked against the default models'
    /// sha256.
    Package(JsValue),
}

/// Where one model file's bytes come from.
pub(super) enum ModelSource {
    Url(String),
    /// A function resolving to the file's bytes (Node.js, which cannot fetch files).
    Read(js_sys::Function),
}

impl Models {
    /// Where a model file comes from, and whether its bytes are checked against the default models'.
    pub(super) fn source(&self, file: &str) -> (ModelSource, bool) {
        match self {
            Models::Own(base) => (ModelSource::Url(format!("{base}{file}")), false),
            Models::Package(files) => {
                let given = js_sys::Reflect::get(files, &file.into()).unwrap_or(JsValue::UNDEFINED);
                let source = match (given.as_string(), given.dyn_into::<js_sys::Function>()) {
                    (Some(url), _) => ModelSource::Url(url),
                    (None, Ok(read)) => ModelSource::Read(read),
                    (None, Err(_)) => ModelSource::Url(format!("models/{file}")),
                };
                (source, true)
            }
        }
    }
}

impl Settings {
    pub(super) fn parse(options: JsValue) -> Result<Settings, JsValue> {
        // Where there is no IndexedDB (Node.js), the gallery lives in memory unless a key is given.
        let stored = js_sys::Reflect::has(&js_sys::global(), &"indexedDB".into()).unwrap_or(false);
        let default_gallery = stored.then(|| "default".to_string());
        let gallery = match js_sys::Reflect::get(&options, &"gallery".into()) {
            Ok(v) if v.is_null() => None,
            Ok(v) if v.is_undefined() => default_gallery,
            Ok(v) => Some(
                v.as_string().ok_or_else(|| error(ErrorKind::Option, "gallery must be a string (its key) or null"))?,
            ),
            Err(_) => default_gallery,
        };
        let package_models = js_sys::Reflect::get(&options, &"packageModels".into()).unwrap_or(JsValue::UNDEFINED);
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
        let embedder = crate::face::embed::Spec::named(&choice(o.embedder, "MobileFaceNet")).map_err(js_error)?.file;
        if o.threshold.is_some_and(|t| !t.is_finite()) {
            return Err(error(ErrorKind::Option, "threshold must be a finite number"));
        }
        let models = match o.model_base_url {
            Some(base) if base.ends_with('/') => Models::Own(base),
            Some(base) => Models::Own(format!("{base}/")),
            None => Models::Package(package_models),
        };
        Ok(Settings {
            backend,
            range,
            landmarks,
            metric,
            threshold: o.threshold,
            tiles: o.tiles.unwrap_or(false),
            gallery,
            models,
            passphrase: o.passphrase.filter(|p| !p.is_empty()),
            embedder,
            embedder_url: o.embedder_url,
        })
    }
}
