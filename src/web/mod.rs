//! The browser API (wasm32 only): `Recognizer` and its `Gallery`, through wasm-bindgen. Results are plain JS
//! objects; every error is a JS exception with a message. Pixels, downloads and IndexedDB go through the
//! small JS glue in `js/glue.js`.

use crate::backend::{Backend, Network, Target};
use crate::face::detect::{DetectOptions, Range};
use crate::face::{Face, LandmarkSource, Pipeline, FULL_RANGE, MOBILEFACENET, ONET, SHORT_RANGE};
use crate::frame::Rgb;
use crate::gallery::{self, sealed, Metric};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = toImageData, catch)]
    fn to_image_data(source: &JsValue) -> Result<web_sys::ImageData, JsValue>;
    #[wasm_bindgen(js_name = fetchBytes, catch)]
    async fn fetch_bytes(url: &str, file: &str, on_progress: &JsValue) -> Result<JsValue, JsValue>;
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

/// The IndexedDB database the galleries live in.
const DATABASE: &str = "localface";

fn js_error(e: crate::Error) -> JsValue {
    JsError::new(&e.to_string()).into()
}

fn message(m: impl std::fmt::Display) -> JsValue {
    JsError::new(&m.to_string()).into()
}

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
struct Settings {
    backend: Backend,
    range: Range,
    landmarks: LandmarkSource,
    metric: Metric,
    threshold: Option<f32>,
    tiles: bool,
    gallery: Option<String>,
    model_base_url: String,
    passphrase: Option<String>,
}

impl Settings {
    fn parse(options: JsValue) -> Result<Settings, JsValue> {
        let gallery = match js_sys::Reflect::get(&options, &"gallery".into()) {
            Ok(v) if v.is_null() => None,
            Ok(v) if v.is_undefined() => Some("default".to_string()),
            Ok(v) => Some(v.as_string().ok_or_else(|| message("gallery must be a string (its key) or null"))?),
            Err(_) => Some("default".to_string()),
        };
        let o: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(|e| message(format!("Recognizer options: {e}")))?
        };
        let pick = |value: Option<&str>, default: &str, what: &str, allowed: &[&str]| -> Result<String, JsValue> {
            let v = value.unwrap_or(default);
            if allowed.contains(&v) {
                Ok(v.to_string())
            } else {
                Err(message(format!("{what} '{v}': use {}", allowed.join(", "))))
            }
        };
        let backend = match pick(o.backend.as_deref(), "auto", "backend", &["auto", "cpu", "gpu"])?.as_str() {
            "gpu" => Backend::Gpu,
            "cpu" => Backend::Cpu,
            _ => Backend::Auto,
        };
        let range = match pick(o.detector.as_deref(), "short", "detector", &["short", "full"])?.as_str() {
            "full" => Range::Full,
            _ => Range::Short,
        };
        let landmarks = match pick(o.landmarks.as_deref(), "onet", "landmarks", &["onet", "blazeface"])?.as_str() {
            "blazeface" => LandmarkSource::BlazeFace,
            _ => LandmarkSource::Onet,
        };
        let metric = match pick(o.metric.as_deref(), "cosine", "metric", &["cosine", "euclidean"])?.as_str() {
            "euclidean" => Metric::Euclidean,
            _ => Metric::Cosine,
        };
        if o.threshold.is_some_and(|t| !t.is_finite()) {
            return Err(message("threshold must be a finite number"));
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
}

fn face_js(f: &Face) -> FaceJs {
    let [x, y, width, height] = f.detection.bbox;
    FaceJs {
        bbox: BoxJs { x, y, width, height },
        score: f.detection.score,
        landmarks: f.landmarks.points().into_iter().map(|[x, y]| Point { x, y }).collect(),
        name: None,
        similarity: None,
    }
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(message)
}

/// Reads any supported image source into an RGB frame.
fn frame_of(source: &JsValue) -> Result<Rgb, JsValue> {
    let image = to_image_data(source)?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    let rgba = image.data();
    if rgba.len() != w * h * 4 {
        return Err(message(format!("image data of {} bytes for {w}x{h}", rgba.len())));
    }
    let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    Rgb::new(w, h, rgb).map_err(js_error)
}

/// The key a stored gallery is encrypted with: derived once (PBKDF2 is slow on purpose) from the passphrase
/// and the salt, then used with a fresh nonce for every save.
#[derive(Clone)]
struct Seal {
    key: JsValue,
    salt: [u8; 16],
    iterations: u32,
}

impl Seal {
    async fn derive(passphrase: &str, salt: [u8; 16], iterations: u32) -> Result<Seal, JsValue> {
        Ok(Seal { key: derive_key(passphrase, &salt, iterations).await?, salt, iterations })
    }

