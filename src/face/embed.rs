//! Embedding: a network on aligned 112x112 crops -> L2-normalised vectors. Two embedders are known, each with
//! its own input normalisation and cosine threshold (`SPECS`): MobileFaceNet (the default, 192-d) and
//! faceplugin's `fr_feature.onnx` (512-d, an optional download). Any other file is taken with MobileFaceNet's
//! normalisation and threshold, and named by its checksum.

use super::align::CROP;
use crate::backend::Network;
use crate::error::{Error, Result};
use crate::frame::Rgb;
use crate::model::Tensor;
use sha2::{Digest, Sha256};

/// What an embedder expects, and the cosine similarity from which two of its embeddings are one person.
#[derive(Debug, PartialEq)]
pub struct Spec {
    /// The name a gallery records (so that it refuses another embedder's queries).
    pub name: &'static str,
    pub file: &'static str,
    /// Input value = (pixel - mean) / 128.
    pub mean: f32,
    /// The crop's channels in BGR order rather than RGB.
    pub bgr: bool,
    pub cosine_threshold: f32,
    /// How much more than the threshold a masked or sunglasses template's similarity must reach
    /// (`gallery::Template::margin`): above the highest different-person similarity to such templates
    /// among the shared photos (`examples/occlusion.rs`), rounded up to the hundredth.
    pub masked_margin: f32,
    pub sunglasses_margin: f32,
}

/// The known embedders, the default first. Their thresholds, margins and fr_feature's channel order were
/// measured on the shared photos (`examples/evaluate.rs`, `examples/occlusion.rs`; figures in the README):
/// fr_feature's threshold is the first tenth above every different-person similarity there (its highest
/// is 0.38), as MobileFaceNet's 0.5 was when its highest was 0.48; BGR separated fr_feature's pairs a
/// little better than RGB (AUC 0.99989 against 0.99984).
pub const SPECS: [Spec; 2] = [
    Spec {
        name: "MobileFaceNet",
        file: "MobileFaceNet.tflite",
        mean: 127.5,
        bgr: false,
        cosine_threshold: 0.5,
        masked_margin: 0.11,
        sunglasses_margin: 0.04,
    },
    Spec {
        name: "fr_feature",
        file: "fr_feature.onnx",
        mean: 127.0,
        bgr: true,
        cosine_threshold: 0.4,
        masked_margin: 0.22,
        sunglasses_margin: 0.03,
    },
];

impl Spec {
    /// The known embedder of this name (the web API's `embedder` option).
    pub fn named(name: &str) -> Result<&'static Spec> {
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        SPECS.iter().find(|s| s.name == name).ok_or_else(|| crate::error::unknown_choice("embedder", name, &names))
    }

    /// The spec of a model file: a known one by its checksum, else MobileFaceNet's conventions.
    fn of(bytes: &[u8]) -> (&'static Spec, String) {
        let sum: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        let known = SPECS.iter().find(|s| crate::model::known::sha256_of(s.file) == Some(sum.as_str()));
        match known {
            Some(spec) => (spec, spec.name.to_string()),
            None => (&SPECS[0], format!("sha256:{}", &sum[..16])),
        }
    }
}

/// MobileFaceNet's input normalisation, (x - 127.5) / 128 (O-Net's too).
pub fn normalize(v: u8) -> f32 {
    (v as f32 - SPECS[0].mean) / 128.0
}

/// Packs aligned crops into one NHWC batch, normalised as `spec` says.
pub fn batch(crops: &[Rgb], spec: &Spec) -> Result<Tensor> {
    let mut data = Vec::with_capacity(crops.len() * CROP * CROP * 3);
    for c in crops {
        if c.width != CROP || c.height != CROP {
            return Err(Error::input(format!("aligned crop of {}x{}, expected {CROP}x{CROP}", c.width, c.height)));
        }
        for p in c.data.chunks_exact(3) {
            let pixel = if spec.bgr { [p[2], p[1], p[0]] } else { [p[0], p[1], p[2]] };
            data.extend(pixel.map(|v| (v as f32 - spec.mean) / 128.0));
        }
    }
    Tensor::new(vec![crops.len(), CROP, CROP, 3], data)
}

/// Scales a vector to unit length (left as it is when it is all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The embedding network, the width of its output, how it wants its input, and the name galleries know it by.
pub struct Embedder {
    pub net: Network,
    pub dim: usize,
    pub spec: &'static Spec,
    /// The spec's name, or for a file no spec knows, its checksum.
    pub name: String,
}

impl Embedder {
    /// An embedder of the network read from `bytes` (which tell which embedder it is).
    pub fn new(net: Network, bytes: &[u8]) -> Result<Embedder> {
        let graph = net.graph();
        let input = &graph.tensors[graph.inputs[0]].shape;
        let output = &graph.tensors[graph.outputs[0]].shape;
        if graph.inputs.len() != 1 || input[1..] != [CROP, CROP, 3] || output.len() != 2 {
            return Err(Error::model(format!(
                "embedder takes {input:?} -> {output:?}, expected [N,{CROP},{CROP},3] -> [N,D]"
            )));
        }
        let (spec, name) = Spec::of(bytes);
        Ok(Embedder { dim: output[1], net, spec, name })
    }

    /// Embeds aligned crops in one batch; each result is L2-normalised.
    pub async fn embed(&self, crops: &[Rgb]) -> Result<Vec<Vec<f32>>> {
        if crops.is_empty() {
            return Ok(vec![]);
        }
        let out = self.net.run(&[batch(crops, self.spec)?]).await?;
        let mut rows: Vec<Vec<f32>> = out[0].data.chunks_exact(self.dim).map(<[f32]>::to_vec).collect();
        rows.iter_mut().for_each(|r| l2_normalize(r));
        Ok(rows)
    }
}
