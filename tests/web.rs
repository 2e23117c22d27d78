//! The browser API, in headless Chromium: `wasm-pack test --headless --chrome --release -- --test web`.
//! Real models (compiled in from models/) and real photos (compiled in from ../shared/data/faces; the
//! photo tests skip where that folder is absent).
#![cfg(target_arch = "wasm32")]

#[path = "common/web.rs"]
mod web_helpers;

use localface::web::Recognizer;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_helpers::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHORT_RANGE: &[u8] = include_bytes!("../models/face_detection_short_range.tflite");
const ONET: &[u8] = include_bytes!("../models/onet.tflite");
const MOBILEFACENET: &[u8] = include_bytes!("../models/MobileFaceNet.tflite");

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// A recognizer whose gallery lives in memory only (or under `key` in IndexedDB).
async fn recognizer(key: Option<&str>) -> Recognizer {
    let gallery = key.map_or(JsValue::NULL, JsValue::from_str);
    Recognizer::from_models(
        SHORT_RANGE.to_vec(),
        ONET.to_vec(),
        MOBILEFACENET.to_vec(),
        options(&[("gallery", gallery)]),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"))
}

/// A flat grey ImageData: a frame without a face.
fn blank(w: u32, h: u32) -> JsValue {
    rgba_image(&vec![128u8; (w * h * 4) as usize], w, h)
}

#[wasm_bindgen_test]
async fn reports_its_backend_and_kernels() {
    let r = recognizer(None).await;
    // Headless Chromium offers only SwiftShader, a GPU emulated on the CPU; Firefox ESR has no WebGPU at all.
    // Either way `auto` keeps to the CPU kernels, and says why.
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap();
    let webgpu = js_sys::Reflect::get(&navigator, &"gpu".into()).unwrap().is_object();
    let why = if webgpu { "software" } else { "no WebGPU here" };
    assert_eq!(r.backend(), "cpu");
    assert!(r.fallback_reason().is_some_and(|reason| reason.contains(why)), "{:?}", r.fallback_reason());
    // backendChoice says so too, untimed: an emulated GPU is never timed.
    let choice = r.backend_choice().unwrap();
    let field = |name: &str| js_sys::Reflect::get(&choice, &name.into()).unwrap();
    assert_eq!(field("gpu"), JsValue::FALSE);
    assert!(field("gpuMs").is_null() && field("reason").as_string().unwrap().contains(why));
    assert!(r.kernels().starts_with("wasm simd128"), "{}", r.kernels());
    assert_eq!(r.threshold(), 0.5);
    assert!(r.memory_bytes() > 1e6);
}

#[wasm_bindgen_test]
async fn bad_options_and_inputs_are_js_errors() {
    let e = Recognizer::from_models(vec![1, 2, 3], ONET.to_vec(), MOBILEFACENET.to_vec(), JsValue::UNDEFINED).await;
    assert!(failed_as(e.err().unwrap(), "ModelInvalid").contains("TFL3"));
    let e = Recognizer::from_models(
        SHORT_RANGE.to_vec(),
        ONET.to_vec(),
        MOBILEFACENET.to_vec(),
        options(&[("backend", "tpu".into())]),
    )
    .await;
    assert!(failed_as(e.err().unwrap(), "OptionInvalid").contains("backend 'tpu'"));
    let r = recognizer(None).await;
    assert!(failed_as(r.detect(JsValue::from_f64(3.0)).await.unwrap_err(), "InputInvalid")
        .contains("unsupported image source"));
    let empty_canvas = web_sys::OffscreenCanvas::new(0, 0).unwrap();
    assert!(failed_as(r.detect(empty_canvas.into()).await.unwrap_err(), "InputInvalid").contains("empty image"));
    assert_eq!(array(r.identify(blank(64, 48)).await.unwrap()).len(), 0);
    let e = r.enroll("nobody".into(), blank(64, 48)).await.unwrap_err();
    assert!(failed_as(e, "NoFace").contains("no face found"));
}

#[wasm_bindgen(inline_js = "
    export function video_frame(rgba, width, height) {
        return new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 });
    }
    /** A VideoFrame of a canvas holding the ImageData: stored as BGRA, which the browser converts. */
    export function canvas_video_frame(image) {
        const canvas = new OffscreenCanvas(image.width, image.height);
        canvas.getContext('2d').putImageData(image, 0, 0);
        return new VideoFrame(canvas, { timestamp: 0 });
    }
    export function close(frame) { frame.close(); }
