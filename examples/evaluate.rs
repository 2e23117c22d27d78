//! Development aid: leave-one-out identification and similarity distributions on the shared face crops,
//! for each landmark source. `cargo run --release --example evaluate [EMBEDDER]` (default
//! models/MobileFaceNet.tflite; models/fr_feature.onnx for the second embedder)
use localface::backend::{block_on, Target};
use localface::face::detect::Range;
use localface::face::{LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::gallery::dot;

const PEOPLE: [&str; 8] = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];

fn main() {
    let read = |f: &str| std::fs::read(format!("models/{f}")).unwrap();
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &std::env::args().nth(1).map_or_else(|| read(MOBILEFACENET), |path| std::fs::read(path).unwrap()),
        &Target::Cpu,
    ))
    .unwrap();
    let opts = p.detector.default_options();
    println!("embedder {} ({}-d)", p.embedder.name, p.embedder.dim);
    for source in [LandmarkSource::Onet, LandmarkSource::BlazeFace] {
        let mut items = vec![];
        let mut files: Vec<(usize, String)> = vec![];
        for (pi, person) in PEOPLE.iter().enumerate() {
            for i in 1..=5 {
                files.push((pi, format!("../shared/data/faces/{person}/{person}{i}.png")));
            }
        }
        for i in 1..=8 {
            files.push((8, format!("../shared/data/faces/emotions-a/a{i}.jpg")));
        }
        for i in 1..=7 {
            files.push((9, format!("../shared/data/faces/emotions-b/b{i}.jpg")));
        }
        for i in [0, 1, 5] {
            files.push((10, format!("../shared/data/faces/vlado/vlado{i}.jpg")));
        }
        for (pi, path) in files {
            {
                let frame = localface::frame::load(path.as_ref()).unwrap();
                let faces = block_on(p.faces(&frame, &opts, source)).unwrap();
                if faces.len() != 1 {
                    println!("{path}: {} faces", faces.len());
                }
                if let Some(f) = faces.first() {
                    items.push((pi, f.embedding.clone()));
                }
            }
        }
        let mut correct = 0;
        let (mut same, mut diff) = (vec![], vec![]);
        for (i, (pi, e)) in items.iter().enumerate() {
            let best = items
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .max_by(|a, b| dot(&a.1 .1, e).total_cmp(&dot(&b.1 .1, e)))
                .unwrap();
            if best.1 .0 == *pi {
                correct += 1;
            }
            for (pj, f) in &items[i + 1..] {
                if pj == pi {
                    same.push(dot(e, f))
                } else {
                    diff.push(dot(e, f))
                }
            }
        }
        same.sort_by(f32::total_cmp);
        diff.sort_by(f32::total_cmp);
        let auc = same.iter().map(|s| diff.iter().filter(|d| *d < s).count()).sum::<usize>() as f64
            / (same.len() * diff.len()) as f64;
        let mut best_t = (0.0, 0usize);
        for t in (20..80).map(|t| t as f32 / 100.0) {
            let errors = same.iter().filter(|&&s| s < t).count() + diff.iter().filter(|&&d| d >= t).count();
            if best_t.1 == 0 || errors < best_t.1 {
                best_t = (t, errors);
            }
        }
        println!(
            "  AUC {auc:.5}; fewest errors at threshold {} ({} of {} pairs); pairs {} same / {} different",
            best_t.0,
            best_t.1,
            same.len() + diff.len(),
            same.len(),
            diff.len()
        );
        for t in [0.35, 0.4, 0.45, 0.5, p.embedder.spec.cosine_threshold] {
            let (rejects, accepts) =
                (same.iter().filter(|&&s| s < t).count(), diff.iter().filter(|&&d| d >= t).count());
            println!("  at {t}: {accepts} false accepts of {}, {rejects} false rejects of {}", diff.len(), same.len());
        }
        let hist = |v: &[f32]| {
            (0..10)
                .map(|b| v.iter().filter(|&&x| ((x * 10.0).floor() as i32).clamp(0, 9) == b).count())
                .collect::<Vec<_>>()
        };
        println!("  histogram by 0.1 from 0: same {:?} different {:?}", hist(&same), hist(&diff));
        let q = |v: &[f32], p: f32| v[((v.len() - 1) as f32 * p) as usize];
        println!("{source:?}: {} embedded, rank-1 {correct}/{}; same: min {:.3} p5 {:.3} median {:.3}; different: median {:.3} p95 {:.3} max {:.3}",
            items.len(), items.len(), same[0], q(&same, 0.05), q(&same, 0.5), q(&diff, 0.5), q(&diff, 0.95), diff[diff.len() - 1]);
    }
}
