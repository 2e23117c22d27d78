//! The CPU backend: runs a graph node by node. `reference` holds the plain scalar kernels; `simd` the fast
//! ones, whose weights `CpuModel` lays out once at load.

pub mod reference;
pub mod simd;

use crate::error::{Error, Result};
use crate::model::{shape, Activation, Graph, Node, Op, Tensor};

/// The scalar reference: runs `graph` on `inputs` (one per graph input, any batch) with `reference` only.
pub fn run(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    execute(graph, inputs, |_, node, get, shapes| reference_node(node, get, shapes))
}

/// A node's kernel with its weights laid out for the SIMD kernels.
#[derive(Debug, Clone)]
enum Fast {
    Conv(simd::ConvGemm),
    Depthwise(simd::Depthwise),
    Dense(simd::Dense),
}

/// A graph prepared for the fast kernels: convolutions and fully connected layers use `simd`, the
/// remaining (cheap) ops the reference kernels.
#[derive(Debug, Clone)]
pub struct CpuModel {
    fast: Vec<Option<Fast>>,
}

impl CpuModel {
    pub fn new(graph: &Graph) -> CpuModel {
        let fast = graph.nodes.iter().map(|node| prepare(graph, node)).collect();
        CpuModel { fast }
    }

    /// Runs the graph this model was prepared from.
    pub fn run(&self, graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        execute(graph, inputs, |k, node, get, shapes| {
            let x = get(0);
            let xs = || dims4(&shapes[node.inputs[0]]);
            match &self.fast[k] {
                Some(Fast::Conv(c)) => c.run(x, xs()),
                Some(Fast::Depthwise(d)) => d.run(x, xs()),
                Some(Fast::Dense(d)) => d.run(x),
                None => reference_node(node, get, shapes),
            }
        })
    }
}

fn prepare(graph: &Graph, node: &Node) -> Option<Fast> {
    let constant = |i: usize| graph.constant(node.inputs[i]).expect("validated: weights are constants");
    let slope = || if node.inputs.len() > 3 { constant(3) } else { &[][..] };
    let fs =
        |i: usize| -> [usize; 4] { graph.tensors[node.inputs[i]].shape.clone().try_into().expect("validated rank 4") };
    match &node.op {
        Op::Conv2d(c) => Some(Fast::Conv(simd::ConvGemm::new(constant(1), fs(1), constant(2), slope(), *c))),
        Op::DepthwiseConv2d(c) => {
            let [_, kh, kw, ch] = fs(1);
            Some(Fast::Depthwise(simd::Depthwise::new(constant(1), kh, kw, ch, constant(2), slope(), *c)))
        }
        Op::FullyConnected { activation, .. } => {
            let shape = &graph.tensors[node.inputs[1]].shape;
            Some(Fast::Dense(simd::Dense::new(constant(1), shape[0], shape[1], constant(2), slope(), *activation)))
        }
        _ => None,
    }
}

/// The shared executor: shape inference first, then each node through `kernel`, freeing every intermediate
/// tensor after its last reader.
fn execute(
    graph: &Graph,
    inputs: &[Tensor],
    kernel: impl for<'a> Fn(usize, &Node, &dyn Fn(usize) -> &'a [f32], &[Vec<usize>]) -> Vec<f32>,
) -> Result<Vec<Tensor>> {
    let input_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape.clone()).collect();
    let shapes = shape::infer(graph, &input_shapes)?;
    let mut values: Vec<Option<Vec<f32>>> = vec![None; graph.tensors.len()];
    for (&id, t) in graph.inputs.iter().zip(inputs) {
        if t.data.len() != shape::element_count(&t.shape)? {
            return Err(Error::Input(format!("{} values for an input of shape {:?}", t.data.len(), t.shape)));
        }
        values[id] = Some(t.data.clone());
    }
    let mut readers_left = graph.reader_counts();
    for (k, node) in graph.nodes.iter().enumerate() {
        let out = {
            let get = |i: usize| -> &[f32] {
                match &values[node.inputs[i]] {
                    Some(v) => v,
                    None => graph.constant(node.inputs[i]).expect("validated: defined before use"),
                }
            };
            kernel(k, node, &get, &shapes)
        };
        values[node.output] = Some(out);
        for &i in &node.inputs {
            readers_left[i] -= 1;
            if readers_left[i] == 0 {
                values[i] = None;
            }
        }
    }
    let outputs = graph
        .outputs
        .iter()
        .map(|&o| {
            let data = values[o]
                .clone()
                .or_else(|| graph.constant(o).map(<[f32]>::to_vec))
                .expect("validated: outputs are written");
            Tensor { shape: shapes[o].clone(), data }
        })
        .collect();
    Ok(outputs)
}

