//! Every GPU kernel against the scalar CPU reference, on random and edge-case shapes: odd sizes, stride 2,
//! SAME and VALID padding, dilation, channel counts that are not a multiple of 4, every activation,
//! broadcasting. Each case is a small graph of one op (or a few, where buffers are shared) run whole
//! through `Network`, so the kernels' parameters, bindings and buffer planning are all tested.
//!
//! Tolerance: |gpu - reference| <= 2e-5 x max(1, largest |reference| value) per element. The GPU adds
//! in another order than the reference and may fuse multiply-adds; with inputs in [-1, 1] and at most a
//! few thousand terms per sum, that stays below 1e-5.
//!
//! Shared by the native tests (`tests/gpu.rs`, Vulkan: lavapipe in CI) and the browser tests
//! (`tests/web_gpu.rs`, WebGPU in headless Chromium).

use localface::backend::{Kernels, Network, Profile, Target};
use localface::gpu::{Fusion, Gpu};
use localface::model::{shape, Activation, Conv, Graph, Node, Op, Padding, Pool, Tensor, TensorId, TensorInfo};
use std::sync::Arc;

pub const TOLERANCE: f32 = 2e-5;

#[path = "rng.rs"]
mod rng;
use rng::Rng;

const ACTIVATIONS: [Activation; 5] =
    [Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1, Activation::Prelu];

/// A graph under construction; each op's declared output shape is inferred as it is added.
struct Builder {
    graph: Graph,
    input_shapes: Vec<Vec<usize>>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            graph: Graph { tensors: vec![], nodes: vec![], inputs: vec![], outputs: vec![] },
            input_shapes: vec![],
        }
    }

    fn tensor(&mut self, shape: Vec<usize>, data: Option<Vec<f32>>) -> TensorId {
        let name = format!("t{}", self.graph.tensors.len());
        self.graph.tensors.push(TensorInfo { name, shape, data });
        self.graph.tensors.len() - 1
    }

    fn input(&mut self, shape: &[usize]) -> TensorId {
        let id = self.tensor(shape.to_vec(), None);
        self.graph.inputs.push(id);
        self.input_shapes.push(shape.to_vec());
        id
    }

    fn constant(&mut self, shape: &[usize], data: Vec<f32>) -> TensorId {
        self.tensor(shape.to_vec(), Some(data))
    }

    fn op(&mut self, op: Op, inputs: &[TensorId]) -> TensorId {
        let output = self.tensor(vec![], None);
        self.graph.nodes.push(Node { op, inputs: inputs.to_vec(), output });
        self.graph.outputs = vec![output];
        let shapes = shape::infer(&self.graph, &self.input_shapes).unwrap_or_else(|e| panic!("test graph: {e}"));
        self.graph.tensors[output].shape = shapes[output].clone();
        output
    }

    fn finish(mut self, outputs: &[TensorId]) -> Graph {
        self.graph.outputs = outputs.to_vec();
        self.graph.validate().unwrap();
        self.graph
    }
}

/// Runs `graph` on the GPU and on the scalar reference with random inputs of the graph's declared input
/// shapes (batch included) and compares every output.
async fn agree(gpu: &Arc<Gpu>, what: &str, graph: Graph, rng: &mut Rng) {
    agree_fused(gpu, what, graph, rng, Fusion::default()).await;
}

/// `agree` with the GPU's fusions chosen; returns the network on the GPU.
async fn agree_fused(gpu: &Arc<Gpu>, what: &str, graph: Graph, rng: &mut Rng, fusion: Fusion) -> Network {
    let inputs: Vec<Tensor> = graph
        .inputs
        .iter()
        .map(|&i| {
            let shape = graph.tensors[i].shape.clone();
            let n = shape.iter().product();
            Tensor::new(shape, rng.values(n)).unwrap()
        })
        .collect();
    let want = Network::new(graph.clone(), &Target::Reference).run_cpu(&inputs).unwrap();
    let net = Network::load_with(graph, &Target::Gpu(gpu.clone()), fusion).await;
    assert_eq!(net.kernels(), Kernels::Gpu, "{what}: not on the GPU: {:?}", net.fallback());
    let got = net.run(&inputs).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    // A GPU failure would have been rerun on the CPU: make sure these numbers came from the GPU.
    assert_eq!(net.fallback(), None, "{what}: the GPU failed");
    assert_close(what, &got, &want);
    net
}

