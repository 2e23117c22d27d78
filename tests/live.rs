//! Live recognition on videos made from the shared photos: tracks keep their ids, names hold through a
//! blurred stretch, strangers stay unnamed, and the whole frame is detected and faces embedded only now
//! and then.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/degrade.rs"]
mod degrade;
#[path = "common/video.rs"]
mod video;

use common::*;
use localface::backend::{block_on, Target};
use localface::face::live::{name_faces, FrameWork, TrackedFace};
use localface::face::track::{Judge, Tracker, TrackerConfig};
use localface::face::{largest, LandmarkSource, Pipeline};
use localface::frame::{self, Rgb};
use localface::gallery::{Gallery, Metric, DEFAULT_COSINE_THRESHOLD};
use std::sync::OnceLock;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| default_pipeline(&Target::Cpu))
}

fn load(rel: &str) -> Rgb {
    frame::load(&faces_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn enrolled(people: &[(&str, &str)]) -> Gallery {
    let p = pipeline();
    let mut g = Gallery::new(p.embedder.dim, &p.embedder.name);
    for (name, photo) in people {
        let faces = block_on(p.faces(&load(photo), &p.detector.default_options(), LandmarkSource::Onet)).unwrap();
        g.add(name, &largest(faces).unwrap().embedding).unwrap();
    }
    g
}

/// Each frame's tracked faces and what the frame cost.
fn run(frames: &[Rgb], gallery: &Gallery) -> Vec<(Vec<TrackedFace>, FrameWork)> {
    let p = pipeline();
    let options = p.detector.default_options();
    let judge = Judge { gallery, metric: Metric::Cosine, threshold: DEFAULT_COSINE_THRESHOLD };
    let mut tracker = Tracker::new(TrackerConfig::default());
    frames
        .iter()
        .map(|f| {
            let (shots, work) = block_on(p.track(&mut tracker, f, &options, LandmarkSource::Onet)).unwrap();
            (name_faces(&mut tracker, shots, &judge), work)
        })
        .collect()
}

#[test]
fn one_face_keeps_its_track_and_name_through_a_blurred_stretch() {
    if !have_faces() {
        println!("SKIPPED: no shared photos");
        return;
    }
    let gallery = enrolled(&[("ada", "emotions-a/a3.jpg"), ("bea", "emotions-b/b1.jpg")]);
    let mut frames = video::pan_and_zoom(&load("emotions-a/a1.jpg"), 60);
    for f in &mut frames[30..36] {
        *f = degrade::blur(f, 4);
    }
    let out = run(&frames, &gallery);
    let ids: Vec<u32> = out.iter().flat_map(|(faces, _)| faces.iter().map(|f| f.track_id)).collect();
    assert_eq!(ids.len(), 60, "one face in every frame");
    assert!(ids.iter().all(|&id| id == ids[0]), "one track: {ids:?}");
    let names: Vec<Option<String>> = out.iter().map(|(faces, _)| faces[0].name.clone()).collect();
    assert!(names.iter().all(|n| n.as_deref() == Some("ada")), "{names:?}");
    assert!(out[10..].iter().all(|(faces, _)| faces[0].settled));
    let detected = out.iter().filter(|(_, w)| w.detected).count();
    let embedded: usize = out.iter().map(|(_, w)| w.embedded).sum();
    println!("60 frames, 1 face: {detected} detected, {embedded} embeddings");
    assert!(detected <= 12, "{detected} frames detected");
    assert!(embedded <= 10, "{embedded} embeddings");
}

#[test]
fn five_faces_keep_their_ids_and_a_stranger_stays_unnamed() {
    if !have_faces() {
        println!("SKIPPED: no shared photos");
        return;
    }
    let known = ["amy", "howard", "penny", "raj"];
    let gallery = enrolled(&known.map(|p| (p, Box::leak(format!("{p}/{p}1.png").into_boxed_str()) as &str)));
    let faces = ["amy", "howard", "penny", "raj", "sheldon"].map(|p| load(&format!("{p}/{p}3.png")));
    let out = run(&video::five_drifting(&faces, 50), &gallery);
    let expected = ["amy", "howard", "penny", "raj"].map(Some).into_iter().chain([None]);
    let mut first_ids = None;
    for (k, (seen, _)) in out.iter().enumerate() {
        assert_eq!(seen.len(), 5, "frame {k}");
        let mut by_x: Vec<&TrackedFace> = seen.iter().collect();
        // Top row first, each row from the left: the order the faces were placed in.
        let place = |f: &TrackedFace| (f.detection.bbox[1] > 240.0, f.detection.bbox[0] as i32);
        by_x.sort_by_key(|f| place(f));
        let ids: Vec<u32> = by_x.iter().map(|f| f.track_id).collect();
        // The ids of frame 0, by place, stay with their faces.
        assert_eq!(&ids, first_ids.get_or_insert_with(|| ids.clone()), "frame {k}: track ids");
        let names: Vec<Option<&str>> = by_x.iter().map(|f| f.name.as_deref()).collect();
        assert_eq!(names, expected.clone().collect::<Vec<_>>(), "frame {k}");
    }
    let detected = out.iter().filter(|(_, w)| w.detected).count();
    let embedded: usize = out.iter().map(|(_, w)| w.embedded).sum();
    println!("50 frames, 5 faces: {detected} detected, {embedded} embeddings");
    assert!(detected <= 10 && embedded <= 40, "{detected} detected, {embedded} embeddings");
}