")]
extern "C" {
    fn video_frame(rgba: &[u8], width: u32, height: u32) -> JsValue;
    fn canvas_video_frame(image: &JsValue) -> JsValue;
    fn close(frame: &JsValue);
}

/// A VideoFrame's size is checked before its pixels are read: a closed frame (0x0) and one over 16384 pixels
/// wide are refused by the glue ("image of"), not by the core after the pixels were copied ("frame of").
#[wasm_bindgen_test]
async fn empty_and_huge_video_frames_are_refused() {
    let r = recognizer(None).await;
    let frame = video_frame(&[128; 4 * 4 * 4], 4, 4);
    close(&frame);
    assert!(failed_as(r.detect(frame).await.unwrap_err(), "InputInvalid").contains("empty image (0x0)"));
    let wide = video_frame(&vec![128; 16385 * 4], 16385, 1);
    assert!(
        failed_as(r.detect(wide.clone()).await.unwrap_err(), "InputInvalid").contains("image of 16385x1 is too large")
    );
    close(&wide);
}

#[cfg(shared_faces)]
mod photos {
    use super::*;

    const A1: &[u8] = include_bytes!("../../shared/data/faces/emotions-a/a1.jpg");
    const A5: &[u8] = include_bytes!("../../shared/data/faces/emotions-a/a5.jpg");
    const B2: &[u8] = include_bytes!("../../shared/data/faces/emotions-b/b2.jpg");
    const BBT4: &[u8] = include_bytes!("../../shared/data/faces/group/bbt4.jpg");

    #[wasm_bindgen_test]
    async fn detects_a_face_with_five_landmarks() {
        let r = recognizer(None).await;
        let faces = array(r.detect(image_data(A1)).await.unwrap());
        assert_eq!(faces.len(), 1);
        assert_eq!(array(get(&faces[0], "landmarks")).len(), 5);
        let b = get(&faces[0], "box");
        assert!(get(&b, "width").as_f64().unwrap() > 200.0);
        assert!(get(&faces[0], "score").as_f64().unwrap() > 0.8);
    }

    /// A VideoFrame (copied by the browser straight into wasm memory) gives what the same pixels give as
    /// ImageData, whether stored as RGBA or BGRA; and also when wasm memory grows while the copy is pending
    /// (futures_join polls the detection first), which detaches the view the copy writes into: the glue
    /// then copies the frame again into an array of its own. (This Chromium writes the pixels before
    /// `copyTo` returns, so here that second copy is what is checked, not that the first one was lost.)
    #[wasm_bindgen_test]
    async fn a_video_frame_gives_what_its_image_data_gives() {
        let r = recognizer(None).await;
        let photo = localface::frame::decode(A1).unwrap();
        let rgba: Vec<u8> = photo.data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
        let (w, h) = (photo.width as u32, photo.height as u32);
        let image = rgba_image(&rgba, w, h);
        let expected = js_sys::JSON::stringify(&r.detect(image.clone()).await.unwrap()).unwrap();
        assert_eq!(array(js_sys::JSON::parse(&String::from(&expected)).unwrap()).len(), 1);
        for frame in [video_frame(&rgba, w, h), canvas_video_frame(&image)] {
            let faces = r.detect(frame.clone()).await.unwrap();
            assert_eq!(js_sys::JSON::stringify(&faces).unwrap(), expected);
            let grow = async { core::arch::wasm32::memory_grow(0, 1) };
            let (faces, grown) = futures_join(r.detect(frame.clone()), grow).await;
            assert_ne!(grown, usize::MAX, "wasm memory grew");
            assert_eq!(js_sys::JSON::stringify(&faces.unwrap()).unwrap(), expected);
            close(&frame);
        }
    }

