//! `Recognizer`: the models loaded once, then detect, identify, enroll and verify on any image source.

use super::auto::auto_target;
use super::options::{ModelSource, Settings};
use super::panic::forced_panic_point;
use super::store::{change_gallery, Gallery, Shared, Store};
use super::{cached_model, fetch_bytes, forget_model, keep_model};
use super::{embedded_face_js, error, face_js, frame_of, js_error, to_js, BoxJs, FaceJs, QualityJs};
use crate::backend::{Backend, Choice, Target};
use crate::error::ErrorKind;
use crate::face::challenge::Challenge;
use crate::face::cues::CueModels;
use crate::face::detect::{DetectOptions, Range};
use crate::face::live::{name_faces, TrackedFace};
use crate::face::liveness::Liveness;
use crate::face::track::{Judge, Tracker, TrackerConfig};
use crate::face::{self, Face, LandmarkSource, Pipeline, FULL_RANGE, ONET, SHORT_RANGE};
use crate::frame::Rgb;
use crate::gallery::Metric;
use crate::model::{known, Graph};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Recognizer {
    pub(super) pipeline: Pipeline,
    pub(super) options: DetectOptions,
    pub(super) landmarks: LandmarkSource,
    metric: Metric,
    threshold: f32,
    /// What `auto` chose and why (none for a backend asked for by name).
    choice: Option<Choice>,
    store: Shared,
    /// The live tracks (`track`), with the gallery generation their names were decided against; taken out
    /// while a frame is being tracked.
    tracker: RefCell<Option<(Tracker, u64)>>,
    /// The anti-spoofing model, once `loadLiveness` has given it.
    pub(super) liveness: RefCell<Option<Rc<Liveness>>>,
    /// The eye-state and head-pose models, once `loadChallenge` has given them, and the challenge under way.
    pub(super) cues: RefCell<Option<Rc<CueModels>>>,
    pub(super) challenge: RefCell<Option<Challenge>>,
}

#[wasm_bindgen]
impl Recognizer {
    /// Loads the models (reporting progress through `options.onProgress({file, loaded, total})`) and the stored
    /// gallery.
    pub async fn create(options: JsValue) -> Result<Recognizer, JsValue> {
        forced_panic_point("Recognizer.create");
        let on_progress = if options.is_object() {
            js_sys::Reflect::get(&options, &"onProgress".into()).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        };
        let settings = Settings::parse(options)?;
        let detector_file = if settings.range == Range::Full { FULL_RANGE } else { SHORT_RANGE };
        let mut bytes = Vec::new();
        for file in [detector_file, ONET, settings.embedder] {
            bytes.push(model_bytes(&settings, file, &on_progress).await?);
        }
        Recognizer::build(settings, &bytes[0], &bytes[1], &bytes[2]).await
    }

    /// Like `create`, with the model files given as bytes (for apps that bundle or cache them themselves):
    /// the BlazeFace detector (short or full range, as `options.detector` says), O-Net, the embedder
    /// (MobileFaceNet, or fr_feature.onnx: which one, its bytes say).
    #[wasm_bindgen(js_name = fromModels)]
    pub async fn from_models(
        detector: Vec<u8>,
        onet: Vec<u8>,
        embedder: Vec<u8>,
        options: JsValue,
    ) -> Result<Recognizer, JsValue> {
        forced_panic_point("Recognizer.fromModels");
        Recognizer::build(Settings::parse(options)?, &detector, &onet, &embedder).await
    }

    async fn build(s: Settings, detector: &[u8], onet: &[u8], embedder: &[u8]) -> Result<Recognizer, JsValue> {
        let (target, choice) = match s.backend {
            Backend::Auto => {
                let (target, choice) = auto_target(embedder).await;
                (target, Some(choice))
            }
            other => (Target::resolve(other, || Graph::from_model_file(embedder)).await.map_err(js_error)?.0, None),
        };
        let pipeline = Pipeline::new(detector, s.range, Some(onet), embedder, &target).await.map_err(js_error)?;
        let embedder = &pipeline.embedder;
        let store = Store::open(s.gallery, s.passphrase, embedder.dim, &embedder.name).await?;
        let threshold = s.threshold.unwrap_or(s.metric.threshold_of(embedder.spec.cosine_threshold));
        let options = DetectOptions { tiles: s.tiles, ..pipeline.detector.default_options() };
        Ok(Recognizer {
            pipeline,
            options,
            landmarks: s.landmarks,
            metric: s.metric,
            threshold,
            choice,
            store: Rc::new(RefCell::new(store)),
            tracker: RefCell::new(Some((Tracker::new(TrackerConfig::default()), 0))),
            liveness: RefCell::new(None),
            cues: RefCell::new(None),
            challenge: RefCell::new(None),
        })
    }