pub fn assert_close(what: &str, got: &[Tensor], want: &[Tensor]) {
    assert_eq!(got.len(), want.len(), "{what}: outputs");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.shape, w.shape, "{what}: shape");
        let scale = w.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in g.data.iter().zip(&w.data).enumerate() {
            assert!((a - b).abs() <= TOLERANCE * scale, "{what}: element {i} of {:?}: {a} vs {b}", w.shape);
        }
    }
}

fn random_conv(rng: &mut Rng) -> Conv {
    let stride = 1 + rng.below(2);
    let dilation = if rng.below(5) == 0 { 2 } else { 1 };
    Conv {
        padding: rng.pick(&[Padding::Same, Padding::Valid]),
        stride: [stride, stride],
        dilation: [dilation, dilation],
        activation: rng.pick(&ACTIVATIONS),
    }
}

/// Whether a VALID window fits the input.
fn fits(conv: &Conv, h: usize, w: usize, kh: usize, kw: usize) -> bool {
    conv.padding == Padding::Same || ((kh - 1) * conv.dilation[0] < h && (kw - 1) * conv.dilation[1] < w)
}

/// A convolution-like node: x, filter, bias and (with PReLU) a slope, per-channel or one value.
fn weighted(b: &mut Builder, rng: &mut Rng, op: Op, xs: &[usize], fs: &[usize], channels: usize) -> TensorId {
    let x = b.input(xs);
    weighted_on(b, rng, op, x, fs, channels)
}

/// A convolution-like node on a tensor of the graph.
fn weighted_on(b: &mut Builder, rng: &mut Rng, op: Op, x: TensorId, fs: &[usize], channels: usize) -> TensorId {
    let filter = b.constant(fs, rng.values(fs.iter().product()));
    let bias = b.constant(&[channels], rng.values(channels));
    let prelu = matches!(
        op,
        Op::Conv2d(Conv { activation: Activation::Prelu, .. })
            | Op::DepthwiseConv2d(Conv { activation: Activation::Prelu, .. })
            | Op::FullyConnected { activation: Activation::Prelu, .. }
    );
    let mut inputs = vec![x, filter, bias];
    if prelu {
        let n = if rng.below(4) == 0 { 1 } else { channels };
        inputs.push(b.constant(&[n], rng.values(n)));
    }
    b.op(op, &inputs)
}

/// Direct convolutions (kxk, any stride) and 1x1 convolutions (the tiled matrix multiply).
pub async fn conv2d(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(7);
    // The default models' shapes, tiles that do not divide the matrix, then random shapes.
    let mut cases: Vec<([usize; 4], [usize; 4], Option<Conv>)> = vec![
        ([2, 14, 14, 64], [128, 1, 1, 64], None),
        ([1, 7, 9, 37], [19, 1, 1, 37], None),
        ([3, 5, 5, 130], [67, 1, 1, 130], None),
        ([1, 17, 15, 3], [64, 3, 3, 3], None),
        ([1, 32, 32, 3], [24, 5, 5, 3], None),
    ];
    for _ in 0..40 {
        let (ci, co, k) = (1 + rng.below(19), 1 + rng.below(21), 1 + rng.below(5));
        let (h, w) = (k.max(2) + rng.below(9), k.max(2) + rng.below(9));
        cases.push(([1 + rng.below(3), h, w, ci], [co, k, 1 + rng.below(k), ci], None));
    }
    let mut count = 0;
    for (xs, fs, conv) in cases {
        let conv = conv.unwrap_or_else(|| random_conv(&mut rng));
        if !fits(&conv, xs[1], xs[2], fs[1], fs[2]) {
            continue;
        }
        let mut b = Builder::new();
        let out = weighted(&mut b, &mut rng, Op::Conv2d(conv), &xs, &fs, fs[0]);
        agree(gpu, &format!("conv {xs:?} * {fs:?} {conv:?}"), b.finish(&[out]), &mut rng).await;
        count += 1;
    }
    count
}

