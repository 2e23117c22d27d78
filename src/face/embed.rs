//! Embedding: MobileFaceNet on aligned 112x112 crops -> L2-normalised 192-d vectors.

use super::align::CROP;
use crate::backend::Network;
use crate::error::{Error, Result};
use crate::frame::Rgb;
use crate::model::Tensor;

/// MobileFaceNet's input normalisation: (x - 127.5) / 128.
pub fn normalize(v: u8) -> f32 {
    (v as f32 - 127.5) / 128.0
}

/// Packs aligned crops into one NHWC batch.
pub fn batch(crops: &[Rgb]) -> Result<Tensor> {
    let mut data = Vec::with_capacity(crops.len() * CROP * CROP * 3);
    for c in crops {
        if c.width != CROP || c.height != CROP {
            return Err(Error::input(format!("aligned crop of {}x{}, expected {CROP}x{CROP}", c.width, c.height)));
        }
        data.extend(c.data.iter().map(|&v| normalize(v)));
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

/// The embedding network and the width of its output.
pub struct Embedder {
    pub net: Network,
    pub dim: usize,
}

impl Embedder {
    pub fn new(net: Network) -> Result<Embedder> {
        let graph = net.graph();
        let input = &graph.tensors[graph.inputs[0]].shape;
        let output = &graph.tensors[graph.outputs[0]].shape;
        if graph.inputs.len() != 1 || input[1..] != [CROP, CROP, 3] || output.len() != 2 {
            return Err(Error::model(format!(
                "embedder takes {input:?} -> {output:?}, expected [N,{CROP},{CROP},3] -> [N,D]"
            )));
        }
        Ok(Embedder { dim: output[1], net })
    }

    /// Embeds aligned crops in one batch; each result is L2-normalised.
    pub async fn embed(&self, crops: &[Rgb]) -> Result<Vec<Vec<f32>>> {
        if crops.is_empty() {
            return Ok(vec![]);
        }
        let out = self.net.run(&[batch(crops)?]).await?;
        let mut rows: Vec<Vec<f32>> = out[0].data.chunks_exact(self.dim).map(<[f32]>::to_vec).collect();
        rows.iter_mut().for_each(|r| l2_normalize(r));
        Ok(rows)
    }
}
