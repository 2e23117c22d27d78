//! Development aid: detects faces in photos and writes annotated PNGs (boxes, landmarks) to look at.
//! `cargo run --release --example probe -- [--full] OUT_DIR IMAGE...`

use localface::backend::{block_on, Target};
use localface::face::detect::Range;
use localface::face::{LandmarkSource, Pipeline, FULL_RANGE, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::{self, Rgb};

fn put(img: &mut Rgb, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as usize) < img.width && (y as usize) < img.height {
        let i = (y as usize * img.width + x as usize) * 3;
        img.data[i..i + 3].copy_from_slice(&c);
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.first().is_some_and(|a| a == "--full");
    if full {
        args.remove(0);
    }
    let mut rotate = 0.0f32;
    if args.first().is_some_and(|a| a == "--rotate") {
        args.remove(0);
        rotate = args.remove(0).parse().unwrap();
    }
    let out = std::path::PathBuf::from(args.remove(0));
    std::fs::create_dir_all(&out).unwrap();
    let read = |f: &str| std::fs::read(format!("models/{f}")).unwrap();
    let (det, range) = if full { (read(FULL_RANGE), Range::Full) } else { (read(SHORT_RANGE), Range::Short) };
    let p = block_on(Pipeline::new(&det, range, Some(&read(ONET)), &read(MOBILEFACENET), &Target::Cpu)).unwrap();
    let opts = p.detector.default_options();
    for path in args {
        let mut img = frame::load(path.as_ref()).unwrap();
        if rotate != 0.0 {
            use localface::face::align::{warp, Affine, Edge};
            let (c, s) = (rotate.to_radians().cos(), rotate.to_radians().sin());
            let (w, h) = (img.width as f32, img.height as f32);
            let side = (w * w + h * h).sqrt().ceil();
            let (cx, cy, half) = (w / 2.0, h / 2.0, side / 2.0);
            let map = Affine([c, s, cx - c * half - s * half, -s, c, cy + s * half - c * half]);
            img = warp(&img, map, side as usize, side as usize, Edge::Black);
        }
        let faces = block_on(p.faces(&img, &opts, LandmarkSource::Onet)).unwrap();
        let raw = block_on(p.detector.detect(&img, &opts)).unwrap();
        let onet = block_on(p.landmarker.as_ref().unwrap().landmarks(&img, &raw)).unwrap();
        let pairs: Vec<(f32, f32)> = raw
            .iter()
            .zip(&onet)
            .map(|(d, (_, pr))| ((d.score * 100.0).round() / 100.0, (pr * 100.0).round() / 100.0))
            .collect();
        println!("  (detection score, O-Net face probability) before confirmation: {pairs:?}");

        println!(
            "{path}: {}x{} {} faces, scores {:?}",
            img.width,
            img.height,
            faces.len(),
            faces.iter().map(|f| (f.detection.score * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
        let t = (img.width.max(img.height) / 400).max(1) as i64;
        for f in &faces {
            let [x, y, w, h] = f.detection.bbox.map(|v| v as i64);
            for k in 0..t {
                for i in x..=x + w {
                    put(&mut img, i, y + k, [0, 255, 0]);
                    put(&mut img, i, y + h - k, [0, 255, 0]);
                }
                for j in y..=y + h {
                    put(&mut img, x + k, j, [0, 255, 0]);
                    put(&mut img, x + w - k, j, [0, 255, 0]);
                }
            }
            for (n, pt) in f.landmarks.points().iter().enumerate() {
                let c = [[255, 0, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255]][n];
                for dy in -t..=t {
                    for dx in -t..=t {
                        put(&mut img, pt[0] as i64 + dx, pt[1] as i64 + dy, c);
                    }
                }
            }
        }
        let name = std::path::Path::new(&path).file_stem().unwrap().to_string_lossy().to_string();
        image::save_buffer(
            out.join(format!("{name}.png")),
            &img.data,
            img.width as u32,
            img.height as u32,
            image::ColorType::Rgb8,
        )
        .unwrap();
    }
}
