//! Face quality on real photos and on degraded copies of them: a good shot passes, a blurred, dark,
//! washed-out or small one is refused with its reason, and a rolled camera changes nothing.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/degrade.rs"]
mod degrade;

use common::*;
use localface::backend::{block_on, Target};
use localface::face::quality::{Problem, Quality};
use localface::face::{largest, LandmarkSource, Pipeline};
use localface::frame::{self, Rgb};
use localface::ErrorKind;
use std::sync::OnceLock;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| default_pipeline(&Target::Cpu))
}

fn quality(frame: &Rgb) -> Quality {
    let p = pipeline();
    let faces = block_on(p.faces(frame, &p.detector.default_options(), LandmarkSource::Onet)).unwrap();
    largest(faces).expect("a face").quality
}

/// Photos of every kind in the shared set: a 150x150 crop, two portraits, a close-up.
const PHOTOS: [&str; 4] = ["raj/raj3.png", "emotions-a/a1.jpg", "emotions-b/b2.jpg", "vlado/vlado0.jpg"];

#[test]
fn good_shots_pass_and_a_rolled_camera_changes_nothing() {
    if !have_faces() {
        println!("SKIPPED: no shared photos");
        return;
    }
    for photo in PHOTOS {
        let frame = frame::load(&faces_dir().join(photo)).unwrap();
        let q = quality(&frame);
        assert_eq!(q.problems(), vec![], "{photo}: {q:?}");
        assert!(q.check().is_ok());
        let rolled = quality(&degrade::rotated(&frame, 25.0));
        assert_eq!(rolled.problems(), vec![], "{photo} rolled: {rolled:?}");
        assert!((rolled.yaw - q.yaw).abs() < 6.0, "{photo}: yaw {} rolled, {} upright", rolled.yaw, q.yaw);
    }
}

#[test]
fn degraded_shots_are_refused_with_their_reason() {
    if !have_faces() {
        println!("SKIPPED: no shared photos");
        return;
    }
    // The 150x150 crop: its face fills the frame, so each degradation reaches the aligned crop in full.
    let frame = frame::load(&faces_dir().join("raj/raj3.png")).unwrap();
    let cases: [(&str, Rgb, Problem); 5] = [
        ("blurred", degrade::blur(&frame, 3), Problem::TooBlurred),
        ("dark", degrade::darken(&frame, 0.15), Problem::TooDark),
        ("washed out", degrade::wash_out(&frame, 0.25), Problem::TooBright),
        ("small", degrade::smaller(&frame, 3), Problem::TooSmall),
        ("flat", degrade::wash_out(&degrade::darken(&frame, 0.6), 0.5), Problem::FlatLight),
    ];
    let clean = quality(&frame);
    for (what, copy, expected) in cases {
        let q = quality(&copy);
        assert!(q.problems().contains(&expected), "{what}: {:?} in {q:?}", q.problems());
        assert!(q.score() < clean.score(), "{what}: score {} against {}", q.score(), clean.score());
        let e = q.check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PoorShot);
        assert!(e.to_string().contains(expected.hint()), "{what}: {e}");
    }
}
