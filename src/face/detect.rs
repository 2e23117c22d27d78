//! Detection: BlazeFace (short or full range) as MediaPipe runs it: letterbox, SSD anchors, sigmoid scores,
//! weighted non-max suppression. Large frames are also cut into overlapping tiles so that small faces in
//! group photos are seen at a size the model knows.

use super::align::{shrink, warp, Affine, Edge};
use crate::backend::Network;
use crate::error::{Error, Result};
use crate::frame::Rgb;
use crate::model::Tensor;

/// A detected face in frame pixels (continuous coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// x, y, width, height.
    pub bbox: [f32; 4],
    pub score: f32,
    /// Subject's right eye, left eye, nose tip, mouth centre, right ear, left ear.
    pub keypoints: [[f32; 2]; 6],
}

/// Which BlazeFace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// 128x128, faces within about 2 m: selfies, webcams.
    Short,
    /// 192x192, faces within about 5 m: group photos.
    Full,
}

impl std::str::FromStr for Range {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Range> {
        match s {
            "short" => Ok(Range::Short),
            "full" => Ok(Range::Full),
            other => Err(crate::error::unknown_choice("detector", other, &["short", "full"])),
        }
    }
}

struct Anchor {
    cx: f32,
    cy: f32,
}

/// SSD anchors as MediaPipe's SsdAnchorsCalculator makes them with fixed anchor size: per feature map, two
/// anchors per cell for each layer of that stride (aspect ratio 1 and the interpolated scale), or one when
/// the interpolated scale is off.
fn anchors(size: usize, strides: &[usize], per_layer: usize) -> Vec<Anchor> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < strides.len() {
        let stride = strides[i];
        let layers = strides[i..].iter().take_while(|&&s| s == stride).count();
        let cells = size.div_ceil(stride);
        for y in 0..cells {
            for x in 0..cells {
                for _ in 0..layers * per_layer {
                    out.push(Anchor { cx: (x as f32 + 0.5) / cells as f32, cy: (y as f32 + 0.5) / cells as f32 });
                }
            }
        }
        i += layers;
    }
    out
}

/// Options for one detection call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Faces below this score are dropped.
    pub min_score: f32,
    /// Detections overlapping more than this (IoU) are merged.
    pub suppression: f32,
    /// Cut frames much larger than the model's input into overlapping tiles.
    pub tiles: bool,
}

pub struct Detector {
    pub net: Network,
    pub range: Range,
    size: usize,
    anchors: Vec<Anchor>,
}

/// Where a detector input came from: the frame region it shows and how it was scaled into it.
struct View {
    /// Maps detector-input continuous pixels to frame continuous pixels.
    to_frame: Affine,
    /// The view's frame region (x0, y0, x1, y1) and whether each edge is an inner tile edge.
    region: [f32; 4],
    inner: [bool; 4],
}

impl Detector {
    pub fn new(net: Network, range: Range) -> Result<Detector> {
        let graph = net.graph();
        let (size, anchors) = match range {
            Range::Short => (128, anchors(128, &[8, 16, 16, 16], 2)),
            Range::Full => (192, anchors(192, &[4], 1)),
        };
        let input = &graph.tensors[graph.inputs[0]].shape;
        let outputs: Vec<&Vec<usize>> = graph.outputs.iter().map(|&o| &graph.tensors[o].shape).collect();
        let fits = input[1..] == [size, size, 3]
            && outputs.len() == 2
            && outputs[0][1..] == [anchors.len(), 16]
            && outputs[1][1..] == [anchors.len(), 1];
        if !fits {
            return Err(Error::model(format!(
                "detector takes {input:?} -> {outputs:?}, expected BlazeFace {size}x{size} with {} anchors",
                anchors.len()
            )));
        }
        Ok(Detector { net, range, size, anchors })
    }

    /// MediaPipe's default options for this model, with tiling for large frames.
    pub fn default_options(&self) -> DetectOptions {
        let min_score = match self.range {
            Range::Short => 0.5,
            Range::Full => 0.6,
        };
        DetectOptions { min_score, suppression: 0.3, tiles: true }
    }