    /// A new salt, for a gallery not yet encrypted.
    async fn fresh(passphrase: &str) -> Result<Seal, JsValue> {
        let salt = random_bytes(16).try_into().map_err(|_| message("no random salt"))?;
        Seal::derive(passphrase, salt, sealed::ITERATIONS).await
    }

    /// The sealed file of a plain gallery file.
    async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, JsValue> {
        let nonce: [u8; 12] = random_bytes(12).try_into().map_err(|_| message("no random nonce"))?;
        let mut out = sealed::header(self.iterations, &self.salt, &nonce);
        let ciphertext = encrypt(&self.key, &nonce, &out, plain).await?;
        out.extend(js_sys::Uint8Array::new(&ciphertext).to_vec());
        Ok(out)
    }
}

/// A sealed file opened with a passphrase: the plain gallery file, and the seal to save it with again.
async fn open_sealed(bytes: &[u8], passphrase: &str) -> Result<(Vec<u8>, Seal), JsValue> {
    let parts = sealed::parse(bytes).map_err(js_error)?;
    let seal = Seal::derive(passphrase, parts.salt, parts.iterations).await?;
    let plain = decrypt(&seal.key, &parts.nonce, parts.header, parts.ciphertext).await?;
    Ok((js_sys::Uint8Array::new(&plain).to_vec(), seal))
}

/// The gallery and where it is stored; shared by a recognizer and its `Gallery` object.
struct Store {
    gallery: gallery::Gallery,
    key: Option<String>,
    /// Set when the stored gallery is encrypted.
    seal: Option<Seal>,
    /// For importing encrypted files.
    passphrase: Option<String>,
    /// A change is being saved: further changes wait for it (they would overwrite it).
    saving: bool,
    /// Why the stored gallery was read from its copy in Cache Storage on loading, if it was.
    restored: Option<String>,
}

type Shared = Rc<RefCell<Store>>;

/// Applies `change` to a copy of the gallery, stores the copy, and only then makes it current: a failed save
/// (quota, closed tab) leaves memory and storage as they were.
async fn change_gallery(
    store: &Shared,
    change: impl FnOnce(&mut gallery::Gallery) -> crate::Result<()>,
) -> Result<(), JsValue> {
    let (mut next, key, seal) = {
        let s = store.borrow();
        if s.saving {
            return Err(message("a gallery change is still being saved: await it before the next"));
        }
        (s.gallery.clone(), s.key.clone(), s.seal.clone())
    };
    change(&mut next).map_err(js_error)?;
    if let Some(key) = key {
        store.borrow_mut().saving = true;
        let saved = store_bytes(&key, &next, seal.as_ref()).await;
        store.borrow_mut().saving = false;
        saved?;
    }
    store.borrow_mut().gallery = next;
    Ok(())
}

/// Writes a gallery to IndexedDB, encrypted when there is a seal.
async fn store_bytes(key: &str, gallery: &gallery::Gallery, seal: Option<&Seal>) -> Result<(), JsValue> {
    let bytes = match seal {
        Some(seal) => seal.seal(&gallery.to_bytes()).await?,
        None => gallery.to_bytes(),
    };
    save_gallery(DATABASE, key, &bytes).await.map(|_| ())
}

/// The stored gallery under `key` (empty if none), the seal to save it with when there is a passphrase, and
/// why it was read from its copy in Cache Storage rather than IndexedDB (if it was). With a passphrase, a
/// plain or missing stored gallery is stored encrypted at once.
async fn load_store(
    key: &str,
    passphrase: Option<&str>,
    dim: usize,
) -> Result<(gallery::Gallery, Option<Seal>, Option<String>), JsValue> {
    let stored = load_gallery(DATABASE, key).await?;
    // `{ bytes, restored }`, or null when nothing is stored (reading a field of null fails: None).
    let field =
        |name: &str| js_sys::Reflect::get(&stored, &name.into()).ok().filter(|v| !v.is_null() && !v.is_undefined());
    let bytes = field("bytes").map(|b| js_sys::Uint8Array::new(&b).to_vec());
    let restored = field("restored").and_then(|r| r.as_string());
    let unreadable =
        |e: String| message(format!("the stored gallery '{key}' is unreadable ({e}); import a backup or clear it"));
    if let Some(b) = bytes.as_deref().filter(|b| sealed::is_sealed(b)) {
        let p = passphrase
            .ok_or_else(|| message(format!("the stored gallery '{key}' is encrypted: give its passphrase")))?;
        let (plain, seal) = open_sealed(b, p).await?;
        let g = gallery::Gallery::from_bytes(&plain).map_err(|e| unreadable(e.to_string()))?;
        return Ok((g, Some(seal), restored));
    }
    let g = match bytes {
        Some(b) => gallery::Gallery::from_bytes(&b).map_err(|e| unreadable(e.to_string()))?,
        None => gallery::Gallery::new(dim),
    };
    let Some(p) = passphrase else { return Ok((g, None, restored)) };
    // Stored encrypted at once, so that the gallery stays locked from now on, even while empty.
    let seal = Seal::fresh(p).await?;
    store_bytes(key, &g, Some(&seal)).await?;
    Ok((g, Some(seal), restored))
}

#[wasm_bindgen]
pub struct Recognizer {
    pipeline: Pipeline,
    options: DetectOptions,
    landmarks: LandmarkSource,
    metric: Metric,
    threshold: f32,
    /// Why `auto` found no GPU to use.
    no_gpu: Option<String>,
    store: Shared,
}

#[wasm_bindgen]
impl Recognizer {
    /// Loads the models (reporting progress through `options.onProgress({file, loaded, total})`) and the stored
    /// gallery.
    pub async fn create(options: JsValue) -> Result<Recognizer, JsValue> {
        let on_progress = if options.is_object() {
            js_sys::Reflect::get(&options, &"onProgress".into()).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        };
        let settings = Settings::parse(options)?;
        let detector_file = if settings.range == Range::Full { FULL_RANGE } else { SHORT_RANGE };
        let mut bytes = Vec::new();
        for file in [detector_file, ONET, MOBILEFACENET] {
            let data = fetch_bytes(&format!("{}{file}", settings.model_base_url), file, &on_progress).await?;
            bytes.push(js_sys::Uint8Array::new(&data).to_vec());
        }
        Recognizer::build(settings, &bytes[0], &bytes[1], &bytes[2]).await
    }

