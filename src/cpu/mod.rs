//! The CPU backend: runs a graph step by step (`fuse`: its own lowering of the graph). `reference` holds the
//! plain scalar kernels; `simd` the fast ones, whose weights `CpuModel` lays out once at load.

pub mod fuse;
pub mod movement;
pub mod reference;
pub mod simd;

use crate::error::Result;
use crate::model::{shape, Activation, Conv, Graph, Op, Tensor};
use fuse::{Plan, Step};

/// The scalar reference: runs `graph` on `inputs` (one per graph input, any batch) with `reference` only.
pub fn run(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    run_reference(graph, &Plan::unfused(graph), inputs)
}

/// The scalar reference kernels along a plan (a fused join runs `reference::conv2d_add`).
pub fn run_reference(graph: &Graph, plan: &Plan, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    graph.check_inputs(inputs)?;
    execute(graph, plan, inputs, |(_, step), get, shapes| reference_step(graph, step, get, shapes), drop)
}

/// A node's kernel with its weights laid out for the SIMD kernels.
#[derive(Debug, Clone)]
enum Fast {
    Conv(simd::ConvGemm),
    Depthwise(simd::Depthwise),
    Dense(simd::Dense),
}

/// Buffers of tensors no longer needed, reused for new outputs without clearing (every fast kernel writes
/// all of its output), so that a warm run neither allocates nor zeroes much.
#[derive(Debug, Default)]
struct Pool(std::sync::Mutex<Vec<Vec<f32>>>);

impl Pool {
    /// A buffer of at least `n` values with arbitrary contents: a pooled one at least `n` long (the shortest),
    /// else the smallest pooled one with room (grown with zeros), else a new one. Buffers keep their length
    /// (the executor reads a tensor as its shape's first values), so a warm run, which asks for the same sizes
    /// as the run before, finds them long enough and writes no zeros.
    fn take(&self, n: usize) -> Vec<f32> {
        let mut free = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Among equals the one given back last (`rev`; `min_by_key` keeps the first it meets): likely still in
        // the cache, so writing the new output costs no fetch of its lines from memory.
        let long_enough = free.iter().enumerate().rev().filter(|(_, v)| v.len() >= n).min_by_key(|(_, v)| v.len());
        let with_room =
            || free.iter().enumerate().rev().filter(|(_, v)| v.capacity() >= n).min_by_key(|(_, v)| v.capacity());
        let best = long_enough.or_else(with_room);
        let mut v = match best.map(|(i, _)| i) {
            // `remove`, not `swap_remove`: the others keep the order they were given back in.
            Some(i) => free.remove(i),
            None => Vec::with_capacity(n),
        };
        if v.len() < n {
            v.resize(n, 0.0);
        }
        v
    }

    fn give(&self, v: Vec<f32>) {
        let mut free = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Enough for any model's live tensors; beyond that, let memory go.
        if free.len() < 64 {
            free.push(v);
        }
    }
}

/// A graph prepared for the fast kernels, its residual joins fused: convolutions, fully connected layers,
/// same-shape elementwise ops and pooling use `simd`; the remaining (cheap) ops the reference kernels.
/// Inputs are checked by the caller (`Network::run`).
#[derive(Debug)]
pub struct CpuModel {
    plan: Plan,
    /// Per step, its weights laid out for the SIMD kernels.
    fast: Vec<Option<Fast>>,
    pool: Pool,
}

impl CpuModel {
    pub fn new(graph: &Graph) -> CpuModel {
        let plan = Plan::residual_adds_fused(graph);
        let fast = plan.steps.iter().map(|step| prepare(graph, step)).collect();
        CpuModel { plan, fast, pool: Pool::default() }
    }

    /// Runs the graph this model was prepared from.
    pub fn run(&self, graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.run_timed(graph, inputs, None)
    }