    /// Where the networks run now: "gpu" (WebGPU) or "cpu" (WebAssembly SIMD). It turns from "gpu" to "cpu"
    /// for good when the GPU fails (see `fallbackReason`).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        forced_panic_point("Recognizer.backend");
        self.pipeline.kernels().name().to_string()
    }

    /// Why the recognizer runs on the CPU although it could have used the GPU (no WebGPU, no adapter, the
    /// CPU was faster, a lost device...); undefined otherwise.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        forced_panic_point("Recognizer.fallbackReason");
        let not_chosen = self.choice.as_ref().filter(|c| !c.gpu).map(|c| c.reason.clone());
        self.pipeline.fallback().or(not_chosen)
    }

    /// What `backend: 'auto'` chose and why: `{ gpu, gpuMs, cpuMs, reason, remembered }` (the embedder's
    /// time per face on each, where timed); undefined for a backend asked for by name.
    #[wasm_bindgen(getter, js_name = backendChoice)]
    pub fn backend_choice(&self) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.backendChoice");
        match &self.choice {
            Some(c) => to_js(c),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// The CPU kernels' instruction set, e.g. "wasm simd128 + relaxed-simd".
    #[wasm_bindgen(getter)]
    pub fn kernels(&self) -> String {
        forced_panic_point("Recognizer.kernels");
        crate::cpu::simd::arch().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> f32 {
        forced_panic_point("Recognizer.threshold");
        self.threshold
    }

    /// The WebAssembly memory in bytes (for watching that it does not grow).
    #[wasm_bindgen(js_name = memoryBytes)]
    pub fn memory_bytes(&self) -> f64 {
        forced_panic_point("Recognizer.memoryBytes");
        let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
        js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64
    }

    async fn faces(&self, source: &JsValue) -> Result<Vec<Face>, JsValue> {
        self.faces_in(&frame_of(source).await?).await
    }

    async fn faces_in(&self, frame: &Rgb) -> Result<Vec<Face>, JsValue> {
        self.pipeline.faces(frame, &self.options, self.landmarks).await.map_err(js_error)
    }

    /// Faces with box, score and landmarks, by descending score.
    pub async fn detect(&self, source: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.detect");
        let frame = frame_of(&source).await?;
        let (detections, landmarks) =
            self.pipeline.detect(&frame, &self.options, self.landmarks).await.map_err(js_error)?;
        let faces: Vec<FaceJs> = detections
            .into_iter()
            .zip(landmarks)
            .map(|(detection, landmarks)| face_js(&detection, &landmarks))
            .collect();
        to_js(&faces)
    }

    /// Faces with the name of the enrolled person each is (or null) and the similarity.
    pub async fn identify(&self, source: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.identify");
        let faces = self.faces(&source).await?;
        let store = self.store.borrow();
        let out: Vec<FaceJs> = faces
            .iter()
            .map(|f| {
                let who = store.gallery.identify(&f.embedding, self.metric, self.threshold, 1);
                FaceJs { similarity: who.score(), name: Some(who.name), ..embedded_face_js(f) }
            })
            .collect();
        to_js(&out)
    }

    /// One frame of a video: the faces in view, each with the id of its track (kept while the face stays in
    /// view), its name decided from all the track's embeddings (`settled` once it has held), its similarity
    /// and this frame's quality. Detects the whole frame only on a schedule or when a face is lost, and
    /// embeds a face only when its name needs it: much cheaper per frame than `identify`.
    pub async fn track(&self, source: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.track");
        let frame = frame_of(&source).await?;
        let busy = || error(ErrorKind::Input, "track() is still running: await it before the next frame");
        let (mut tracker, generation) = self.tracker.borrow_mut().take().ok_or_else(busy)?;
        let result = self.pipeline.track(&mut tracker, &frame, &self.options, self.landmarks).await;
        let store = self.store.borrow();
        if store.generation != generation {
            // People were enrolled, renamed or removed: every track decides its name again.
            tracker.forget_names();
        }
        let faces = result.map(|(shots, _)| {
            let judge = Judge { gallery: &store.gallery, metric: self.metric, threshold: self.threshold };
            name_faces(&mut tracker, shots, &judge)
        });
        *self.tracker.borrow_mut() = Some((tracker, store.generation));
        let tracked: Vec<TrackedJs> = faces.map_err(js_error)?.iter().map(tracked_js).collect();
        to_js(&tracked)
    }

    /// Forgets the tracks (a new video, or the camera was switched).
    #[wasm_bindgen(js_name = resetTracks)]
    pub fn reset_tracks(&self) {
        forced_panic_point("Recognizer.resetTracks");
        if let Some((tracker, _)) = self.tracker.borrow_mut().as_mut() {
            *tracker = Tracker::new(tracker.config);
        }
    }

    /// Adds the one face of `source` to `name` (enrolling them if new), with its masked and dark-glasses
    /// templates (`Pipeline::templates`), and saves the gallery. A poor shot (too small, blurred, turned
    /// away, badly lit) is refused with `PoorShot`, saying why.
    pub async fn enroll(&self, name: String, source: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.enroll");
        let frame = frame_of(&source).await?;
        let faces = self.faces_in(&frame).await?;
        let face = match faces.len() {
            1 => &faces[0],
            0 => return Err(error(ErrorKind::NoFace, "no face found: enroll needs a picture of one face")),
            n => {
                return Err(error(ErrorKind::ManyFaces, format!("{n} faces found: enroll needs a picture of one face")))
            }
        };
        face.quality.check().map_err(js_error)?;
        let templates = self.pipeline.templates(&frame, face).await.map_err(js_error)?;
        change_gallery(&self.store, |g| g.enrol(&name, &templates)).await?;
        let samples = self.store.borrow().gallery.count(&name);
        #[derive(Serialize)]
        struct Enrolled {
            name: String,
            samples: usize,
            #[serde(rename = "box")]
            bbox: BoxJs,
        }
        to_js(&Enrolled { bbox: face_js(&face.detection, &face.landmarks).bbox, name, samples })
    }

    /// Whether the main (largest) faces of two images are the same person.
    pub async fn verify(&self, a: JsValue, b: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.verify");
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
        face::largest(faces).ok_or_else(|| error(ErrorKind::NoFace, "no face found in one of the images"))
    }

    /// The enrolled people, stored in IndexedDB.
    #[wasm_bindgen(getter)]
    pub fn gallery(&self) -> Gallery {
        forced_panic_point("Recognizer.gallery");
        Gallery { store: self.store.clone() }
    }
}

/// A tracked face as JS sees it: a face with its track id and whether its name is settled.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrackedJs {
    track_id: u32,
    settled: bool,
    #[serde(flatten)]
    face: FaceJs,
}