    /// Faces in a frame, by descending score.
    ///
    /// Each view's detections are merged as MediaPipe does (weighted non-max suppression); across views,
    /// a face keeps its best-scoring detection. (Averaging across views would blend a face seen sharp in a
    /// tile with a blurred guess from the whole frame.)
    pub async fn detect(&self, frame: &Rgb, options: &DetectOptions) -> Result<Vec<Detection>> {
        let views = self.views(frame, options.tiles);
        let (inputs, views): (Vec<Rgb>, Vec<View>) = views.into_iter().unzip();
        let mut data = Vec::with_capacity(inputs.len() * self.size * self.size * 3);
        for input in &inputs {
            data.extend(input.data.iter().map(|&v| v as f32 / 127.5 - 1.0));
        }
        let batch = Tensor::new(vec![inputs.len(), self.size, self.size, 3], data)?;
        let out = self.net.run(&[batch]).await?;
        let (boxes, scores) = (&out[0].data, &out[1].data);
        let n = self.anchors.len();
        let mut per_view = Vec::new();
        for (v, view) in views.iter().enumerate() {
            let raw = self.decode(&boxes[v * n * 16..][..n * 16], &scores[v * n..][..n], options.min_score);
            let whole = raw.into_iter().map(|d| to_frame(d, view)).filter(|d| !cut_by_tile_edge(d, view)).collect();
            per_view.extend(weighted_nms(whole, options.suppression));
        }
        // Best first; a detection overlapping one already kept is the same face.
        per_view.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Detection> = Vec::new();
        for d in per_view {
            if kept.iter().all(|k| !same_face(&k.bbox, &d.bbox, options.suppression)) {
                kept.push(d);
            }
        }
        Ok(kept)
    }

    /// The whole frame letterboxed and, for frames larger than three inputs, a pyramid of overlapping
    /// square tiles: each level half the size of the one before, down to three inputs wide, so that a
    /// face of any size reaches the detector whole and large enough in some view.
    fn views(&self, frame: &Rgb, tiles: bool) -> Vec<(Rgb, View)> {
        let (w, h) = (frame.width as f32, frame.height as f32);
        let mut views = vec![self.view(frame, [0.0, 0.0, w, h], [false; 4])];
        let smallest = 3.0 * self.size as f32;
        let mut side = w.max(h);
        while tiles && side > smallest {
            side = (side / 2.0).max(smallest);
            let step = side * 0.7;
            let starts = |len: f32| {
                let count = ((len - side) / step).ceil().max(0.0) as usize + 1;
                let room = (len - side).max(0.0);
                (0..count).map(move |i| if count == 1 { 0.0 } else { i as f32 * room / (count - 1) as f32 })
            };
            for y0 in starts(h) {
                for x0 in starts(w) {
                    let (x1, y1) = ((x0 + side).min(w), (y0 + side).min(h));
                    let inner = [x0 > 0.0, y0 > 0.0, x1 < w, y1 < h];
                    views.push(self.view(frame, [x0, y0, x1, y1], inner));
                }
            }
        }
        views
    }

    /// Letterboxes a frame region into the detector's square input (black bars, centred).
    fn view(&self, frame: &Rgb, region: [f32; 4], inner: [bool; 4]) -> (Rgb, View) {
        let (rw, rh) = (region[2] - region[0], region[3] - region[1]);
        let scale = self.size as f32 / rw.max(rh);
        // Average blocks first when shrinking a lot, so the bilinear warp does not alias.
        let factor = ((1.0 / scale).floor() as usize).max(1);
        let source = if factor > 1 { shrink(frame, factor) } else { frame.clone() };
        let (ox, oy) = ((self.size as f32 - rw * scale) / 2.0, (self.size as f32 - rh * scale) / 2.0);
        // input pixel -> frame pixel: frame = region origin + (input - offset) / scale
        let to_frame = Affine([1.0 / scale, 0.0, region[0] - ox / scale, 0.0, 1.0 / scale, region[1] - oy / scale]);
        let f = factor as f32;
        let to_source = Affine(to_frame.0.map(|v| v / f));
        let input = warp(&source, to_source, self.size, self.size, Edge::Black);
        (input, View { to_frame, region, inner })
    }

