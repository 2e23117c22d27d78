use localface::face::detect::{weighted_nms, Detector, Range};
use localface::model::Graph;
fn main() {
    let g = Graph::from_tflite(&std::fs::read("models/face_detection_short_range.tflite").unwrap()).unwrap();
    let d = Detector::new(g, Range::Short).unwrap();
    let img = localface::frame::load("../shared/data/faces/vlado/vlado5.jpg".as_ref()).unwrap();
    let mut o = d.default_options();
    o.suppression = 2.0; // no merging
    let all = d.detect(&img, &o).unwrap();
    for x in &all {
        println!("{:?} {}", x.bbox.map(|v| v.round()), x.score);
    }
    println!(
        "merged: {:?}",
        weighted_nms(all, 0.3).iter().map(|x| (x.bbox.map(|v| v.round()), x.score)).collect::<Vec<_>>()
    );
}
