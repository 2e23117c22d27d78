//! The browser API (wasm32 only), through wasm-bindgen: `Recognizer` (recognizer.rs) with its options
//! (options.rs) and its stored `Gallery` (store.rs), and `TfliteModel` (model.rs) for any model file.
//! Results are plain JS objects; every error is a JS `Error` whose `name` is its kind's stable name
//! (`ErrorKind::name`, listed in `js/index.d.ts`). Pixels, downloads and IndexedDB go through the small JS
//! glue in `js/glue.js`.

mod auto;
mod liveness;
mod model;
mod options;
mod panic;
mod recognizer;
mod store;

pub use auto::{remember_choice, remembered_choice};
pub use model::TfliteModel;
pub use panic::{panic_on_next_call, schedule_restart, set_panic_listener};
pub use recognizer::Recognizer;
pub use store::Gallery;

use crate::error::{Error, ErrorKind};
use crate::face::detect::Detection;
use crate::face::quality::Quality;
use crate::face::{Face, Landmarks};
use crate::frame::Rgb;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = toImageData, catch)]
    fn to_image_data(source: &JsValue) -> Result<web_sys::ImageData, JsValue>;
    #[wasm_bindgen(js_name = videoFrameSize, catch)]
    fn video_frame_size(source: &JsValue) -> Result<Option<Vec<u32>>, JsValue>;
    #[wasm_bindgen(js_name = copyVideoFrame, catch)]
    async fn copy_video_frame(frame: &JsValue, into: &js_sys::Uint8Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = fetchBytes, catch)]
    async fn fetch_bytes(url: &str, file: &str, on_progress: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = cachedModel)]
    async fn cached_model(url: &str, file: &str, on_progress: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = keepModel)]
    async fn keep_model(url: &str, bytes: &[u8]);
    #[wasm_bindgen(js_name = forgetModel)]
    async fn forget_model(url: &str);
    #[wasm_bindgen(js_name = loadGallery, catch)]
    async fn load_gallery(db: &str, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = saveGallery, catch)]
    async fn save_gallery(db: &str, key: &str, bytes: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = deriveKey, catch)]
    async fn derive_key(passphrase: &str, salt: &[u8], iterations: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn encrypt(key: &JsValue, nonce: &[u8], aad: &[u8], plain: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    async fn decrypt(key: &JsValue, nonce: &[u8], aad: &[u8], ciphertext: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = randomBytes)]
    fn random_bytes(n: u32) -> Vec<u8>;
}

/// A crate error as a JS `Error`: its message (with its context), and its kind's name as `name`.
fn js_error(e: Error) -> JsValue {
    let js = js_sys::Error::new(&e.message());
    js.set_name(e.kind().name());
    js.into()
}

/// A JS `Error` of a kind, for errors found here in the web layer.
fn error(kind: ErrorKind, message: impl Into<String>) -> JsValue {
    js_error(Error::new(kind, message))
}

#[derive(Serialize)]
struct Point {
    x: f32,
    y: f32,
}

#[derive(Serialize)]
struct BoxJs {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

#[derive(Serialize)]
struct FaceJs {
    #[serde(rename = "box")]
    bbox: BoxJs,
    score: f32,
    landmarks: Vec<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<QualityJs>,
}

fn face_js(detection: &Detection, landmarks: &Landmarks) -> FaceJs {
    let [x, y, width, height] = detection.bbox;
    FaceJs {
        bbox: BoxJs { x, y, width, height },
        score: detection.score,
        landmarks: landmarks.points().into_iter().map(|[x, y]| Point { x, y }).collect(),
        name: None,
        similarity: None,
        quality: None,
    }
}

/// A face that was also embedded: with its quality.
fn embedded_face_js(f: &Face) -> FaceJs {
    FaceJs { quality: Some(QualityJs::of(&f.quality)), ..face_js(&f.detection, &f.landmarks) }
}

/// A face's quality measures, its score (0-1) and what keeps it from being enrolled.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QualityJs {
    score: f32,
    eye_distance: f32,
    sharpness: f32,
    yaw: f32,
    pitch: f32,
    brightness: f32,
    contrast: f32,
    problems: Vec<&'static str>,
}

impl QualityJs {
    fn of(q: &Quality) -> QualityJs {
        QualityJs {
            score: q.score(),
            eye_distance: q.eye_distance,
            sharpness: q.sharpness,
            yaw: q.yaw,
            pitch: q.pitch,
            brightness: q.brightness,
            contrast: q.contrast,
            problems: q.problems().into_iter().map(|p| p.name()).collect(),
        }
    }
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| error(ErrorKind::Input, e.to_string()))
}

/// Reads any supported image source into an RGB frame. Encoded bytes (a Uint8Array or Node.js Buffer of
/// JPEG, PNG or WebP) are decoded by the core, in every environment; a VideoFrame is converted to RGBA by the
/// browser straight into wasm memory; any other source is drawn and read back as ImageData (`toImageData`).
async fn frame_of(source: &JsValue) -> Result<Rgb, JsValue> {
    if let Some(encoded) = source.dyn_ref::<js_sys::Uint8Array>() {
        return crate::frame::decode(&encoded.to_vec()).map_err(js_error);
    }
    let (w, h, rgba) = match video_frame_size(source)?.as_deref() {
        Some(&[w, h]) => (w as usize, h as usize, video_frame_rgba(source, w as usize * h as usize * 4).await?),
        Some(size) => return Err(error(ErrorKind::Input, format!("video frame size {size:?}: not [width, height]"))),
        None => {
            let image = to_image_data(source)?;
            (image.width() as usize, image.height() as usize, image.data().0)
        }
    };
    rgb_frame(w, h, rgba)
}

/// A VideoFrame's `len` bytes of RGBA, copied once: by the browser, into a Vec it views.
async fn video_frame_rgba(frame: &JsValue, len: usize) -> Result<Vec<u8>, JsValue> {
    let mut rgba = vec![0u8; len];
    // SAFETY: the view covers `rgba`, which outlives it and which nothing else touches while the copy runs
    // (wasm-bindgen's exported futures are run to the end, never dropped half way).
    let view = unsafe { js_sys::Uint8Array::view_mut_raw(rgba.as_mut_ptr(), len) };
    let copy = copy_video_frame(frame, &view).await?;
    // Memory grew during the copy and detached the view: the pixels came back in an array of their own.
    if let Some(copy) = copy.dyn_ref::<js_sys::Uint8Array>() {
        if copy.length() as usize != len {
            return Err(error(ErrorKind::Input, format!("{} bytes of video frame for {len}", copy.length())));
        }
        copy.copy_to(&mut rgba);
    }
    Ok(rgba)
}

/// An RGB frame of `w`x`h` RGBA pixels, dropping alpha in place (each pixel moves down to 3 bytes, never
/// past one not yet read): no second frame-sized buffer.
fn rgb_frame(w: usize, h: usize, mut rgba: Vec<u8>) -> Result<Rgb, JsValue> {
    let pixels = w * h;
    if rgba.len() != pixels * 4 {
        return Err(error(ErrorKind::Input, format!("image data of {} bytes for {w}x{h}", rgba.len())));
    }
    for i in 0..pixels {
        let [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
        rgba[3 * i..3 * i + 3].copy_from_slice(&[r, g, b]);
    }
    rgba.truncate(pixels * 3);
    Rgb::new(w, h, rgba).map_err(js_error)
}