    /// Runs the graph and appends each step's op name and time (milliseconds) to `profile`, in order.
    pub fn profile(
        &self,
        graph: &Graph,
        inputs: &[Tensor],
        profile: &mut Vec<(&'static str, f64)>,
    ) -> Result<Vec<Tensor>> {
        self.run_timed(graph, inputs, Some(profile))
    }

    fn run_timed(
        &self,
        graph: &Graph,
        inputs: &[Tensor],
        mut profile: Option<&mut Vec<(&'static str, f64)>>,
    ) -> Result<Vec<Tensor>> {
        execute(
            graph,
            &self.plan,
            inputs,
            |step, get, shapes| {
                let start = profile.as_ref().map(|_| now_ms());
                let out = self.step(graph, step, get, shapes);
                if let (Some(p), Some(start)) = (profile.as_mut(), start) {
                    p.push((step.1.name(graph), now_ms() - start));
                }
                out
            },
            |buffer| self.pool.give(buffer),
        )
    }

    fn step<'a>(
        &self,
        graph: &Graph,
        (k, step): (usize, &Step),
        get: &dyn Fn(usize) -> &'a [f32],
        shapes: &[Vec<usize>],
    ) -> Vec<f32> {
        let node = &graph.nodes[step.node];
        let out_len: usize = shapes[step.output].iter().product();
        let with = |kernel: &dyn Fn(&mut [f32])| {
            let mut out = self.pool.take(out_len);
            kernel(&mut out[..out_len]);
            out
        };
        {
            let x = get(0);
            let xs = || dims4(&shapes[node.inputs[0]]);
            let same_shapes = || node.inputs.len() == 2 && shapes[node.inputs[0]] == shapes[node.inputs[1]];
            // Which input is a single value the other is scaled or shifted by (the output has the other's shape).
            let scalar = || {
                (0..2).find(|&k| {
                    let count = |i: usize| shapes[node.inputs[i]].iter().product::<usize>();
                    node.inputs.len() == 2 && count(k) == 1 && shapes[node.inputs[1 - k]] == shapes[step.output]
                })
            };
            use simd::elementwise::{binary, binary_scalar, pool2d, resize_bilinear, Binary};
            match (&self.fast[k], &node.op) {
                (Some(Fast::Conv(c)), _) if step.add.is_some() => {
                    let skip = step.add.map(|a| simd::Skip { data: get(3), channels: shapes[a.skip][3] });
                    with(&|out| c.run(x, xs(), skip, out))
                }
                (Some(Fast::Conv(c)), _) => with(&|out| c.run(x, xs(), None, out)),
                (Some(Fast::Depthwise(d)), _) => with(&|out| d.run(x, xs(), out)),
                (Some(Fast::Dense(d)), _) => with(&|out| d.run(x, out)),
                (None, Op::Add(a)) if same_shapes() => with(&|out| binary(x, get(1), Binary::Add, *a, out)),
                (None, Op::Sub(a)) if same_shapes() => with(&|out| binary(x, get(1), Binary::Sub, *a, out)),
                (None, Op::Mul(a)) if same_shapes() => with(&|out| binary(x, get(1), Binary::Mul, *a, out)),
                (None, Op::Add(a) | Op::Sub(a) | Op::Mul(a)) if scalar().is_some() => {
                    let (k, op) = (scalar().expect("checked"), binary_op(&node.op));
                    with(&|out| binary_scalar(get(1 - k), get(k)[0], k == 0, op, *a, out))
                }
                (None, Op::MaxPool2d(p)) => with(&|out| pool2d(x, xs(), p, true, out)),
                (None, Op::AvgPool2d(p)) => with(&|out| pool2d(x, xs(), p, false, out)),
                (None, Op::Pad { pads, value }) => {
                    with(&|out| movement::pad(x, &shapes[node.inputs[0]], pads, *value, &shapes[step.output], out))
                }
                (None, Op::Slice { starts, .. }) => {
                    with(&|out| movement::slice(x, &shapes[node.inputs[0]], starts, &shapes[step.output], out))
                }
                (None, Op::Transpose(perm)) => with(&|out| movement::transpose(x, &shapes[node.inputs[0]], perm, out)),
                (None, Op::Concat { axis, activation: Activation::None }) => {
                    let parts: Vec<(&[f32], &[usize])> =
                        (0..node.inputs.len()).map(|i| (get(i), shapes[node.inputs[i]].as_slice())).collect();
                    with(&|out| movement::concat(&parts, *axis, &shapes[step.output], out))
                }
                (None, Op::Reshape(_)) => with(&|out| out.copy_from_slice(x)),
                (None, &Op::ResizeBilinear { size, align_corners, half_pixel_centers }) => {
                    with(&|out| resize_bilinear(x, xs(), size, [align_corners, half_pixel_centers], out))
                }
                _ => reference_step(graph, step, get, shapes),
            }
        }
    }
}

/// The fast binary kernels' op of an ADD, SUB or MUL.
fn binary_op(op: &Op) -> simd::elementwise::Binary {
    use simd::elementwise::Binary;
    match op {
        Op::Add(_) => Binary::Add,
        Op::Sub(_) => Binary::Sub,
        _ => Binary::Mul,
    }
}

/// Milliseconds from an arbitrary start, for profiles.
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Milliseconds from the page's start (`performance.now()`), for profiles.
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap_or_default();
    js_sys::Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&performance).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