fn dims4(s: &[usize]) -> [usize; 4] {
    s.try_into().expect("shape inference checked the rank")
}

fn reference_node<'a>(node: &Node, get: &dyn Fn(usize) -> &'a [f32], shapes: &[Vec<usize>]) -> Vec<f32> {
    use reference as k;
    let shape = |i: usize| shapes[node.inputs[i]].as_slice();
    let out_shape = shapes[node.output].as_slice();
    let slope = |first_extra: usize| if node.inputs.len() > first_extra { get(first_extra) } else { &[][..] };
    match &node.op {
        Op::Conv2d(c) => k::conv2d(get(0), dims4(shape(0)), get(1), dims4(shape(1)), get(2), slope(3), c),
        Op::DepthwiseConv2d(c) => {
            k::depthwise_conv2d(get(0), dims4(shape(0)), get(1), dims4(shape(1)), get(2), slope(3), c)
        }
        Op::FullyConnected { activation, .. } => {
            let (out_features, width) = (shape(1)[0], shape(1)[1]);
            k::fully_connected(get(0), get(0).len() / width, get(1), out_features, get(2), slope(3), *activation)
        }
        Op::Add(a) => k::binary(get(0), shape(0), get(1), shape(1), out_shape, *a, |x, y| x + y),
        Op::Sub(a) => k::binary(get(0), shape(0), get(1), shape(1), out_shape, *a, |x, y| x - y),
        Op::Mul(a) => k::binary(get(0), shape(0), get(1), shape(1), out_shape, *a, |x, y| x * y),
        Op::Div(a) => k::binary(get(0), shape(0), get(1), shape(1), out_shape, *a, |x, y| x / y),
        Op::Prelu => {
            k::binary(
                get(0),
                shape(0),
                get(1),
                shape(1),
                out_shape,
                Activation::None,
                |x, s| if x >= 0.0 { x } else { x * s },
            )
        }
        Op::Abs => get(0).iter().map(|v| v.abs()).collect(),
        Op::Neg => get(0).iter().map(|v| -v).collect(),
        Op::Exp => get(0).iter().map(|v| v.exp()).collect(),
        Op::Dequantize => get(0).to_vec(),
        Op::Activation(a) => get(0).iter().map(|&v| k::activate(v, *a, &[], 0)).collect(),
        Op::LeakyRelu { alpha } => get(0).iter().map(|&v| if v > 0.0 { v } else { v * alpha }).collect(),
        Op::MaxPool2d(p) => k::pool2d(get(0), dims4(shape(0)), p, true),
        Op::AvgPool2d(p) => k::pool2d(get(0), dims4(shape(0)), p, false),
        Op::Pad(pads) => k::pad(get(0), shape(0), pads, out_shape),
        Op::Reshape(_) => get(0).to_vec(),
        Op::Concat { axis, activation } => {
            let parts: Vec<(&[f32], &[usize])> = (0..node.inputs.len()).map(|i| (get(i), shape(i))).collect();
            let out = k::concat(&parts, *axis, out_shape);
            out.into_iter().map(|v| k::activate(v, *activation, &[], 0)).collect()
        }
        Op::ResizeBilinear { size, align_corners, half_pixel_centers } => {
            k::resize_bilinear(get(0), dims4(shape(0)), *size, *align_corners, *half_pixel_centers)
        }
        Op::ReduceMax { axes, .. } => k::reduce(get(0), shape(0), axes, true),
        Op::Sum { axes, .. } => k::reduce(get(0), shape(0), axes, false),
    }
}
