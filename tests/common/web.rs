//! Helpers of the browser tests (tests/web.rs, tests/web_gpu.rs): JS values in and out, ImageData of photos.
#![allow(dead_code)] // each test crate uses part of it

use wasm_bindgen::{JsCast, JsValue};

pub fn error_text(e: JsValue) -> String {
    e.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|v| format!("{v:?}"))
}

/// The text of an error that must be of kind `name` (its JS `name`, stable for apps to branch on).
pub fn failed_as(e: JsValue, name: &str) -> String {
    let got = js_sys::Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    let text = error_text(e);
    assert_eq!(got, name, "{text}");
    text
}

pub fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

pub fn array(v: JsValue) -> Vec<JsValue> {
    js_sys::Array::from(&v).iter().collect()
}

/// An ImageData holding a copy of `rgba` (a view into wasm memory would dangle once the Vec is dropped).
pub fn rgba_image(rgba: &[u8], w: u32, h: u32) -> JsValue {
    let copy = js_sys::Uint8ClampedArray::from(rgba);
    web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(&copy, w, h).unwrap().into()
}

/// An ImageData of a decoded photo.
pub fn image_data(bytes: &[u8]) -> JsValue {
    let frame = localface::frame::decode(bytes).unwrap();
    let rgba: Vec<u8> = frame.data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    rgba_image(&rgba, frame.width as u32, frame.height as u32)
}
