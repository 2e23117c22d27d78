//! The `localface` binary, driven as a user would: JSON lines on stdout, errors on stderr, no panics.

mod common;

use common::*;
use std::process::{Command, Output};

fn localface(args: &[&str]) -> Output {
    let models = models_dir();
    Command::new(env!("CARGO_BIN_EXE_localface"))
        .args(args)
        .args(["--models", models.to_str().unwrap(), "--backend", "cpu"])
        .output()
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn embedding(v: &serde_json::Value) -> Vec<f32> {
    v["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[test]
fn embed_aligned_prints_one_unit_vector_per_crop() {
    let faces = faces_dir();
    let crops = ["amy/amy1.png", "amy/amy2.png", "sheldon/sheldon1.png"].map(|p| faces.join(p).display().to_string());
    let mut args = vec!["embed", "--aligned"];
    args.extend(crops.iter().map(String::as_str));
    let out = localface(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    let e: Vec<Vec<f32>> = lines.iter().map(embedding).collect();
    for (line, v) in lines.iter().zip(&e) {
        assert_eq!(v.len(), 192);
        assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(line["image"].as_str().unwrap().ends_with(".png"));
    }
    let (same, different) = (cosine(&e[0], &e[1]), cosine(&e[0], &e[2]));
    assert!(same > different + 0.2, "same person {same}, different {different}");
}

#[test]
fn bad_files_are_errors_not_panics() {
    let faces = faces_dir();
    let good = faces.join("amy/amy1.png").display().to_string();
    let dir = std::env::temp_dir().join(format!("localface-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.jpg");
    std::fs::write(&text, b"not an image at all").unwrap();
    let out =
        localface(&["embed", "--aligned", &good, empty.to_str().unwrap(), text.to_str().unwrap(), "/no/such/file.png"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(json_lines(&out).len(), 1, "the good file is still embedded");
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    assert!(stderr.contains("/no/such/file.png"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_model_folder_and_bad_usage_exit_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_localface"))
        .args(["embed", "--aligned", "x.png", "--models", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch-models"));
    let out = Command::new(env!("CARGO_BIN_EXE_localface")).args(["frobnicate", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command"));
}
