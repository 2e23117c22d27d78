//! `backend: 'auto'` in the browser: `Target::auto`, with its timing kept in the page's storage (IndexedDB)
//! per browser, adapter and embedder, so that only the first page of a machine pays for it. A new browser
//! version, another adapter or another embedder model has another key, and is timed afresh.

use crate::backend::{Choice, Target};
use crate::model::Graph;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = adapterKey, catch)]
    async fn adapter_key() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = loadChoice)]
    async fn load_choice(key: &str) -> JsValue;
    #[wasm_bindgen(js_name = saveChoice)]
    async fn save_choice(key: &str, value: &str);
}

/// The target of `auto`, from the remembered choice for this browser, adapter and embedder, else timed
/// (and remembered).
pub(super) async fn auto_target(embedder_bytes: &[u8]) -> (Target, Choice) {
    let adapter = adapter_key().await.ok().and_then(|k| k.as_string());
    let key = adapter.map(|a| format!("{a}|embedder {:016x}", fnv1a(embedder_bytes)));
    let remembered = match &key {
        Some(k) => remembered_choice(k).await,
        None => None,
    };
    let (target, choice) = Target::auto(|| Graph::from_model_file(embedder_bytes), remembered).await;
    if let (Some(k), true, false) = (&key, choice.measured(), choice.remembered) {
        remember_choice(k, &choice).await;
    }
    (target, choice)
}

/// The choice remembered under `key`, if any (and readable).
pub async fn remembered_choice(key: &str) -> Option<Choice> {
    load_choice(key).await.as_string().and_then(|json| serde_json::from_str(&json).ok())
}

/// Keeps a choice under `key` (a storage that fails only costs a timing next time).
pub async fn remember_choice(key: &str, choice: &Choice) {
    if let Ok(json) = serde_json::to_string(choice) {
        save_choice(key, &json).await;
    }
}

/// 64-bit FNV-1a: which embedder the choice was timed with (not a security measure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}