pub async fn depthwise(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(11);
    let mut cases: Vec<([usize; 4], usize, usize)> =
        vec![([2, 7, 7, 512], 7, 7), ([1, 16, 16, 42], 3, 3), ([1, 9, 9, 1], 3, 3), ([2, 112, 112, 5], 3, 3)];
    // Channels that divide by 4 (the four-channel kernel), as in the models.
    cases.extend([([2, 28, 28, 128], 3, 3), ([1, 9, 7, 8], 5, 3), ([1, 5, 5, 4], 1, 1)]);
    for _ in 0..40 {
        let k = 1 + rng.below(5);
        let (h, w) = (k.max(2) + rng.below(10), k.max(2) + rng.below(10));
        cases.push(([1 + rng.below(2), h, w, 1 + rng.below(23)], k, 1 + rng.below(k)));
    }
    let mut count = 0;
    for (xs, kh, kw) in cases {
        let mut conv = random_conv(&mut rng);
        if kh == 7 {
            // MobileFaceNet's global depthwise layer.
            conv = Conv { padding: Padding::Valid, stride: [1, 1], dilation: [1, 1], activation: Activation::None };
        }
        if !fits(&conv, xs[1], xs[2], kh, kw) {
            continue;
        }
        let mut b = Builder::new();
        let out = weighted(&mut b, &mut rng, Op::DepthwiseConv2d(conv), &xs, &[1, kh, kw, xs[3]], xs[3]);
        agree(gpu, &format!("depthwise {xs:?} {kh}x{kw} {conv:?}"), b.finish(&[out]), &mut rng).await;
        count += 1;
    }
    count
}

pub async fn fully_connected(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(13);
    let mut cases: Vec<(Vec<usize>, usize)> =
        vec![(vec![2, 512], 192), (vec![1, 1, 1, 512], 128), (vec![5, 33], 7), (vec![3, 2, 2, 9], 65)];
    for _ in 0..12 {
        cases.push((vec![1 + rng.below(9), 1 + rng.below(70)], 1 + rng.below(70)));
    }
    let mut count = 0;
    for (xs, n) in cases {
        let k = *xs.last().unwrap();
        let activation = rng.pick(&ACTIVATIONS);
        let mut b = Builder::new();
        let op = Op::FullyConnected { activation, keep_num_dims: false };
        let out = weighted(&mut b, &mut rng, op, &xs, &[n, k], n);
        agree(gpu, &format!("fully connected {xs:?} -> {n} {activation:?}"), b.finish(&[out]), &mut rng).await;
        count += 1;
    }
    count
}

/// A case of `fused`: a depthwise convolution (or none) on [b, h, w, c], a 1x1 convolution to n channels,
/// and a residual ADD (or none); `shared`: the depthwise output is a graph output too (no fusion).
struct FusedCase {
    xs: [usize; 4],
    depthwise: Option<usize>,
    n: usize,
    add: bool,
    shared: bool,
}