    #[wasm_bindgen_test]
    async fn enrolls_identifies_and_verifies() {
        let r = recognizer(None).await;
        let enrolled = r.enroll("Ada".into(), image_data(A1)).await.unwrap();
        assert_eq!(get(&enrolled, "samples").as_f64(), Some(1.0));
        let same = array(r.identify(image_data(A5)).await.unwrap());
        assert_eq!(get(&same[0], "name").as_string().as_deref(), Some("Ada"));
        let stranger = array(r.identify(image_data(B2)).await.unwrap());
        assert!(get(&stranger[0], "name").is_null(), "a stranger is no one");
        assert!(get(&stranger[0], "similarity").as_f64().unwrap() < 0.5);
        let verdict = r.verify(image_data(A1), image_data(A5)).await.unwrap();
        assert_eq!(get(&verdict, "same").as_bool(), Some(true));
        let verdict = r.verify(image_data(A1), image_data(B2)).await.unwrap();
        assert_eq!(get(&verdict, "same").as_bool(), Some(false));
        // A group photo cannot be enrolled as one person.
        let e = r.enroll("Ada".into(), image_data(BBT4)).await.unwrap_err();
        assert!(failed_as(e, "ManyFaces").contains("6 faces"));
    }

    #[wasm_bindgen_test]
    async fn the_gallery_renames_removes_exports_and_imports() {
        let r = recognizer(None).await;
        r.enroll("Ada".into(), image_data(A1)).await.unwrap();
        r.enroll("Bea".into(), image_data(B2)).await.unwrap();
        let g = r.gallery();
        g.rename("Ada".into(), "Ada L.".into()).await.unwrap();
        let backup = g.export();
        g.remove("Bea".into()).await.unwrap();
        let people = array(g.people().unwrap());
        assert_eq!(people.len(), 1);
        assert_eq!(get(&people[0], "name").as_string().as_deref(), Some("Ada L."));
        assert!(failed_as(g.import(b"not a gallery".to_vec()).await.unwrap_err(), "GalleryCorrupt")
            .contains("not a localface gallery"));
        assert_eq!(array(g.people().unwrap()).len(), 1, "a failed import changes nothing");
        g.import(backup).await.unwrap();
        assert_eq!(array(g.people().unwrap()).len(), 2);
        assert!(failed_as(g.rename("nobody".into(), "x".into()).await.unwrap_err(), "UnknownPerson")
            .contains("no one named"));
    }

    #[wasm_bindgen_test]
    async fn the_gallery_persists_in_indexeddb() {
        let key = format!("test-{}", js_sys::Math::random());
        {
            let r = recognizer(Some(&key)).await;
            r.enroll("Ada".into(), image_data(A1)).await.unwrap();
        }
        // A new recognizer (as after a reload) finds Ada in storage and recognises her.
        let r = recognizer(Some(&key)).await;
        assert_eq!(array(r.gallery().people().unwrap()).len(), 1);
        let faces = array(r.identify(image_data(A5)).await.unwrap());
        assert_eq!(get(&faces[0], "name").as_string().as_deref(), Some("Ada"));
        r.gallery().clear().await.unwrap();
        assert_eq!(array(recognizer(Some(&key)).await.gallery().people().unwrap()).len(), 0);
    }

    #[wasm_bindgen_test]
    async fn a_second_change_while_one_is_saving_is_refused() {
        let key = format!("test-{}", js_sys::Math::random());
        let r = recognizer(Some(&key)).await;
        r.enroll("Ada".into(), image_data(A1)).await.unwrap();
        let g = r.gallery();
        let first = g.rename("Ada".into(), "Ada L.".into());
        let second = g.remove("Ada".into());
        let (a, b) = futures_join(first, second).await;
        assert!(a.is_ok());
        assert!(failed_as(b.unwrap_err(), "GalleryBusy").contains("still being saved"));
    }

