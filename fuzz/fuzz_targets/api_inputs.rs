//! Fuzzes what the JS API hands the Rust side: a frame's width, height and pixel bytes (ImageData, any
//! length), and raw tensors for `TfliteModel.run` (any shape and values, NaN included). They go through
//! the real pipeline on the CPU: an error or a result, never a panic.
//! Input: width (1 byte), height (1 byte), shape selector (1 byte), then pixels or values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localface::backend::{block_on, Network, Target};
use localface::face::detect::{DetectOptions, Range};
use localface::face::{LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::Rgb;
use localface::model::{Graph, Tensor};
use std::sync::OnceLock;

fn model(file: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-models.sh)", path.display()))
}

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let (d, o, e) = (model(SHORT_RANGE), model(ONET), model(MOBILEFACENET));
        block_on(Pipeline::new(&d, Range::Short, Some(&o), &e, &Target::Cpu)).unwrap()
    })
}

fn onet() -> &'static Network {
    static NET: OnceLock<Network> = OnceLock::new();
    NET.get_or_init(|| Network::new(Graph::from_tflite(&model(ONET)).unwrap(), &Target::Cpu))
}

fuzz_target!(|data: &[u8]| {
    let [w, h, selector, rest @ ..] = data else { return };
    let (w, h) = (*w as usize, *h as usize);
    if selector % 2 == 0 {
        // A frame as ImageData gives it: RGB bytes that may not fill the size.
        let Ok(frame) = Rgb::new(w, h, rest.to_vec()) else { return };
        let p = pipeline();
        let options = DetectOptions { tiles: selector % 4 == 0, ..p.detector.default_options() };
        let _ = block_on(p.faces(&frame, &options, LandmarkSource::Onet));
    } else {
        // A tensor of any shape (rank 1 to 4) and values for O-Net: the shape may lie about the data.
        let rank = 1 + (*selector as usize >> 1) % 4;
        let shape: Vec<usize> = [w, h, 48, 3][..rank].to_vec();
        let values: Vec<f32> = rest.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let Ok(t) = Tensor::new(shape, values) else { return };
        let _ = block_on(onet().run(&[t]));
    }
});