/// The fused dispatches (a 3x3 depthwise convolution into the 1x1 convolution after it, a residual ADD
/// into the matmul before it), with each choice of fusions: against the reference, and the dispatches
/// each case takes (one where everything fuses).
pub async fn fused(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(19);
    let case = |xs, depthwise, n, add, shared| FusedCase { xs, depthwise, n, add, shared };
    // MobileFaceNet's bottleneck and global depthwise layer, BlazeFace's 5x5 block, then random cases.
    let mut cases = vec![
        case([1, 14, 14, 256], Some(3), 128, true, false),
        case([2, 7, 7, 512], Some(7), 512, false, false),
        case([1, 16, 16, 24], Some(5), 24, true, false),
        case([1, 9, 9, 20], Some(3), 20, true, true),
        case([3, 5, 6, 33], None, 70, true, false),
    ];
    for _ in 0..24 {
        let k = if rng.below(3) > 0 { 3 } else { 1 + rng.below(5) };
        let xs = [1 + rng.below(2), k + rng.below(9), k + rng.below(9), 1 + rng.below(40)];
        let depthwise = (rng.below(4) > 0).then_some(k);
        cases.push(case(xs, depthwise, 1 + rng.below(80), rng.below(3) > 0, rng.below(5) == 0));
    }
    let mut count = 0;
    for c in cases {
        let mut b = Builder::new();
        let x = b.input(&c.xs);
        let (mut y, mut outputs, mut conv) = (x, vec![], None);
        if let Some(k) = c.depthwise {
            let mut dw = random_conv(&mut rng);
            dw.dilation = [1, 1];
            if k == 7 {
                dw = Conv { padding: Padding::Valid, stride: [1, 1], dilation: [1, 1], activation: Activation::None };
            }
            y = weighted_on(&mut b, &mut rng, Op::DepthwiseConv2d(dw), x, &[1, k, k, c.xs[3]], c.xs[3]);
            conv = Some(dw);
            if c.shared {
                outputs.push(y);
            }
        }
        let pw = Conv { padding: Padding::Same, stride: [1, 1], dilation: [1, 1], activation: rng.pick(&ACTIVATIONS) };
        let mut z = weighted_on(&mut b, &mut rng, Op::Conv2d(pw), y, &[c.n, 1, 1, c.xs[3]], c.n);
        if c.add {
            let r = b.input(&b.graph.tensors[z].shape.clone());
            let activation = rng.pick(&[Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1]);
            let inputs = if rng.below(2) == 0 { [z, r] } else { [r, z] };
            z = b.op(Op::Add(activation), &inputs);
        }
        outputs.push(z);
        let graph = b.finish(&outputs);
        // Only a 3x3 depthwise convolution that nothing else reads joins the matmul, and only with
        // `Fusion::All`; the ADD joins it with both.
        let apart = c.depthwise.is_some_and(|k| k != 3 || c.shared);
        for (fusion, dispatches) in
            [(Fusion::All, 1 + usize::from(apart)), (Fusion::Add, 1 + usize::from(c.depthwise.is_some()))]
        {
            let what = format!(
                "{:?} depthwise {:?} {conv:?}, 1x1 to {} {pw:?}, add {}, {fusion:?}",
                c.xs, c.depthwise, c.n, c.add
            );
            let net = agree_fused(gpu, &what, graph.clone(), &mut rng, fusion).await;
            let inputs = localface::profile::inputs(&net, c.xs[0]).unwrap();
            let Profile::Gpu(profile) = net.profile(&inputs).await.unwrap() else { panic!("{what}: not on the GPU") };
            assert_eq!(profile.dispatches.len(), dispatches, "{what}: dispatches {:?}", profile.dispatches);
        }
        count += 1;
    }
    count
}