    /// Like `create`, with the model files given as bytes (for apps that bundle or cache them themselves):
    /// the BlazeFace detector (short or full range, as `options.detector` says), O-Net, MobileFaceNet.
    #[wasm_bindgen(js_name = fromModels)]
    pub async fn from_models(
        detector: Vec<u8>,
        onet: Vec<u8>,
        embedder: Vec<u8>,
        options: JsValue,
    ) -> Result<Recognizer, JsValue> {
        Recognizer::build(Settings::parse(options)?, &detector, &onet, &embedder).await
    }

    async fn build(s: Settings, detector: &[u8], onet: &[u8], embedder: &[u8]) -> Result<Recognizer, JsValue> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| web_sys::console::error_1(&format!("localface: {info}").into())))
        });
        let (target, no_gpu) = Target::resolve(s.backend).await.map_err(js_error)?;
        let pipeline = Pipeline::new(detector, s.range, Some(onet), embedder, &target).await.map_err(js_error)?;
        let (gallery, seal, restored) = match &s.gallery {
            Some(key) => load_store(key, s.passphrase.as_deref(), pipeline.embedder.dim).await?,
            None => (gallery::Gallery::new(pipeline.embedder.dim), None, None),
        };
        let options = DetectOptions { tiles: s.tiles, ..pipeline.detector.default_options() };
        Ok(Recognizer {
            pipeline,
            options,
            landmarks: s.landmarks,
            metric: s.metric,
            threshold: s.threshold.unwrap_or(s.metric.default_threshold()),
            no_gpu,
            store: Rc::new(RefCell::new(Store {
                gallery,
                key: s.gallery,
                seal,
                passphrase: s.passphrase,
                saving: false,
                restored,
            })),
        })
    }

    /// Where the networks run now: "gpu" (WebGPU) or "cpu" (WebAssembly SIMD). It turns from "gpu" to "cpu"
    /// for good when the GPU fails (see `fallbackReason`).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.pipeline.kernels().name().to_string()
    }

    /// Why the recognizer runs on the CPU although it asked for the GPU (no WebGPU, no adapter, a lost
    /// device...); undefined otherwise.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.pipeline.fallback().or_else(|| self.no_gpu.clone())
    }

    /// The CPU kernels' instruction set, e.g. "wasm simd128 + relaxed-simd".
    #[wasm_bindgen(getter)]
    pub fn kernels(&self) -> String {
        crate::cpu::simd::ARCH.to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The WebAssembly memory in bytes (for watching that it does not grow).
    #[wasm_bindgen(js_name = memoryBytes)]
    pub fn memory_bytes(&self) -> f64 {
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64
    }

    async fn faces(&self, source: &JsValue) -> Result<Vec<Face>, JsValue> {
        let frame = frame_of(source)?;
        self.pipeline.faces(&frame, &self.options, self.landmarks).await.map_err(js_error)
    }

    /// Faces with box, score and landmarks, by descending score.
    pub async fn detect(&self, source: JsValue) -> Result<JsValue, JsValue> {
        let frame = frame_of(&source)?;
        let (detections, landmarks) =
            self.pipeline.detect(&frame, &self.options, self.landmarks).await.map_err(js_error)?;
        let faces: Vec<FaceJs> = detections
            .into_iter()
            .zip(landmarks)
            .map(|(detection, landmarks)| face_js(&Face { detection, landmarks, embedding: vec![] }))
            .collect();
        to_js(&faces)
    }

    /// Faces with the name of the enrolled person each is (or null) and the similarity.
    pub async fn identify(&self, source: JsValue) -> Result<JsValue, JsValue> {
        let faces = self.faces(&source).await?;
        let store = self.store.borrow();
        let out: Vec<FaceJs> = faces
            .iter()
            .map(|f| {
                let best = store.gallery.search(&f.embedding, 1, self.metric).into_iter().next();
                let name =
                    best.as_ref().filter(|m| self.metric.accepts(m.score, self.threshold)).map(|m| m.name.clone());
                FaceJs { name: Some(name), similarity: best.map(|m| m.score), ..face_js(f) }
            })
            .collect();
        to_js(&out)
    }

    /// Adds the one face of `source` to `name` (enrolling them if new) and saves the gallery.
    pub async fn enroll(&self, name: String, source: JsValue) -> Result<JsValue, JsValue> {
        let faces = self.faces(&source).await?;
        let face = match faces.len() {
            1 => &faces[0],
            0 => return Err(message("no face found: enroll needs a picture of one face")),
            n => return Err(message(format!("{n} faces found: enroll needs a picture of one face"))),
        };
        let embedding = face.embedding.clone();
        change_gallery(&self.store, |g| g.add(&name, &embedding)).await?;
        let samples = self.store.borrow().gallery.count(&name);
        #[derive(Serialize)]
        struct Enrolled {
            name: String,
            samples: usize,
            #[serde(rename = "box")]
            bbox: BoxJs,
        }
        to_js(&Enrolled { bbox: face_js(face).bbox, name, samples })
    }

    /// Whether the main (largest) faces of two images are the same person.
    pub async fn verify(&self, a: JsValue, b: JsValue) -> Result<JsValue, JsValue> {
        let (fa, fb) = (self.main_face(&a).await?, self.main_face(&b).await?);
        let similarity = self.metric.score(&fa.embedding, &fb.embedding);
        #[derive(Serialize)]
        struct Verdict {
            similarity: f32,
            same: bool,
            threshold: f32,
        }
        to_js(&Verdict { similarity, same: self.metric.accepts(similarity, self.threshold), threshold: self.threshold })
    }

    /// The largest face of an image.
    async fn main_face(&self, source: &JsValue) -> Result<Face, JsValue> {
        let faces = self.faces(source).await?;
        faces
            .into_iter()
            .max_by(|x, y| {
                (x.detection.bbox[2] * x.detection.bbox[3]).total_cmp(&(y.detection.bbox[2] * y.detection.bbox[3]))
            })
            .ok_or_else(|| message("no face found in one of the images"))
    }

    /// The enrolled people, stored in IndexedDB.
    #[wasm_bindgen(getter)]
    pub fn gallery(&self) -> Gallery {
        Gallery { store: self.store.clone() }
    }
}

