//! Development aid: recognition of masked faces and faces behind dark glasses. Occluded copies of the shared
//! photos (a surgical mask and dark glasses drawn from each face's landmarks, `face::occlusion`) are
//! identified against clean enrolments at the default threshold: same-person acceptance, and false accepts
//! among all different-person pairs. Then the same with each enrolment also storing templates made from
//! synthetically occluded versions of the enrolled face, matched by the best template.
//! `cargo run --release --example occlusion`
use localface::backend::{block_on, Target};
use localface::face::align::{face_map, CROP, TEMPLATE, TEMPLATE_MOUTH_CENTRE};
use localface::face::detect::Range;
use localface::face::occlusion::Occlusion;
use localface::face::{
    aligned_crop, largest, Face, LandmarkSource, Landmarks, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE,
};
use localface::frame::Rgb;
use localface::gallery::{Gallery, Metric, DEFAULT_COSINE_THRESHOLD};

const PEOPLE: [&str; 8] = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];

/// (person, photos): the first photo enrols, the others are probes.
fn people() -> Vec<(String, Vec<String>)> {
    let dir = std::env::var("LOCALFACE_FACES").unwrap_or_else(|_| "../shared/data/faces".into());
    let mut out: Vec<(String, Vec<String>)> =
        PEOPLE.iter().map(|p| (p.to_string(), (1..=5).map(|i| format!("{dir}/{p}/{p}{i}.png")).collect())).collect();
    out.push(("emotions-a".into(), (1..=8).map(|i| format!("{dir}/emotions-a/a{i}.jpg")).collect()));
    out.push(("emotions-b".into(), (1..=7).map(|i| format!("{dir}/emotions-b/b{i}.jpg")).collect()));
    out
}

/// The crop-to-frame map of a face's alignment.
fn map_of(face: &Face) -> localface::face::align::Affine {
    match &face.landmarks {
        Landmarks::Five(p) => face_map(p, &TEMPLATE),
        Landmarks::Four(p) => face_map(p, &[TEMPLATE[0], TEMPLATE[1], TEMPLATE[2], TEMPLATE_MOUTH_CENTRE]),
    }
    .expect("landmarks of a found face")
}

fn main_face(p: &Pipeline, frame: &Rgb) -> Option<Face> {
    largest(block_on(p.faces(frame, &p.detector.default_options(), LandmarkSource::Onet)).unwrap())
}

fn main() {
    let read = |f: &str| std::fs::read(format!("models/{f}")).expect("models/: run scripts/fetch-models.sh");
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &read(MOBILEFACENET),
        &Target::Cpu,
    ))
    .unwrap();
    let threshold = DEFAULT_COSINE_THRESHOLD;
    let (mut plain, mut augmented) = (Gallery::new(p.embedder.dim), Gallery::new(p.embedder.dim));
    // Probes: (person, photo, occlusion name, embedding).
    let mut probes: Vec<(String, String, &str, Vec<f32>)> = vec![];
    for (person, photos) in people() {
        let enrol = localface::frame::load(photos[0].as_ref()).unwrap();
        let face = main_face(&p, &enrol).expect("a face to enrol");
        let crop = aligned_crop(&enrol, &face.landmarks).unwrap();
        assert_eq!(crop.width, CROP);
        let templates = [crop.clone(), Occlusion::Mask.on_crop(&crop), Occlusion::Sunglasses.on_crop(&crop)];
        let embedded = block_on(p.embedder.embed(&templates)).unwrap();
        plain.add(&person, &embedded[0]).unwrap();
        for e in &embedded {
            augmented.add(&person, e).unwrap();
        }
        for photo in &photos[1..] {
            let frame = localface::frame::load(photo.as_ref()).unwrap();
            let Some(face) = main_face(&p, &frame) else { continue };
            let map = map_of(&face);
            for (what, copy) in [
                ("clean", frame.clone()),
                ("mask", Occlusion::Mask.on_frame(&frame, map)),
                ("sunglasses", Occlusion::Sunglasses.on_frame(&frame, map)),
            ] {
                match main_face(&p, &copy) {
                    Some(f) => probes.push((person.clone(), photo.clone(), what, f.embedding)),
                    None => println!("  {what} {photo}: no face found"),
                }
            }
        }
    }
    for (gallery_name, gallery) in [("clean enrolment", &plain), ("enrolment + occluded templates", &augmented)] {
        println!(
            "{gallery_name} ({} people, {} templates), threshold {threshold}:",
            gallery.names().len(),
            gallery.len()
        );
        for what in ["clean", "mask", "sunglasses"] {
            let set: Vec<_> = probes.iter().filter(|p| p.2 == what).collect();
            let (mut accepted, mut false_accepts, mut pairs) = (0, 0, 0);
            let mut missed = vec![];
            for (person, photo, _, e) in &set {
                for m in gallery.search(e, gallery.names().len(), Metric::Cosine) {
                    let ok = m.score >= threshold;
                    if &m.name == person {
                        accepted += ok as usize;
                        if !ok {
                            missed.push(format!("{}:{:.2}", photo.rsplit('/').next().unwrap(), m.score));
                        }
                    } else {
                        pairs += 1;
                        false_accepts += ok as usize;
                    }
                }
            }
            println!(
                "  {what:<10} same person accepted {accepted}/{} ({:.0}%), false accepts {false_accepts} of {pairs} pairs; missed {}",
                set.len(),
                100.0 * accepted as f32 / set.len().max(1) as f32,
                missed.join(" ")
            );
        }
    }
}
