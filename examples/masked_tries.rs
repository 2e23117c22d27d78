//! Development aid: the measurements behind the README's "Tried and not adopted" (masks and glasses). For
//! every photo of the ten people of the `occlusion` example, clean and with a mask or dark glasses drawn from
//! its main face's landmarks, prints one JSON line with every detection at BlazeFace 0.2: its box, score,
//! O-Net's face probability and points, a second look (BlazeFace again on a window around the box),
//! fr_landmark's five points, and the embeddings of the face aligned five ways (O-Net's points, O-Net's eyes
//! only, BlazeFace's four points, BlazeFace's eyes only, and the clean photo's own points). Clean lines
//! also carry the enrolment templates. `examples/masked_tries.py` reads the lines and prints the figures:
//!   cargo run --release --example masked_tries > /tmp/masked.jsonl
//!   python3 examples/masked_tries.py /tmp/masked.jsonl       (needs numpy)
use localface::backend::{block_on, Target};
use localface::face::align::{face_map, warp, Affine, Edge, CROP, TEMPLATE};
use localface::face::cues::{CueModels, EYE, LANDMARK, POSE};
use localface::face::detect::{DetectOptions, Detection, Range};
use localface::face::occlusion::Occlusion;
use localface::face::{aligned_crop, alignment, largest, LandmarkSource, Landmarks, Pipeline};
use localface::face::{MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::Rgb;
use serde_json::{json, Value};

#[path = "common/occlusion_people.rs"]
mod occlusion_people;

/// The second look's window: this many times the box's longer side, at the short-range model's input size.
const LOOK_SCALE: f32 = 2.5;
const LOOK_SIDE: usize = 128;

/// BlazeFace's best score for a face near the centre of a window 2.5 times the detection's box.
fn second_look(p: &Pipeline, d: &Detection, frame: &Rgb) -> f32 {
    let side = LOOK_SCALE * d.bbox[2].max(d.bbox[3]);
    let (cx, cy) = (d.bbox[0] + d.bbox[2] / 2.0, d.bbox[1] + d.bbox[3] / 2.0);
    let k = side / LOOK_SIDE as f32;
    let map = Affine([k, 0.0, cx - side / 2.0 + 0.5 * k, 0.0, k, cy - side / 2.0 + 0.5 * k]);
    let window = warp(frame, map, LOOK_SIDE, LOOK_SIDE, Edge::Black);
    let options = DetectOptions { min_score: 0.05, suppression: 0.3, tiles: false };
    let centre = LOOK_SIDE as f32 / 2.0;
    let near = |f: &Detection| {
        let (x, y) = (f.bbox[0] + f.bbox[2] / 2.0 - centre, f.bbox[1] + f.bbox[3] / 2.0 - centre);
        (x * x + y * y).sqrt() < 0.2 * LOOK_SIDE as f32
    };
    let found = block_on(p.detector.detect(&window, &options)).unwrap();
    found.iter().filter(|f| near(f)).map(|f| f.score).fold(0.0, f32::max)
}

/// The crop aligned by the eyes alone onto the template's eyes.
fn eyes_crop(frame: &Rgb, eyes: &[[f32; 2]]) -> Rgb {
    warp(frame, face_map(eyes, &TEMPLATE[..2]).unwrap(), CROP, CROP, Edge::Black)
}

/// fr_landmark's 68 points reduced to O-Net's five: eye centres, nose tip, mouth corners (iBUG numbering).
async fn five_of_68(cues: &CueModels, frame: &Rgb, bbox: [f32; 4]) -> [[f32; 2]; 5] {
    let p = cues.points(frame, bbox).await.unwrap();
    let centre = |first: usize| [0, 1].map(|c| p[first..first + 6].iter().map(|q| q[c]).sum::<f32>() / 6.0);
    [centre(36), centre(42), p[30], p[48], p[54]]
}

/// Every detection of `frame` at BlazeFace 0.2, with what the README's tries need.
fn detections(p: &Pipeline, cues: &CueModels, frame: &Rgb, clean: &Landmarks) -> Vec<Value> {
    let options = DetectOptions { min_score: 0.2, ..p.detector.default_options() };
    let found = block_on(p.detector.detect(frame, &options)).unwrap();
    let onet = block_on(p.landmarker.as_ref().unwrap().landmarks(frame, &found)).unwrap();
    let mut out = vec![];
    for (d, (five, prob)) in found.iter().zip(onet) {
        let kp = d.keypoints;
        let crops = [
            aligned_crop(frame, &Landmarks::Five(five)).unwrap(),
            eyes_crop(frame, &five[..2]),
            aligned_crop(frame, &Landmarks::Four([kp[0], kp[1], kp[2], kp[3]])).unwrap(),
            eyes_crop(frame, &kp[..2]),
            aligned_crop(frame, clean).unwrap(),
        ];
        let e = block_on(p.embedder.embed(&crops)).unwrap();
        out.push(json!({
            "bbox": d.bbox, "score": d.score, "onet": prob, "five": five, "again": second_look(p, d, frame),
            "five68": block_on(five_of_68(cues, frame, d.bbox)),
            "emb": {"onet": e[0], "eyes": e[1], "blazeface": e[2], "blazeface_eyes": e[3], "oracle": e[4]},
        }));
    }
    out
}

fn main() {
    let read = |f: &str| std::fs::read(format!("models/{f}")).unwrap();
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &read(MOBILEFACENET),
        &Target::Cpu,
    ))
    .unwrap();
    let cues = block_on(CueModels::new(&read(LANDMARK), &read(EYE), &read(POSE), &Target::Cpu)).unwrap();
    let photos = occlusion_people::people()
        .into_iter()
        .flat_map(|(person, paths)| paths.into_iter().map(move |p| (person.clone(), p)));
    for (person, path) in photos {
        let frame = localface::frame::load(path.as_ref()).unwrap();
        let faces = block_on(p.faces(&frame, &p.detector.default_options(), LandmarkSource::Onet)).unwrap();
        let face = largest(faces).expect("every photo of the ten people shows its person");
        let map = alignment(&face.landmarks).unwrap();
        let templates = block_on(p.templates(&frame, &face)).unwrap();
        let templates: Vec<Value> =
            templates.iter().map(|(t, v)| json!({"kind": format!("{t:?}"), "emb": v})).collect();
        let copies = [
            ("clean", frame.clone()),
            ("mask", Occlusion::Mask.on_frame(&frame, map)),
            ("sunglasses", Occlusion::Sunglasses.on_frame(&frame, map)),
        ];
        for (kind, copy) in copies {
            let found = detections(&p, &cues, &copy, &face.landmarks);
            let templates = if kind == "clean" { json!(templates) } else { Value::Null };
            println!(
                "{}",
                json!({"person": person, "path": path, "kind": kind, "main_box": face.detection.bbox,
                       "templates": templates, "detections": found})
            );
        }
    }
}