    /// Raw outputs of one view -> detections in that view's input pixels. Raw values are input pixels
    /// relative to the anchor centre; anchors are in normalised coordinates.
    fn decode(&self, boxes: &[f32], scores: &[f32], min_score: f32) -> Vec<Detection> {
        let s = self.size as f32;
        let mut out = Vec::new();
        for (i, anchor) in self.anchors.iter().enumerate() {
            let score = 1.0 / (1.0 + (-scores[i].clamp(-100.0, 100.0)).exp());
            if score < min_score || score.is_nan() {
                continue;
            }
            let r = &boxes[i * 16..][..16];
            let (ax, ay) = (anchor.cx * s, anchor.cy * s);
            let (cx, cy, w, h) = (r[0] + ax, r[1] + ay, r[2], r[3]);
            let mut keypoints = [[0.0; 2]; 6];
            for (k, p) in keypoints.iter_mut().enumerate() {
                *p = [r[4 + 2 * k] + ax, r[5 + 2 * k] + ay];
            }
            if w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite() {
                out.push(Detection { bbox: [cx - w / 2.0, cy - h / 2.0, w, h], score, keypoints });
            }
        }
        out
    }
}

/// From detector-input pixels to frame pixels.
fn to_frame(d: Detection, view: &View) -> Detection {
    let map = |p: [f32; 2]| view.to_frame.apply(p[0], p[1]);
    let [x, y, w, h] = d.bbox;
    let [fx, fy] = map([x, y]);
    let per_pixel = view.to_frame.0[0]; // frame pixels per input pixel
    Detection { bbox: [fx, fy, w * per_pixel, h * per_pixel], score: d.score, keypoints: d.keypoints.map(map) }
}

/// A tile's detection that touches an inner tile edge is a face cut in two: a neighbouring tile or the
/// whole-frame view sees it whole.
fn cut_by_tile_edge(d: &Detection, view: &View) -> bool {
    let [x, y, w, h] = d.bbox;
    let margin = 0.02 * (view.region[2] - view.region[0]);
    let near = [
        x < view.region[0] + margin,
        y < view.region[1] + margin,
        x + w > view.region[2] - margin,
        y + h > view.region[3] - margin,
    ];
    near.iter().zip(&view.inner).any(|(&n, &i)| n && i)
}

/// Two boxes of one face: they overlap by more than `threshold` (IoU), or one lies mostly inside the other.
fn same_face(a: &[f32; 4], b: &[f32; 4], threshold: f32) -> bool {
    let inter = intersection(a, b);
    let smaller = (a[2] * a[3]).min(b[2] * b[3]);
    iou(a, b) > threshold || inter > 0.5 * smaller
}

fn intersection(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        0.0
    } else {
        ix * iy
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter = intersection(a, b);
    if inter <= 0.0 {
        return 0.0;
    }
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// MediaPipe's weighted non-max suppression: the best detection absorbs all that overlap it by more than
/// `threshold`; box and keypoints become their score-weighted mean, the score stays the best one's.
pub fn weighted_nms(mut detections: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !detections.is_empty() {
        let top = detections.remove(0);
        let (mut group, rest): (Vec<Detection>, Vec<Detection>) =
            detections.into_iter().partition(|d| iou(&top.bbox, &d.bbox) > threshold);
        detections = rest;
        group.insert(0, top.clone());
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = Detection { bbox: [0.0; 4], score: top.score, keypoints: [[0.0; 2]; 6] };
        for d in &group {
            let wgt = d.score / total;
            (0..4).for_each(|i| merged.bbox[i] += d.bbox[i] * wgt);
            for (m, k) in merged.keypoints.iter_mut().zip(&d.keypoints) {
                m[0] += k[0] * wgt;
                m[1] += k[1] * wgt;
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_counts_match_the_models() {
        assert_eq!(anchors(128, &[8, 16, 16, 16], 2).len(), 896);
        assert_eq!(anchors(192, &[4], 1).len(), 2304);
        let a = anchors(128, &[8, 16, 16, 16], 2);
        assert_eq!((a[0].cx, a[0].cy), (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!((a[512].cx, a[512].cy), (0.5 / 8.0, 0.5 / 8.0));
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_the_rest() {
        let d = |x: f32, score: f32| Detection { bbox: [x, 0.0, 10.0, 10.0], score, keypoints: [[x, 0.0]; 6] };
        let out = weighted_nms(vec![d(0.0, 0.9), d(1.0, 0.9), d(50.0, 0.7)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].bbox[0], 0.5);
        assert_eq!(out[0].score, 0.9);
        assert_eq!(out[1].bbox[0], 50.0);
        // Nothing merges above an IoU of 1, and a NaN box cannot stall the loop.
        assert_eq!(weighted_nms(vec![d(0.0, 0.9), d(1.0, 0.8)], 1.5).len(), 2);
        assert_eq!(weighted_nms(vec![d(f32::NAN, 0.9), d(f32::NAN, 0.8)], 0.3).len(), 2);
    }
}