    #[wasm_bindgen_test]
    async fn overlapping_calls_all_get_their_answers() {
        let key = format!("test-{}", js_sys::Math::random());
        let r = recognizer(Some(&key)).await;
        // An enrolment (which awaits its IndexedDB save) and an identification in flight together.
        let (enrolled, faces) =
            futures_join(r.enroll("Ada".into(), image_data(A1)), r.identify(image_data(BBT4))).await;
        assert_eq!(get(&enrolled.unwrap(), "samples").as_f64(), Some(1.0));
        assert_eq!(array(faces.unwrap()).len(), 6);
        let (a, b) = futures_join(r.identify(image_data(A5)), r.verify(image_data(A1), image_data(A5))).await;
        assert_eq!(get(&array(a.unwrap())[0], "name").as_string().as_deref(), Some("Ada"));
        assert_eq!(get(&b.unwrap(), "same").as_bool(), Some(true));
        r.gallery().clear().await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn a_call_after_free_is_a_js_error() {
        let r = recognizer(None).await;
        let message = call_after_free(r.into(), image_data(A1)).await;
        assert!(message.as_string().unwrap().contains("moved value"), "{message:?}");
    }

    #[wasm_bindgen(inline_js = "export async function call_after_free(r, frame) {
        r.free();
        try { await r.identify(frame); return 'no error'; } catch (e) { return String(e.message || e); }
    }")]
    extern "C" {
        async fn call_after_free(recognizer: JsValue, frame: JsValue) -> JsValue;
    }

    async fn recognizer_with(key: &str, passphrase: Option<&str>) -> Result<Recognizer, String> {
        let mut pairs = vec![("gallery", JsValue::from_str(key))];
        if let Some(p) = passphrase {
            pairs.push(("passphrase", p.into()));
        }
        Recognizer::from_models(SHORT_RANGE.to_vec(), ONET.to_vec(), MOBILEFACENET.to_vec(), options(&pairs))
            .await
            .map_err(|e| failed_as(e, "GalleryLocked"))
    }

    #[wasm_bindgen_test]
    async fn an_encrypted_gallery_needs_its_passphrase_and_detects_tampering() {
        let key = format!("test-{}", js_sys::Math::random());
        let r = recognizer_with(&key, Some("open sesame")).await.unwrap();
        assert!(r.gallery().encrypted());
        r.enroll("Ada Lovelace".into(), image_data(A1)).await.unwrap();
        drop(r);
        let stored = js_sys::Uint8Array::new(&stored_record(&key).await).to_vec();
        assert!(stored.starts_with(b"LFSEALED"), "stored encrypted");
        assert!(!stored.windows(8).any(|w| w == b"Lovelace"), "no name readable at rest");
        let copy = js_sys::Uint8Array::new(&get(&stored_copies(&key).await, "bytes")).to_vec();
        assert_eq!(copy, stored, "the copy in Cache Storage is the same sealed file");
        // The right passphrase reads it back and recognises; no or a wrong one is a clear error.
        let r = recognizer_with(&key, Some("open sesame")).await.unwrap();
        let faces = array(r.identify(image_data(A5)).await.unwrap());
        assert_eq!(get(&faces[0], "name").as_string().as_deref(), Some("Ada Lovelace"));
        drop(r);
        assert!(recognizer_with(&key, None).await.err().unwrap().contains("encrypted: give its passphrase"));
        assert!(recognizer_with(&key, Some("open sesam")).await.err().unwrap().contains("wrong passphrase"));
        // One byte of the stored record changed: detected, and nothing is overwritten.
        let mut tampered = stored.clone();
        let last = tampered.len() - 20;
        tampered[last] ^= 1;
        put_record(&key, &js_sys::Uint8Array::from(&tampered[..])).await;
        assert!(recognizer_with(&key, Some("open sesame")).await.err().unwrap().contains("altered"));
        assert_eq!(js_sys::Uint8Array::new(&stored_record(&key).await).to_vec(), tampered);
        // A plain stored gallery is encrypted as soon as a passphrase is given.
        let plain_key = format!("test-{}", js_sys::Math::random());
        let r = recognizer_with(&plain_key, None).await.unwrap();
        r.enroll("Bea".into(), image_data(B2)).await.unwrap();
        assert!(!r.gallery().encrypted());
        drop(r);
        let r = recognizer_with(&plain_key, Some("later")).await.unwrap();
        assert_eq!(array(r.gallery().people().unwrap()).len(), 1);
        assert!(js_sys::Uint8Array::new(&stored_record(&plain_key).await).to_vec().starts_with(b"LFSEALED"));
    }