fn prepare(graph: &Graph, step: &Step) -> Option<Fast> {
    let node = &graph.nodes[step.node];
    let constant = |i: usize| graph.constant(node.inputs[i]).expect("validated: weights are constants");
    let slope = || if node.inputs.len() > 3 { constant(3) } else { &[][..] };
    let fs =
        |i: usize| -> [usize; 4] { graph.tensors[node.inputs[i]].shape.clone().try_into().expect("validated rank 4") };
    match &node.op {
        // The activation of a fused join is the ADD's, after the skip: `ConvGemm::run` adds it before activating.
        Op::Conv2d(c) => {
            let conv = Conv { activation: step.add.map_or(c.activation, |a| a.activation), ..*c };
            Some(Fast::Conv(simd::ConvGemm::new(constant(1), fs(1), constant(2), slope(), conv)))
        }
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

/// The shared executor: shape inference first, then each step of the plan through `kernel`, handing every
/// intermediate tensor to `free` after its last reader. `kernel` gets the step with its index, and reads
/// the step's inputs (`Step::inputs`) by position.
fn execute(
    graph: &Graph,
    plan: &Plan,
    inputs: &[Tensor],
    mut kernel: impl for<'a> FnMut((usize, &Step), &dyn Fn(usize) -> &'a [f32], &[Vec<usize>]) -> Vec<f32>,
    mut free: impl FnMut(Vec<f32>),
) -> Result<Vec<Tensor>> {
    let input_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape.clone()).collect();
    let shapes = shape::infer(graph, &input_shapes)?;
    // Tensors computed so far; graph inputs are read where they are (not copied), constants from the graph.
    let mut values: Vec<Option<Vec<f32>>> = vec![None; graph.tensors.len()];
    let given = |id: usize| graph.inputs.iter().position(|&i| i == id).map(|p| inputs[p].data.as_slice());
    let mut readers_left = plan.readers.clone();
    for (k, step) in plan.steps.iter().enumerate() {
        let step_inputs = &step.inputs;
        let out = {
            let get = |i: usize| -> &[f32] {
                let id = step_inputs[i];
                match &values[id] {
                    // A pooled buffer may be longer than its tensor.
                    Some(v) => &v[..shapes[id].iter().product::<usize>()],
                    None => given(id).or_else(|| graph.constant(id)).expect("validated: defined before use"),
                }
            };
            kernel((k, step), &get, &shapes)
        };
        values[step.output] = Some(out);
        for &i in step_inputs {
            readers_left[i] -= 1;
            if readers_left[i] == 0 {
                if let Some(buffer) = values[i].take() {
                    free(buffer);
                }
            }
        }
    }
    let mut outputs = Vec::with_capacity(graph.outputs.len());
    for (k, &o) in graph.outputs.iter().enumerate() {
        // Moved out, unless the same tensor is listed again.
        let stored = if graph.outputs[k + 1..].contains(&o) { values[o].clone() } else { values[o].take() };
        let data = match stored {
            Some(mut v) => {
                v.truncate(shapes[o].iter().product());
                v
            }
            None => given(o).or_else(|| graph.constant(o)).expect("validated: outputs are written").to_vec(),
        };
        outputs.push(Tensor { shape: shapes[o].clone(), data });
    }
    Ok(outputs)
}

fn dims4(s: &[usize]) -> [usize; 4] {
    s.try_into().expect("shape inference checked the rank")
}

fn reference_step<'a>(graph: &Graph, step: &Step, get: &dyn Fn(usize) -> &'a [f32], shapes: &[Vec<usize>]) -> Vec<f32> {
    use reference as k;
    let node = &graph.nodes[step.node];
    let shape = |i: usize| shapes[node.inputs[i]].as_slice();
    let out_shape = shapes[step.output].as_slice();
    if let (Op::Conv2d(c), Some(add)) = (&node.op, step.add) {
        let conv = Conv { activation: add.activation, ..*c };
        return k::conv2d_add(get(0), dims4(shape(0)), get(1), dims4(shape(1)), get(2), get(3), &conv);
    }
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
        Op::Pad { pads, value } => k::pad(get(0), shape(0), pads, *value, out_shape),
        Op::Slice { starts, .. } => k::slice(get(0), shape(0), starts, out_shape),
        Op::Transpose(perm) => k::transpose(get(0), shape(0), perm),
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