fn tracked_js(t: &TrackedFace) -> TrackedJs {
    let face = FaceJs {
        name: Some(t.name.clone()),
        similarity: t.similarity,
        quality: Some(QualityJs::of(&t.quality)),
        ..face_js(&t.detection, &t.landmarks)
    };
    TrackedJs { track_id: t.track_id, settled: t.settled, face }
}

/// A model file's bytes, fetched (or read, in Node.js), and checked against the default models' sha256 when
/// they are the package's.
async fn model_bytes(settings: &Settings, file: &str, on_progress: &JsValue) -> Result<Vec<u8>, JsValue> {
    let source = match &settings.embedder_url {
        Some(url) if file == settings.embedder => (ModelSource::Url(url.clone()), true),
        _ => settings.models.source(file),
    };
    match source {
        (ModelSource::Url(url), true) => package_model(&url, file, on_progress).await,
        (ModelSource::Url(url), false) => {
            let data = download(&url, file, on_progress).await?;
            // Said here, where the address is known: a server's page in place of a model.
            if file.ends_with(".tflite") {
                crate::model::tflite::check_identifier(&data).map_err(|e| js_error(e.context(&url)))?;
            }
            Ok(data)
        }
        (ModelSource::Read(read), check) => {
            let promise = js_sys::Promise::resolve(&read.call0(&JsValue::NULL)?);
            let data = js_sys::Uint8Array::new(&wasm_bindgen_futures::JsFuture::from(promise).await?).to_vec();
            if check {
                known::check_default(file, &data).map_err(|e| js_error(e.context("the package")))?;
            }
            Ok(data)
        }
    }
}

/// One of the package's models: the copy kept in Cache Storage if it passes the check (no download), else
/// downloaded, checked and kept.
async fn package_model(url: &str, file: &str, on_progress: &JsValue) -> Result<Vec<u8>, JsValue> {
    let kept = cached_model(url, file, on_progress).await;
    if let Some(kept) = kept.dyn_ref::<js_sys::Uint8Array>() {
        let data = kept.to_vec();
        if known::check_default(file, &data).is_ok() {
            return Ok(data);
        }
        // A corrupt copy, or another version's at the same address.
        forget_model(url).await;
    }
    let data = download(url, file, on_progress).await?;
    known::check_default(file, &data).map_err(|e| js_error(e.context(url)))?;
    keep_model(url, &data).await;
    Ok(data)
}

async fn download(url: &str, file: &str, on_progress: &JsValue) -> Result<Vec<u8>, JsValue> {
    Ok(js_sys::Uint8Array::new(&fetch_bytes(url, file, on_progress).await?).to_vec())
}