    /// A gallery file encrypted by the native tool opens in the browser: one format for both. Made with
    /// `LOCALFACE_PASSPHRASE="made natively" localface enroll --gallery tests/data/native-sealed.lfg amy amy/amy1.png`.
    #[wasm_bindgen_test]
    async fn a_gallery_encrypted_natively_imports_in_the_browser() {
        let file = include_bytes!("data/native-sealed.lfg").to_vec();
        let key = format!("test-{}", js_sys::Math::random());
        // (Each recognizer on its own key: a passphrase locks even an empty stored gallery at once.)
        let wrong = recognizer_with(&format!("{key}-other"), Some("another")).await.unwrap();
        assert!(failed_as(wrong.gallery().import(file.clone()).await.unwrap_err(), "GalleryLocked")
            .contains("wrong passphrase"));
        drop(wrong);
        let r = recognizer_with(&key, Some("made natively")).await.unwrap();
        r.gallery().import(file).await.unwrap();
        let people = array(r.gallery().people().unwrap());
        assert_eq!(get(&people[0], "name").as_string().as_deref(), Some("amy"));
        let plain = recognizer(None).await;
        let file = include_bytes!("data/native-sealed.lfg").to_vec();
        assert!(failed_as(plain.gallery().import(file).await.unwrap_err(), "GalleryLocked")
            .contains("create the recognizer with its passphrase"));
    }

    #[wasm_bindgen(inline_js = "
        function store(mode, body) {
            return new Promise((resolve, reject) => {
                const open = indexedDB.open('localface', 1);
                open.onerror = () => reject(open.error);
                open.onsuccess = () => {
                    const tx = open.result.transaction('galleries', mode);
                    const req = body(tx.objectStore('galleries'));
                    tx.oncomplete = () => { open.result.close(); resolve(req.result); };
                    tx.onerror = () => reject(tx.error);
                };
            });
        }
        export function stored_record(key) { return store('readonly', (s) => s.get(key)); }
        export async function put_record(key, bytes) { await store('readwrite', (s) => s.put(bytes.slice().buffer, key)); }
        // What Chromium does when it finds the database corrupt on opening is to delete all of it; here only
        // this key's record and generation go, since other tests may use the database meanwhile.
        export async function delete_record(key) {
            await store('readwrite', (s) => { s.delete(key); return s.delete([key, 'generation']); });
        }
        async function copy_requests(key) {
            const cache = await caches.open('localface-galleries');
            const prefix = `/_localface/_${encodeURIComponent(key)}/`;
            const mine = (await cache.keys()).filter((r) => new URL(r.url).pathname.startsWith(prefix));
            return { cache, mine };
        }
        /** The Cache Storage copies of `key`: how many, and the newest one's bytes. */
        export async function stored_copies(key) {
            const { cache, mine } = await copy_requests(key);
            const newest = mine.sort((a, b) => b.url.localeCompare(a.url, 'en', { numeric: true }))[0];
            return { count: mine.length, bytes: newest && new Uint8Array(await (await cache.match(newest)).arrayBuffer()) };
        }
        export async function delete_copies(key) {
            const { cache, mine } = await copy_requests(key);
            for (const r of mine) await cache.delete(r);
        }
    ")]
    extern "C" {
        async fn stored_record(key: &str) -> JsValue;
        async fn put_record(key: &str, bytes: &js_sys::Uint8Array);
        async fn delete_record(key: &str);
        async fn stored_copies(key: &str) -> JsValue;
        async fn delete_copies(key: &str);
    }