/// The enrolled people. Every change is saved before it takes effect.
#[wasm_bindgen]
pub struct Gallery {
    store: Shared,
}

#[wasm_bindgen]
impl Gallery {
    /// [{ name, samples }] in enrolment order.
    pub fn people(&self) -> Result<JsValue, JsValue> {
        #[derive(Serialize)]
        struct Person {
            name: String,
            samples: usize,
        }
        let s = self.store.borrow();
        let people: Vec<Person> =
            s.gallery.names().iter().map(|n| Person { name: n.clone(), samples: s.gallery.count(n) }).collect();
        to_js(&people)
    }

    pub async fn rename(&self, from: String, to: String) -> Result<(), JsValue> {
        change_gallery(&self.store, |g| g.rename(&from, &to)).await
    }

    pub async fn remove(&self, name: String) -> Result<(), JsValue> {
        change_gallery(&self.store, |g| g.remove(&name)).await
    }

    pub async fn clear(&self) -> Result<(), JsValue> {
        change_gallery(&self.store, |g| {
            *g = gallery::Gallery::new(g.dim());
            Ok(())
        })
        .await
    }

    /// The gallery as a file (versioned and checksummed): keep it as a backup or move it to another device.
    pub fn export(&self) -> Vec<u8> {
        self.store.borrow().gallery.to_bytes()
    }