/// Add, sub, mul, div and PReLU with numpy broadcasting (same shape, per channel, one value, per row).
pub async fn binary(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(17);
    let mut count = 0;
    for xs in [[1, 5, 7, 3], [2, 9, 4, 13], [3, 1, 1, 64]] {
        let c = xs[3];
        let others: [Vec<usize>; 5] = [xs.to_vec(), vec![c], vec![1], vec![xs[0], 1, 1, c], vec![1, xs[2], 1]];
        for other in others {
            for k in 0..5 {
                let activation = rng.pick(&ACTIVATIONS[..4]);
                let op = match k {
                    0 => Op::Add(activation),
                    1 => Op::Sub(activation),
                    2 => Op::Mul(activation),
                    3 => Op::Div(activation),
                    _ => Op::Prelu,
                };
                let mut b = Builder::new();
                let x = b.input(&xs);
                // The second operand as a constant and, where it has the batch, as a graph input.
                let y = if other.len() == 4 && rng.below(2) == 0 {
                    b.input(&other)
                } else {
                    let mut v = rng.values(other.iter().product());
                    if k == 3 {
                        // Keep divisors away from zero.
                        v.iter_mut().for_each(|d| *d = d.signum() * (0.5 + d.abs()));
                    }
                    b.constant(&other, v)
                };
                if k == 3 && b.graph.tensors[y].data.is_none() {
                    continue;
                }
                let out = b.op(op.clone(), &[x, y]);
                agree(gpu, &format!("{} {xs:?} with {other:?}", op.name()), b.finish(&[out]), &mut rng).await;
                count += 1;
            }
        }
    }
    count
}

pub async fn unary(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(19);
    let mut ops = vec![Op::Abs, Op::Neg, Op::Exp, Op::LeakyRelu { alpha: 0.2 }];
    ops.extend(ACTIVATIONS[..4].iter().map(|&a| Op::Activation(a)));
    let mut count = 0;
    for op in ops {
        for xs in [vec![1, 3, 5, 7], vec![2, 131], vec![1, 1, 1, 1]] {
            let mut b = Builder::new();
            let x = b.input(&xs);
            let out = b.op(op.clone(), &[x]);
            agree(gpu, &format!("{} {xs:?}", op.name()), b.finish(&[out]), &mut rng).await;
            count += 1;
        }
    }
    count
}

pub async fn pooling(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(23);
    let mut count = 0;
    for i in 0..24 {
        let (fh, fw) = (1 + rng.below(3), 1 + rng.below(3));
        let xs = [1 + rng.below(2), fh + rng.below(8), fw + rng.below(8), 1 + rng.below(13)];
        let stride = 1 + rng.below(2);
        let pool = Pool {
            padding: rng.pick(&[Padding::Same, Padding::Valid]),
            filter: [fh, fw],
            stride: [stride, stride],
            activation: rng.pick(&ACTIVATIONS[..4]),
        };
        let op = if i % 2 == 0 { Op::MaxPool2d(pool) } else { Op::AvgPool2d(pool) };
        let mut b = Builder::new();
        let x = b.input(&xs);
        let out = b.op(op.clone(), &[x]);
        agree(gpu, &format!("{} {xs:?} {pool:?}", op.name()), b.finish(&[out]), &mut rng).await;
        count += 1;
    }
    count
}