    fn names(r: &Recognizer) -> Vec<String> {
        array(r.gallery().people().unwrap()).iter().map(|p| get(p, "name").as_string().unwrap()).collect()
    }

    /// Chromium deletes an origin's whole IndexedDB when it finds it corrupt, which a browser killed during a
    /// save can cause (`tests/e2e/storage.test.mjs`): the copy in Cache Storage brings the gallery back, says
    /// so (`restored`), and is written back to IndexedDB.
    #[wasm_bindgen_test]
    async fn a_gallery_lost_from_indexeddb_comes_back_from_its_copy() {
        let key = format!("test-{}", js_sys::Math::random());
        let r = recognizer(Some(&key)).await;
        r.enroll("Ada".into(), image_data(A1)).await.unwrap();
        r.gallery().rename("Ada".into(), "Ada L.".into()).await.unwrap();
        drop(r);
        let copies = stored_copies(&key).await;
        assert_eq!(get(&copies, "count").as_f64(), Some(1.0), "only the newest copy is kept");
        let record = js_sys::Uint8Array::new(&stored_record(&key).await).to_vec();
        assert_eq!(js_sys::Uint8Array::new(&get(&copies, "bytes")).to_vec(), record, "the copy is the record");

        delete_record(&key).await;
        let r = recognizer(Some(&key)).await;
        assert_eq!(names(&r), ["Ada L."]);
        let why = r.gallery().restored().unwrap_or_default();
        assert!(why.starts_with("IndexedDB had lost the gallery"), "restored: {why:?}");
        let faces = array(r.identify(image_data(A5)).await.unwrap());
        assert_eq!(get(&faces[0], "name").as_string().as_deref(), Some("Ada L."));
        drop(r);
        // Written back to IndexedDB on that load: the next load reads it there.
        let r = recognizer(Some(&key)).await;
        assert_eq!(names(&r), ["Ada L."]);
        assert_eq!(r.gallery().restored(), None);
        // The next change is saved above both stores' generation (the write-back counted on from the copy's,
        // where IndexedDB alone would have started again from 0): it is what loads next, from either store.
        r.gallery().rename("Ada L.".into(), "Ada Lovelace".into()).await.unwrap();
        drop(r);
        assert_eq!(names(&recognizer(Some(&key)).await), ["Ada Lovelace"]);
        delete_record(&key).await;
        assert_eq!(names(&recognizer(Some(&key)).await), ["Ada Lovelace"]);

        // The copy lost instead: IndexedDB alone has it.
        let r = recognizer(Some(&key)).await;
        r.gallery().rename("Ada Lovelace".into(), "Ada Byron".into()).await.unwrap();
        drop(r);
        delete_copies(&key).await;
        assert_eq!(names(&recognizer(Some(&key)).await), ["Ada Byron"]);
        recognizer(Some(&key)).await.gallery().clear().await.unwrap();

        // A key that a URL would resolve away ("..") has its copy too.
        recognizer(Some("..")).await.enroll("Bea".into(), image_data(B2)).await.unwrap();
        delete_record("..").await;
        let r = recognizer(Some("..")).await;
        assert_eq!(names(&r), ["Bea"]);
        r.gallery().clear().await.unwrap();
    }

    /// Polls two futures together (no executor crate needed).
    async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
        use std::task::Poll;
        let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
        let (mut ra, mut rb) = (None, None);
        std::future::poll_fn(|cx| {
            if ra.is_none() {
                if let Poll::Ready(v) = a.as_mut().poll(cx) {
                    ra = Some(v);
                }
            }
            if rb.is_none() {
                if let Poll::Ready(v) = b.as_mut().poll(cx) {
                    rb = Some(v);
                }
            }
            match (ra.is_some(), rb.is_some()) {
                (true, true) => Poll::Ready((ra.take().unwrap(), rb.take().unwrap())),
                _ => Poll::Pending,
            }
        })
        .await
    }
}
