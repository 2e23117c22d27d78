//! Development aid: recognition of masked faces and faces behind dark glasses. Occluded copies of the shared
//! photos (a surgical mask and dark glasses drawn from each face's landmarks, `face::occlusion`) are
//! identified at the default threshold against enrolments of the same people from one clean photo each:
//! the shot alone, then the product's enrolment (`Pipeline::templates`: the shot and its masked and glasses
//! templates, matched with their margins). Prints same-person acceptance and false accepts among all
//! different-person pairs, the margins the shared photos call for, and a leave-one-person-out check of them.
//! `cargo run --release --example occlusion [EMBEDDER]` (default models/MobileFaceNet.tflite), at the
//! embedder's own threshold.
use localface::backend::{block_on, Target};
use localface::face::detect::Range;
use localface::face::occlusion::Occlusion;
use localface::face::{alignment, largest, Face, LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::Rgb;
use localface::gallery::{dot, Template};
use std::sync::OnceLock;

#[path = "common/occlusion_people.rs"]
mod occlusion_people;
use occlusion_people::people;

/// The embedder's threshold, set once in `main`.
static THRESHOLD: OnceLock<f32> = OnceLock::new();

fn threshold() -> f32 {
    *THRESHOLD.get().expect("set in main")
}

const KINDS: [&str; 3] = ["clean", "mask", "sunglasses"];
const OCCLUDED: [Template; 2] = [Template::Masked, Template::Sunglasses];

fn main_face(p: &Pipeline, frame: &Rgb) -> Option<Face> {
    largest(block_on(p.faces(frame, &p.detector.default_options(), LandmarkSource::Onet)).unwrap())
}

/// What enrolment stored for one person.
type Enrolled = Vec<(Template, Vec<f32>)>;

/// An attempt: whose face, which copy (index into KINDS), and its embedding when a face was found.
struct Probe {
    person: usize,
    kind: usize,
    embedding: Option<Vec<f32>>,
}

/// Each person's enrolled templates, and the probes of their other photos.
fn collect(p: &Pipeline) -> (Vec<Enrolled>, Vec<Probe>) {
    let (mut enrolled, mut probes) = (vec![], vec![]);
    for (person, (_, photos)) in people().into_iter().enumerate() {
        let enrol = localface::frame::load(photos[0].as_ref()).unwrap();
        let face = main_face(p, &enrol).expect("a face to enrol");
        enrolled.push(block_on(p.templates(&enrol, &face)).unwrap());
        for photo in &photos[1..] {
            let frame = localface::frame::load(photo.as_ref()).unwrap();
            let face = main_face(p, &frame).expect("a face in every clean probe");
            let map = alignment(&face.landmarks).unwrap();
            let copies =
                [frame.clone(), Occlusion::Mask.on_frame(&frame, map), Occlusion::Sunglasses.on_frame(&frame, map)];
            for (kind, copy) in copies.iter().enumerate() {
                probes.push(Probe { person, kind, embedding: main_face(p, copy).map(|f| f.embedding) });
            }
        }
    }
    (enrolled, probes)
}

/// A probe's score against a person: the best of their templates, each less its margin (`margins` by
/// OCCLUDED; None: shots only).
fn score(e: &[f32], templates: &[(Template, Vec<f32>)], margins: Option<[f32; 2]>) -> f32 {
    let margin = |t: Template| match (t, margins) {
        (Template::Shot, _) => Some(0.0),
        (_, None) => None,
        (t, Some(m)) => Some(m[OCCLUDED.iter().position(|&o| o == t).unwrap()]),
    };
    templates.iter().filter_map(|(t, v)| margin(*t).map(|m| dot(e, v) - m)).fold(f32::NEG_INFINITY, f32::max)
}

/// The smallest margin for each occluded template that puts every different-person similarity to it
/// below the threshold, over the pairs `counts` allows (by probe person and enrolled person).
fn margins_needed(enrolled: &[Enrolled], probes: &[Probe], counts: impl Fn(usize, usize) -> bool) -> [f32; 2] {
    OCCLUDED.map(|kind| {
        let mut highest = f32::NEG_INFINITY;
        for probe in probes {
            let Some(e) = &probe.embedding else { continue };
            let strangers = enrolled.iter().enumerate().filter(|(q, _)| *q != probe.person && counts(probe.person, *q));
            for (_, templates) in strangers {
                for (_, v) in templates.iter().filter(|(t, _)| *t == kind) {
                    highest = highest.max(dot(e, v));
                }
            }
        }
        // Just above the highest: a similarity equal to the threshold is a match.
        (highest - threshold() + 0.005).max(0.0)
    })
}

/// Per probe kind: (attempts, found, same person accepted, false accepts, different-person pairs), over the
/// probes and pairs `counts` allows.
fn tally(
    enrolled: &[Enrolled],
    probes: &[Probe],
    margins: Option<[f32; 2]>,
    counts: impl Fn(usize, usize) -> bool,
) -> [[usize; 5]; 3] {
    let mut t = [[0; 5]; 3];
    for probe in probes {
        let row = &mut t[probe.kind];
        if counts(probe.person, probe.person) {
            row[0] += 1;
        }
        let Some(e) = &probe.embedding else { continue };
        for (person, templates) in enrolled.iter().enumerate().filter(|(q, _)| counts(probe.person, *q)) {
            let accepted = score(e, templates, margins) >= threshold();
            if person == probe.person {
                row[1] += 1;
                row[2] += accepted as usize;
            } else {
                row[3] += accepted as usize;
                row[4] += 1;
            }
        }
    }
    t
}

fn print(title: &str, t: [[usize; 5]; 3]) {
    println!("{title}");
    for (kind, [attempts, found, accepted, false_accepts, pairs]) in KINDS.iter().zip(t) {
        println!(
            "  {kind:<10} found {found}/{attempts}, same person accepted {accepted} ({:.0}% of attempts), false accepts {false_accepts} of {pairs} pairs",
            100.0 * accepted as f32 / attempts.max(1) as f32
        );
    }
}

fn main() {
    let read = |f: &str| std::fs::read(format!("models/{f}")).expect("models/: run scripts/fetch-models.sh");
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &std::env::args().nth(1).map_or_else(|| read(MOBILEFACENET), |path| std::fs::read(path).unwrap()),
        &Target::Cpu,
    ))
    .unwrap();
    THRESHOLD.set(p.embedder.spec.cosine_threshold).expect("set once");
    println!("embedder {} ({}-d), threshold {}", p.embedder.name, p.embedder.dim, threshold());
    let (enrolled, probes) = collect(&p);
    let all = |_: usize, _: usize| true;
    print("shots only:", tally(&enrolled, &probes, None, all));
    let product = OCCLUDED.map(|t| t.margin(&p.embedder.name));
    print(
        &format!("shots and occluded templates, the product's margins {product:?}:"),
        tally(&enrolled, &probes, Some(product), all),
    );
    println!("margins the shared photos call for (masked, sunglasses): {:?}", margins_needed(&enrolled, &probes, all));
    // Leave one person out: the margins from the other people's pairs; then that person's attempts, against
    // their own enrolment and (as a stranger) against everyone else's.
    let mut held_out = [[0; 5]; 3];
    for out in 0..enrolled.len() {
        let others = |a: usize, b: usize| a != out && b != out;
        let margins = margins_needed(&enrolled, &probes, others);
        let t = tally(&enrolled, &probes, Some(margins), |probe, _| probe == out);
        for (sum, row) in held_out.iter_mut().zip(t) {
            sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
    }
    print("leave one person out (each person's margins from the other nine):", held_out);
}