/// Pad, slice, transpose, resize, concatenation, reductions, and a reshape between ops (which shares its input's buffer).
pub async fn data_movement(gpu: &Arc<Gpu>) -> usize {
    let mut rng = Rng(29);
    let mut graphs: Vec<(String, Graph)> = Vec::new();
    for pads in [vec![[0, 0], [1, 2], [0, 3], [0, 0]], vec![[0, 0], [0, 0], [0, 0], [0, 5]], vec![[1, 0], [2, 2]]] {
        let xs: Vec<usize> = if pads.len() == 4 { vec![2, 5, 3, 6] } else { vec![3, 7] };
        let mut b = Builder::new();
        let x = b.input(&xs);
        let value = if pads.len() == 4 { -7.5 } else { 0.5 };
        let out = b.op(Op::Pad { pads: pads.clone(), value }, &[x]);
        graphs.push((format!("pad {xs:?} {pads:?} with {value}"), b.finish(&[out])));
    }
    for (xs, starts, sizes) in [
        (vec![2, 5, 3, 6], vec![1, 0, 2], vec![3, 3, 4]),
        (vec![3, 7], vec![6], vec![1]),
        (vec![1, 4, 4, 6], vec![0, 1, 3], vec![4, 2, 3]),
    ] {
        let mut b = Builder::new();
        let x = b.input(&xs);
        let out = b.op(Op::Slice { starts: starts.clone(), sizes: sizes.clone() }, &[x]);
        graphs.push((format!("slice {xs:?} from {starts:?} of {sizes:?}"), b.finish(&[out])));
    }
    // NHWC to NCHW and back, a channel shuffle's 5-D transposition (merged to 3-D on the GPU), dimensions
    // of one, none moved.
    for (xs, perm) in [
        (vec![2, 5, 3, 6], vec![0, 3, 1, 2]),
        (vec![2, 6, 5, 3], vec![0, 2, 3, 1]),
        (vec![2, 3, 3, 2, 5], vec![0, 1, 2, 4, 3]),
        (vec![1, 7, 1, 4], vec![0, 3, 2, 1]),
        (vec![3, 4], vec![0, 1]),
    ] {
        let mut b = Builder::new();
        let x = b.input(&xs);
        let out = b.op(Op::Transpose(perm.clone()), &[x]);
        graphs.push((format!("transpose {xs:?} by {perm:?}"), b.finish(&[out])));
    }
    for (xs, size) in
        [([1, 16, 16, 3], [8, 8]), ([2, 5, 7, 4], [9, 13]), ([1, 3, 4, 5], [3, 4]), ([1, 1, 1, 2], [3, 2])]
    {
        for (align_corners, half_pixel_centers) in [(false, false), (true, false), (false, true)] {
            let mut b = Builder::new();
            let x = b.input(&xs);
            let out = b.op(Op::ResizeBilinear { size, align_corners, half_pixel_centers }, &[x]);
            graphs.push((
                format!("resize {xs:?} to {size:?} ac {align_corners} hp {half_pixel_centers}"),
                b.finish(&[out]),
            ));
        }
    }
    for (axis, a, c) in
        [(3, [2, 4, 5, 3], [2, 4, 5, 7]), (1, [1, 3, 2, 5], [1, 6, 2, 5]), (2, [1, 2, 3, 1], [1, 2, 1, 1])]
    {
        let mut b = Builder::new();
        let (x, y) = (b.input(&a), b.input(&c));
        let activation = rng.pick(&ACTIVATIONS[..4]);
        let out = b.op(Op::Concat { axis, activation }, &[x, y]);
        graphs.push((format!("concat axis {axis} {a:?} {c:?}"), b.finish(&[out])));
    }
    for (xs, axes, keep_dims) in [
        (vec![2, 3, 4, 5], vec![3], true),
        (vec![2, 3, 4, 5], vec![1, 2], false),
        (vec![3, 10], vec![1], true),
        (vec![1, 6, 6, 2], vec![1, 2, 3], false),
    ] {
        for max in [true, false] {
            let mut b = Builder::new();
            let x = b.input(&xs);
            let op = if max {
                Op::ReduceMax { axes: axes.clone(), keep_dims }
            } else {
                Op::Sum { axes: axes.clone(), keep_dims }
            };
            let out = b.op(op.clone(), &[x]);
            graphs.push((format!("{} {xs:?} axes {axes:?}", op.name()), b.finish(&[out])));
        }
    }
    {
        // conv -> reshape -> add with the reshape's input still live: aliasing must not clobber it.
        let mut b = Builder::new();
        let x = b.input(&[2, 4, 4, 3]);
        let r = b.op(Op::Reshape(vec![-1, 48]), &[x]);
        let e = b.op(Op::Exp, &[r]);
        let back = b.op(Op::Reshape(vec![-1, 4, 4, 3]), &[e]);
        let sum = b.op(Op::Add(Activation::None), &[back, x]);
        graphs.push(("reshape chain".into(), b.finish(&[sum, r])));
    }
    let count = graphs.len();
    for (what, graph) in graphs {
        agree(gpu, &what, graph, &mut rng).await;
    }
    count
}