    /// The gallery is stored encrypted (a passphrase was given).
    #[wasm_bindgen(getter)]
    pub fn encrypted(&self) -> bool {
        self.store.borrow().seal.is_some()
    }

    /// Set when loading read the stored gallery from its copy in Cache Storage, because IndexedDB could not be
    /// read, had lost it (Chromium resets a database it finds corrupt) or held an older one: says which.
    #[wasm_bindgen(getter)]
    pub fn restored(&self) -> Option<String> {
        self.store.borrow().restored.clone()
    }

    /// Replaces the gallery with an exported file (plain, or encrypted with this recognizer's passphrase),
    /// after checking it whole.
    pub async fn import(&self, bytes: Vec<u8>) -> Result<(), JsValue> {
        let plain = match sealed::is_sealed(&bytes) {
            false => bytes,
            true => {
                let passphrase = self.store.borrow().passphrase.clone();
                let p = passphrase
                    .ok_or_else(|| message("the file is encrypted: create the recognizer with its passphrase"))?;
                open_sealed(&bytes, &p).await?.0
            }
        };
        let imported = gallery::Gallery::from_bytes(&plain).map_err(js_error)?;
        change_gallery(&self.store, |g| {
            if imported.dim() != g.dim() {
                return Err(crate::Error::input(format!(
                    "the file holds {}-d embeddings, this model makes {}",
                    imported.dim(),
                    g.dim()
                )));
            }
            *g = imported;
            Ok(())
        })
        .await
    }
}

/// Any .tflite model this crate can read, run directly on float32 NHWC input: for benchmarks, and for apps
/// that bring their own models.
#[wasm_bindgen]
pub struct TfliteModel {
    net: Network,
}

#[wasm_bindgen]
impl TfliteModel {
    /// A model on the CPU. `kernels`: "simd" (default) or "reference" (the scalar kernels).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], kernels: Option<String>) -> Result<TfliteModel, JsValue> {
        let target = match kernels.as_deref().unwrap_or("simd") {
            "simd" => Target::Cpu,
            "reference" => Target::Reference,
            other => return Err(message(format!("kernels '{other}': use 'simd' or 'reference'"))),
        };
        let graph = crate::model::Graph::from_tflite(bytes).map_err(js_error)?;
        Ok(TfliteModel { net: Network::new(graph, &target) })
    }

    /// A model on the GPU (WebGPU): an error where there is none.
    #[wasm_bindgen(js_name = onGpu)]
    pub async fn on_gpu(bytes: Vec<u8>) -> Result<TfliteModel, JsValue> {
        let graph = crate::model::Graph::from_tflite(&bytes).map_err(js_error)?;
        let (target, _) = Target::resolve(Backend::Gpu).await.map_err(js_error)?;
        let net = Network::load(graph, &target).await;
        match net.fallback() {
            Some(reason) => Err(message(format!("the model cannot run on the GPU: {reason}"))),
            None => Ok(TfliteModel { net }),
        }
    }

    /// Where runs go: "gpu", "cpu" or "reference".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.net.kernels().name().to_string()
    }

    /// Milliseconds per op type, averaged over `runs` runs on one input of `shape`.
    pub fn profile(&self, input: Vec<f32>, shape: Vec<u32>, runs: u32) -> Result<JsValue, JsValue> {
        let tensor = crate::model::Tensor::new(shape.iter().map(|&d| d as usize).collect(), input).map_err(js_error)?;
        let mut profile = Vec::new();
        for _ in 0..runs.max(1) {
            self.net.profile(std::slice::from_ref(&tensor), &mut profile).map_err(js_error)?;
        }
        let out = js_sys::Object::new();
        for (name, ms) in profile {
            js_sys::Reflect::set(&out, &name.into(), &(ms / runs.max(1) as f64).into())?;
        }
        Ok(out.into())
    }

    /// Runs the model on one input of `shape` (any batch); returns each output's values.
    pub async fn run(&self, input: Vec<f32>, shape: Vec<u32>) -> Result<js_sys::Array, JsValue> {
        let tensor = crate::model::Tensor::new(shape.iter().map(|&d| d as usize).collect(), input).map_err(js_error)?;
        let outputs = self.net.run(&[tensor]).await.map_err(js_error)?;
        Ok(outputs.iter().map(|t| js_sys::Float32Array::from(&t.data[..])).collect())
    }
}
