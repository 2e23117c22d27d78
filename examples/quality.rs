//! Development aid: face quality measures on the shared photos and on degraded copies of them (blur,
//! darkness, glare, a smaller face, a rolled camera), and how many shots enrolment would refuse under each.
//! The limits in `src/face/quality.rs` come from these figures (README, "Quality at enrolment").
//! `cargo run --release --example quality`
#[path = "../tests/common/degrade.rs"]
mod degrade;

use localface::backend::{block_on, Target};
use localface::face::detect::Range;
use localface::face::quality::Quality;
use localface::face::{largest, LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::Rgb;

const PEOPLE: [&str; 8] = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];

fn photos() -> Vec<String> {
    let dir = std::env::var("LOCALFACE_FACES").unwrap_or_else(|_| "../shared/data/faces".into());
    let mut files: Vec<String> = PEOPLE.iter().flat_map(|p| (1..=5).map(move |i| format!("{p}/{p}{i}.png"))).collect();
    files.extend((1..=8).map(|i| format!("emotions-a/a{i}.jpg")));
    files.extend((1..=7).map(|i| format!("emotions-b/b{i}.jpg")));
    files.extend(["vlado/vlado0.jpg".to_string(), "ai-face.jpg".to_string()]);
    files.into_iter().map(|f| format!("{dir}/{f}")).collect()
}

type Degrade = fn(&Rgb) -> Rgb;

fn conditions() -> Vec<(&'static str, Degrade)> {
    vec![
        ("clean", |f| f.clone()),
        ("rolled 25 deg", |f| degrade::rotated(f, 25.0)),
        ("blur r=1", |f| degrade::blur(f, 1)),
        ("blur r=2", |f| degrade::blur(f, 2)),
        ("blur r=4", |f| degrade::blur(f, 4)),
        ("dark x0.35", |f| degrade::darken(f, 0.35)),
        ("dark x0.15", |f| degrade::darken(f, 0.15)),
        ("glare keep 0.25", |f| degrade::wash_out(f, 0.25)),
        ("smaller /3", |f| degrade::smaller(f, 3)),
        ("smaller /5", |f| degrade::smaller(f, 5)),
    ]
}

/// min / median / max
fn spread(mut v: Vec<f32>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f32::total_cmp);
    format!("{:.1}/{:.1}/{:.1}", v[0], v[v.len() / 2], v[v.len() - 1])
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
    let opts = p.detector.default_options();
    let frames: Vec<(String, Rgb)> =
        photos().into_iter().map(|f| (f.clone(), localface::frame::load(f.as_ref()).unwrap())).collect();
    println!("{} photos; each measure as min/median/max over the faces found", frames.len());
    println!(
        "{:<16} {:>5} {:>17} {:>20} {:>16} {:>16} {:>17} {:>16}  refused (why)",
        "condition", "found", "eye distance px", "sharpness", "|yaw| deg", "|pitch| deg", "brightness", "contrast"
    );
    for (name, degrade) in conditions() {
        let mut qs: Vec<Quality> = vec![];
        for (file, frame) in &frames {
            let faces = block_on(p.faces(&degrade(frame), &opts, LandmarkSource::Onet)).unwrap();
            if let Some(face) = largest(faces) {
                qs.push(face.quality);
                if std::env::var_os("QUALITY_VERBOSE").is_some() {
                    println!("  {name} {file}: {:?} {:?}", face.quality, face.quality.problems());
                }
            }
        }
        let col = |f: fn(&Quality) -> f32| spread(qs.iter().map(f).collect());
        let refused: Vec<_> = qs.iter().filter(|q| !q.problems().is_empty()).collect();
        let mut why: Vec<(&str, usize)> = vec![];
        for q in &refused {
            for p in q.problems() {
                match why.iter_mut().find(|(n, _)| *n == p.name()) {
                    Some(e) => e.1 += 1,
                    None => why.push((p.name(), 1)),
                }
            }
        }
        println!(
            "{name:<16} {:>2}/{:<2} {:>17} {:>20} {:>16} {:>16} {:>17} {:>16}  {}/{} {why:?}",
            qs.len(),
            frames.len(),
            col(|q| q.eye_distance),
            col(|q| q.sharpness),
            col(|q| q.yaw.abs()),
            col(|q| q.pitch.abs()),
            col(|q| q.brightness),
            col(|q| q.contrast),
            refused.len(),
            qs.len(),
        );
    }
}
