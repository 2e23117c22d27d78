//! A graph compiled for the GPU. Once per model: one compute pipeline per kernel and the weights uploaded
//! (bias and PReLU slope expanded to one value per channel). Once per input shape (batch): a plan, with
//! activation buffers assigned by liveness and reused, a parameter block and a bind group per dispatch, and
//! a staging buffer for the outputs. A run writes the inputs, records every dispatch in one compute pass,
//! submits once and reads back once.

use super::{Fault, Gpu, Oneshot};
use crate::error::{Error, Result};
use crate::model::shape::{self, window};
use crate::model::{Activation, Graph, Node, Op, Tensor, TensorId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kernel {
    Matmul,
    Conv,
    Depthwise,
    Binary,
    Unary,
    Pool,
    Pad,
    Copy,
    Resize,
    Reduce,
}

impl Kernel {
    const ALL: [Kernel; 10] = [
        Kernel::Matmul,
        Kernel::Conv,
        Kernel::Depthwise,
        Kernel::Binary,
        Kernel::Unary,
        Kernel::Pool,
        Kernel::Pad,
        Kernel::Copy,
        Kernel::Resize,
        Kernel::Reduce,
    ];

    fn source(self) -> &'static str {
        match self {
            Kernel::Matmul => include_str!("shaders/matmul.wgsl"),
            Kernel::Conv => include_str!("shaders/conv.wgsl"),
            Kernel::Depthwise => include_str!("shaders/depthwise.wgsl"),
            Kernel::Binary => include_str!("shaders/binary.wgsl"),
            Kernel::Unary => include_str!("shaders/unary.wgsl"),
            Kernel::Pool => include_str!("shaders/pool.wgsl"),
            Kernel::Pad => include_str!("shaders/pad.wgsl"),
            Kernel::Copy => include_str!("shaders/copy.wgsl"),
            Kernel::Resize => include_str!("shaders/resize.wgsl"),
            Kernel::Reduce => include_str!("shaders/reduce.wgsl"),
        }
    }
}

/// Invocations per workgroup of the one-dimensional kernels (the matmul uses 16 x 16).
const GROUP: u64 = 64;
const MAX_GROUPS: u64 = 65535;

/// A convolution's or dense layer's weights on the GPU.
struct Weights {
    filter: wgpu::Buffer,
    bias: wgpu::Buffer,
    slope: wgpu::Buffer,
}

/// A dispatch to make: kernel, parameters, bindings (inputs in binding order 1.., then the output),
/// workgroup counts.
type Step = (Kernel, Vec<u32>, Vec<Binding>, [u32; 2]);

/// One dispatch of a plan.
struct Dispatch {
    kernel: Kernel,
    bind_group: wgpu::BindGroup,
    groups: [u32; 2],
}

/// Everything a run with one input shape needs, made once.
struct Plan {
    shapes: Vec<Vec<usize>>,
    /// Kept alive for the bind groups: activation buffers and parameter blocks.
    _buffers: Vec<wgpu::Buffer>,
    inputs: Vec<wgpu::Buffer>,
    dispatches: Vec<Dispatch>,
    /// Graph outputs: the buffer holding each, and where it goes in the staging buffer (bytes).
    outputs: Vec<(wgpu::Buffer, u64, u64)>,
    staging: wgpu::Buffer,
}

pub struct GpuModel {
    gpu: Arc<Gpu>,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
    /// Per node, the weights of a convolution or dense layer.
    weights: Vec<Option<Weights>>,
    /// Constant tensors read by other ops (a PReLU slope, an added constant).
    constants: HashMap<TensorId, wgpu::Buffer>,
    plans: Mutex<HashMap<Vec<Vec<usize>>, Arc<Plan>>>,
}

/// The kernel that runs a node (none for a reshape, which shares its input's buffer).
fn kernel_of(node: &Node, graph: &Graph) -> Option<Kernel> {
    Some(match &node.op {
        Op::Conv2d(c) if pointwise(c, &graph.tensors[node.inputs[1]].shape) => Kernel::Matmul,
        Op::Conv2d(_) => Kernel::Conv,
        Op::FullyConnected { .. } => Kernel::Matmul,
        Op::DepthwiseConv2d(_) => Kernel::Depthwise,
        Op::Add(_) | Op::Sub(_) | Op::Mul(_) | Op::Div(_) | Op::Prelu => Kernel::Binary,
        Op::Abs | Op::Neg | Op::Exp | Op::Activation(_) | Op::LeakyRelu { .. } => Kernel::Unary,
        Op::MaxPool2d(_) | Op::AvgPool2d(_) => Kernel::Pool,
        Op::Pad(_) => Kernel::Pad,
        Op::Concat { .. } => Kernel::Copy,
        Op::ResizeBilinear { .. } => Kernel::Resize,
        Op::ReduceMax { .. } | Op::Sum { .. } => Kernel::Reduce,
        Op::Reshape(_) | Op::Dequantize => return None,
    })
}

/// A 1x1 convolution with stride 1 is a matrix multiply of the pixels by the filter.
fn pointwise(c: &crate::model::Conv, filter_shape: &[usize]) -> bool {
    filter_shape[1] == 1 && filter_shape[2] == 1 && c.stride == [1, 1]
}

fn unsupported<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(Error::gpu(format!("{what} is not supported by the GPU backend")))
}

fn activation_code(a: Activation) -> u32 {
    match a {
        Activation::None => 0,
        Activation::Relu => 1,
        Activation::Relu6 => 2,
        Activation::ReluN1To1 => 3,
        Activation::Prelu => 4,
    }
}

/// Checks what the kernels cannot do, before anything is uploaded.
fn check(node: &Node) -> Result<()> {
    match &node.op {
        Op::ReduceMax { axes, .. } | Op::Sum { axes, .. } => {
            let mut sorted = axes.clone();
            sorted.sort_unstable();
            if sorted.is_empty() {
                unsupported("a reduction over no axis")
            } else if sorted.windows(2).all(|w| w[1] == w[0] + 1) {
                Ok(())
            } else {
                unsupported("a reduction over axes that are not adjacent")
            }
        }
        _ => Ok(()),
    }
}

impl GpuModel {
    /// Compiles a graph for the GPU: pipelines, weights. Any error the device reports meanwhile (a shader
    /// it cannot compile, memory) fails it.
    pub async fn new(gpu: Arc<Gpu>, graph: &Graph) -> Result<GpuModel> {
        gpu.check()?;
        for node in &graph.nodes {
            check(node)?;
        }
        let _turn = gpu.turn().await;
        let scopes = [
            gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            gpu.device.push_error_scope(wgpu::ErrorFilter::Validation),
        ];
        let model = GpuModel::compile(gpu.clone(), graph);
        let mut errors = Vec::new();
        for scope in scopes.into_iter().rev() {
            if let Some(e) = scope.pop().await {
                errors.push(e.to_string());
            }
        }
        match errors.is_empty() {
            true => Ok(model),
            false => Err(Error::gpu(errors.join("; "))),
        }
    }

    fn compile(gpu: Arc<Gpu>, graph: &Graph) -> GpuModel {
        let device = &gpu.device;
        let common = include_str!("shaders/common.wgsl");
        // Only the kernels the graph uses: shader compilation is most of a model's load time.
        let broken = gpu.take(Fault::PipelineCreation);
        let pipelines = Kernel::ALL
            .into_iter()
            .filter(|&k| graph.nodes.iter().any(|n| kernel_of(n, graph) == Some(k)))
            .map(|k| {
                let mut source = format!("{common}\n{}", k.source());
                if broken {
                    source.push_str("\nthis is not WGSL");
                }
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(&format!("{k:?}")),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                });
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&format!("{k:?}")),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                });
                (k, pipeline)
            })
            .collect();
        let upload = |label: &str, data: &[f32]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let mut weights = Vec::with_capacity(graph.nodes.len());
        let mut constants = HashMap::new();
        for node in &graph.nodes {
            let channels = match &node.op {
                Op::Conv2d(_) | Op::FullyConnected { .. } => Some(graph.tensors[node.inputs[1]].shape[0]),
                Op::DepthwiseConv2d(_) => Some(graph.tensors[node.inputs[1]].shape[3]),
                _ => None,
            };
            match channels {
                Some(c) => {
                    let constant = |i: usize| graph.constant(node.inputs[i]).expect("validated: weights are constants");
                    // Bias and slope: one value per output channel (a one-value slope is repeated).
                    let per_channel = |i: usize| -> Vec<f32> {
                        match node.inputs.get(i).map(|_| constant(i)) {
                            Some(v) if v.len() == c => v.to_vec(),
                            Some(v) => vec![v[0]; c],
                            None => vec![0.0; c],
                        }
                    };
                    weights.push(Some(Weights {
                        filter: upload("filter", constant(1)),
                        bias: upload("bias", &per_channel(2)),
                        slope: upload("slope", &per_channel(3)),
                    }));
                }
                None => {
                    weights.push(None);
                    for &t in &node.inputs {
                        if let Some(data) = graph.constant(t) {
                            constants.entry(t).or_insert_with(|| upload("constant", data));
                        }
                    }
                }
            }
        }
        GpuModel { gpu, pipelines, weights, constants, plans: Mutex::new(HashMap::new()) }
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    /// Runs the graph: one submission, one readback; overlapping runs wait their turn. Fails (for the
    /// caller to fall back to the CPU) when the device is lost, out of memory, or reports any other error.
    /// `graph` is the one this model was compiled from (the network keeps it; the model keeps no copy).
    pub async fn run(&self, graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let _turn = self.gpu.turn().await;
        self.run_once(graph, inputs).await
    }

    async fn run_once(&self, graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.gpu.check()?;
        let input_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape.clone()).collect();
        let device = &self.gpu.device;
        let scopes = [
            device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            device.push_error_scope(wgpu::ErrorFilter::Validation),
            device.push_error_scope(wgpu::ErrorFilter::Internal),
        ];
        let planned = self.plan(graph, &input_shapes);
        let done = planned.as_ref().ok().map(|plan| self.submit(plan, inputs));
        #[cfg(not(target_arch = "wasm32"))]
        if done.is_some() {
            device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| Error::gpu(format!("waiting for the GPU: {e}")))?;
        }
        let mapped = match done {
            Some(done) => Some(done.recv().await),
            None => None,
        };
        // Scopes pop in reverse order; any error fails the run.
        let mut errors = Vec::new();
        for scope in scopes.into_iter().rev() {
            if let Some(e) = scope.pop().await {
                errors.push(e.to_string());
            }
        }
        if self.gpu.take(Fault::OutOfMemory) {
            errors.push("out of memory (injected by a test)".into());
        }
        let plan = planned?;
        if let Err(e) = self.gpu.check() {
            if matches!(mapped, Some(Ok(()))) {
                plan.staging.unmap();
            }
            return Err(e);
        }
        match mapped {
            Some(Ok(())) if errors.is_empty() => {}
            Some(Ok(())) => {
                plan.staging.unmap();
                return Err(Error::gpu(errors.join("; ")));
            }
            Some(Err(e)) => return Err(Error::gpu(format!("reading the results back: {e}; {}", errors.join("; ")))),
            None => return Err(Error::gpu("nothing was submitted")),
        }
        let outputs = {
            let view = plan.staging.slice(..).get_mapped_range().map_err(|e| Error::gpu(e.to_string()))?;
            let floats: &[f32] = bytemuck::cast_slice(&view);
            graph
                .outputs
                .iter()
                .zip(&plan.outputs)
                .map(|(&o, (_, at, bytes))| {
                    let (start, len) = ((*at / 4) as usize, (*bytes / 4) as usize);
                    Tensor { shape: plan.shapes[o].clone(), data: floats[start..start + len].to_vec() }
                })
                .collect()
        };
        plan.staging.unmap();
        Ok(outputs)
    }

    /// Records and submits one run; the returned oneshot fires when the results are readable.
    fn submit(&self, plan: &Plan, inputs: &[Tensor]) -> Arc<Oneshot<std::result::Result<(), wgpu::BufferAsyncError>>> {
        let (device, queue) = (&self.gpu.device, &self.gpu.queue);
        for (buffer, t) in plan.inputs.iter().zip(inputs) {
            queue.write_buffer(buffer, 0, bytemuck::cast_slice(&t.data));
        }
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("run") });
        {
            let mut pass =
                encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("run"), timestamp_writes: None });
            for d in &plan.dispatches {
                pass.set_pipeline(&self.pipelines[&d.kernel]);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups[0], d.groups[1], 1);
            }
        }
        for (buffer, at, bytes) in &plan.outputs {
            encoder.copy_buffer_to_buffer(buffer, 0, &plan.staging, *at, *bytes);
        }
        queue.submit([encoder.finish()]);
        let done = Oneshot::new();
        let sender = done.clone();
        plan.staging.slice(..).map_async(wgpu::MapMode::Read, move |r| sender.send(r));
        done
    }

    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))] // one thread there
    fn plan(&self, graph: &Graph, input_shapes: &[Vec<usize>]) -> Result<Arc<Plan>> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = plans.get(input_shapes) {
            return Ok(p.clone());
        }
        let plan = Arc::new(self.build_plan(graph, input_shapes)?);
        // A few shapes at most (batch sizes); drop them all rather than grow without bound.
        if plans.len() >= 8 {
            plans.clear();
        }
        plans.insert(input_shapes.to_vec(), plan.clone());
        Ok(plan)
    }

    fn build_plan(&self, graph: &Graph, input_shapes: &[Vec<usize>]) -> Result<Plan> {
        let device = &self.gpu.device;
        let shapes = shape::infer(graph, input_shapes)?;
        let bytes_of = |t: TensorId| -> u64 { (shapes[t].iter().product::<usize>() * 4) as u64 };
        let mut pool = BufferPool {
            device,
            max_binding: device.limits().max_storage_buffer_binding_size,
            buffers: vec![],
            live: vec![],
            free: vec![],
        };
        let mut placed: Vec<Option<usize>> = vec![None; graph.tensors.len()];
        for &i in &graph.inputs {
            placed[i] = Some(pool.allocate(bytes_of(i))?);
        }
        let input_ids: Vec<usize> = graph.inputs.iter().map(|&i| placed[i].expect("placed above")).collect();
        let mut readers_left = graph.reader_counts();
        let mut steps: Vec<(usize, Vec<Step>)> = Vec::new();
        for (k, node) in graph.nodes.iter().enumerate() {
            let aliased = matches!(node.op, Op::Reshape(_) | Op::Dequantize);
            let out = if aliased {
                let b = placed[node.inputs[0]].ok_or_else(|| Error::gpu("reshape of a constant"))?;
                pool.live[b] += 1;
                b
            } else {
                pool.allocate(bytes_of(node.output))?
            };
            placed[node.output] = Some(out);
            if !aliased {
                steps.push((k, self.dispatches(graph, node, &shapes)?));
            }
            for &i in &node.inputs {
                if graph.constant(i).is_some() {
                    continue;
                }
                readers_left[i] -= 1;
                if readers_left[i] == 0 {
                    pool.release(placed[i].expect("defined before use"));
                }
            }
        }
        let buffers = pool.buffers;
        // Bind groups, now that every tensor has its buffer.
        let mut params_buffers = Vec::new();
        let mut dispatches = Vec::new();
        for (k, list) in steps {
            let node = &graph.nodes[k];
            for (kernel, params, bindings, groups) in list {
                let mut block = [0u32; 32];
                block[..params.len()].copy_from_slice(&params);
                let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: bytemuck::cast_slice(&block),
                    usage: wgpu::BufferUsages::UNIFORM,
                });
                let resource = |b: &Binding| -> &wgpu::Buffer {
                    match b {
                        Binding::Tensor(t) => match placed[*t] {
                            Some(i) => &buffers[i].0,
                            None => &self.constants[t],
                        },
                        Binding::Filter => &self.weights[k].as_ref().expect("weights of this node").filter,
                        Binding::Bias => &self.weights[k].as_ref().expect("weights of this node").bias,
                        Binding::Slope => &self.weights[k].as_ref().expect("weights of this node").slope,
                        Binding::Output => &buffers[placed[node.output].expect("placed")].0,
                    }
                };
                let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
                for (slot, b) in bindings.iter().enumerate() {
                    let binding = if matches!(b, Binding::Output) { 5 } else { slot as u32 + 1 };
                    entries.push(wgpu::BindGroupEntry { binding, resource: resource(b).as_entire_binding() });
                }
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(node.op.name()),
                    layout: &self.pipelines[&kernel].get_bind_group_layout(0),
                    entries: &entries,
                });
                params_buffers.push(uniform);
                dispatches.push(Dispatch { kernel, bind_group, groups });
            }
        }
        let mut at = 0u64;
        let mut outputs = Vec::new();
        for &o in &graph.outputs {
            let bytes = bytes_of(o);
            let b = placed[o].ok_or_else(|| Error::gpu("a graph output is a constant"))?;
            outputs.push((buffers[b].0.clone(), at, bytes));
            at += bytes;
        }
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: at.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let inputs = input_ids.iter().map(|&i| buffers[i].0.clone()).collect();
        let mut all: Vec<wgpu::Buffer> = buffers.into_iter().map(|(b, _)| b).collect();
        all.extend(params_buffers);
        Ok(Plan { shapes, _buffers: all, inputs, dispatches, outputs, staging })
    }

    /// The dispatches of one node: kernel, parameters, bindings (in binding order 1.., then the output),
    /// workgroup counts.
    fn dispatches(&self, graph: &Graph, node: &Node, shapes: &[Vec<usize>]) -> Result<Vec<Step>> {
        let shape = |i: usize| &shapes[node.inputs[i]];
        let out_shape = &shapes[node.output];
        let total: usize = out_shape.iter().product();
        let flat = |n: usize| -> (u32, [u32; 2]) {
            let groups = (n as u64).div_ceil(GROUP);
            let x = groups.min(MAX_GROUPS);
            (x as u32, [x as u32, groups.div_ceil(x) as u32])
        };
        let (gx, groups) = flat(total);
        let u = |v: usize| v as u32;
        let weights =
            vec![Binding::Tensor(node.inputs[0]), Binding::Filter, Binding::Bias, Binding::Slope, Binding::Output];
        let one_input = vec![Binding::Tensor(node.inputs[0]), Binding::Output];
        // The parameter block of the windowed kernels (conv, depthwise, pool; see conv.wgsl): slot 7 is the
        // output channels, or for pooling whether it takes the max.
        let window_params =
            |xs: &[usize], k: [usize; 2], stride: [usize; 2], dilation: [usize; 2], padding, slot7, act| {
                let (oh, pad_top) = window(xs[1], k[0], stride[0], dilation[0], padding)?;
                let (ow, pad_left) = window(xs[2], k[1], stride[1], dilation[1], padding)?;
                Ok::<_, Error>(vec![
                    u(total),
                    gx,
                    u(xs[1]),
                    u(xs[2]),
                    u(xs[3]),
                    u(oh),
                    u(ow),
                    slot7,
                    u(k[0]),
                    u(k[1]),
                    u(stride[0]),
                    u(stride[1]),
                    u(dilation[0]),
                    u(dilation[1]),
                    u(pad_top),
                    u(pad_left),
                    activation_code(act),
                ])
            };
        let conv_params = |c: &crate::model::Conv, xs: &[usize], fs: &[usize], co: usize| {
            window_params(xs, [fs[1], fs[2]], c.stride, c.dilation, c.padding, u(co), c.activation)
        };
        Ok(match &node.op {
            Op::Conv2d(c) => {
                let (xs, fs) = (shape(0), &graph.tensors[node.inputs[1]].shape);
                if pointwise(c, fs) {
                    let (m, k, n) = (xs[0] * xs[1] * xs[2], xs[3], fs[0]);
                    vec![(
                        Kernel::Matmul,
                        vec![u(m), u(k), u(n), activation_code(c.activation)],
                        weights,
                        matmul_groups(m, n),
                    )]
                } else {
                    vec![(Kernel::Conv, conv_params(c, xs, fs, fs[0])?, weights, groups)]
                }
            }
            Op::DepthwiseConv2d(c) => {
                let (xs, fs) = (shape(0), &graph.tensors[node.inputs[1]].shape);
                vec![(Kernel::Depthwise, conv_params(c, xs, fs, fs[3])?, weights, groups)]
            }
            Op::FullyConnected { activation, .. } => {
                let fs = &graph.tensors[node.inputs[1]].shape;
                let (k, n) = (fs[1], fs[0]);
                let m = shape(0).iter().product::<usize>() / k;
                vec![(
                    Kernel::Matmul,
                    vec![u(m), u(k), u(n), activation_code(*activation)],
                    weights,
                    matmul_groups(m, n),
                )]
            }
            Op::Add(_) | Op::Sub(_) | Op::Mul(_) | Op::Div(_) | Op::Prelu => {
                let (op, act) = match &node.op {
                    Op::Add(a) => (0, a),
                    Op::Sub(a) => (1, a),
                    Op::Mul(a) => (2, a),
                    Op::Div(a) => (3, a),
                    _ => (4, &Activation::None),
                };
                let (od, sa, sb) = (
                    dims4(out_shape)?,
                    broadcast_strides(shape(0), out_shape)?,
                    broadcast_strides(shape(1), out_shape)?,
                );
                let mut p = vec![u(total), gx, op, activation_code(*act)];
                p.extend(od.iter().chain(&sa).chain(&sb).map(|&v| u(v)));
                vec![(
                    Kernel::Binary,
                    p,
                    vec![Binding::Tensor(node.inputs[0]), Binding::Tensor(node.inputs[1]), Binding::Output],
                    groups,
                )]
            }
            Op::Abs | Op::Neg | Op::Exp | Op::Activation(_) | Op::LeakyRelu { .. } => {
                let (op, act, alpha) = match &node.op {
                    Op::Abs => (1, Activation::None, 0.0),
                    Op::Neg => (2, Activation::None, 0.0),
                    Op::Exp => (3, Activation::None, 0.0),
                    Op::LeakyRelu { alpha } => (4, Activation::None, *alpha),
                    Op::Activation(a) if *a != Activation::Prelu => (0, *a, 0.0),
                    _ => return unsupported("a PReLU without a slope"),
                };
                vec![(
                    Kernel::Unary,
                    vec![u(total), gx, op, activation_code(act), f32::to_bits(alpha)],
                    one_input,
                    groups,
                )]
            }
            Op::MaxPool2d(p) | Op::AvgPool2d(p) => {
                let max = u32::from(matches!(node.op, Op::MaxPool2d(_)));
                let params = window_params(shape(0), p.filter, p.stride, [1, 1], p.padding, max, p.activation)?;
                vec![(Kernel::Pool, params, one_input, groups)]
            }
            Op::Pad(pads) => {
                if pads.len() > 4 {
                    return unsupported("padding a tensor of rank above 4");
                }
                let lead = 4 - pads.len();
                let mut before = [0usize; 4];
                for (d, p) in pads.iter().enumerate() {
                    before[lead + d] = p[0];
                }
                let mut p = vec![u(total), gx, 0, 0];
                p.extend(dims4(out_shape)?.iter().chain(&dims4(shape(0))?).chain(&before).map(|&v| u(v)));
                vec![(Kernel::Pad, p, one_input, groups)]
            }
            Op::Concat { axis, activation } => {
                let outer: usize = out_shape[..*axis].iter().product();
                let inner: usize = out_shape[axis + 1..].iter().product();
                let mut offset = 0;
                let mut list = Vec::new();
                for i in 0..node.inputs.len() {
                    let part = shape(i)[*axis];
                    let n = outer * part * inner;
                    let (gx, groups) = flat(n);
                    let p =
                        vec![u(n), gx, u(part), u(inner), u(out_shape[*axis]), u(offset), activation_code(*activation)];
                    list.push((Kernel::Copy, p, vec![Binding::Tensor(node.inputs[i]), Binding::Output], groups));
                    offset += part;
                }
                list
            }
            Op::ResizeBilinear { size, align_corners, half_pixel_centers } => {
                let xs = shape(0);
                let scale = |input: usize, output: usize| {
                    if *align_corners && output > 1 {
                        input.saturating_sub(1) as f32 / (output - 1) as f32
                    } else {
                        input as f32 / output as f32
                    }
                };
                let p = vec![
                    u(total),
                    gx,
                    u(xs[1]),
                    u(xs[2]),
                    u(xs[3]),
                    u(size[0]),
                    u(size[1]),
                    scale(xs[1], size[0]).to_bits(),
                    scale(xs[2], size[1]).to_bits(),
                    u32::from(*half_pixel_centers),
                ];
                vec![(Kernel::Resize, p, one_input, groups)]
            }
            Op::ReduceMax { axes, .. } | Op::Sum { axes, .. } => {
                let xs = shape(0);
                let (first, last) = (*axes.iter().min().unwrap_or(&0), *axes.iter().max().unwrap_or(&0));
                let outer: usize = xs[..first].iter().product();
                let reduced: usize = xs[first..=last].iter().product();
                let inner: usize = xs[last + 1..].iter().product();
                let (gx, groups) = flat(outer * inner);
                let max = u32::from(matches!(node.op, Op::ReduceMax { .. }));
                vec![(Kernel::Reduce, vec![u(outer * inner), gx, u(reduced), u(inner), max], one_input, groups)]
            }
            Op::Reshape(_) | Op::Dequantize => vec![],
        })
    }
}

/// Activation buffers of a plan, each shared by the tensors whose lives do not overlap.
struct BufferPool<'a> {
    device: &'a wgpu::Device,
    max_binding: u64,
    buffers: Vec<(wgpu::Buffer, u64)>,
    /// Per buffer, the live tensors it holds (a reshape shares its input's buffer).
    live: Vec<usize>,
    free: Vec<usize>,
}

impl BufferPool<'_> {
    /// The smallest free buffer that fits, or a new one.
    fn allocate(&mut self, bytes: u64) -> Result<usize> {
        if bytes > self.max_binding {
            return Err(Error::gpu(format!(
                "a tensor of {bytes} bytes exceeds the adapter's limit of {}",
                self.max_binding
            )));
        }
        let fit = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, &b)| self.buffers[b].1 >= bytes)
            .min_by_key(|(_, &b)| self.buffers[b].1);
        if let Some((i, _)) = fit {
            let b = self.free.swap_remove(i);
            self.live[b] = 1;
            return Ok(b);
        }
        let size = bytes.div_ceil(256) * 256;
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensor"),
            size,
            usage,
            mapped_at_creation: false,
        });
        self.buffers.push((buffer, size));
        self.live.push(1);
        Ok(self.buffers.len() - 1)
    }

    fn release(&mut self, b: usize) {
        self.live[b] -= 1;
        if self.live[b] == 0 {
            self.free.push(b);
        }
    }
}

/// What a binding of a dispatch refers to.
enum Binding {
    Tensor(TensorId),
    Filter,
    Bias,
    Slope,
    Output,
}

fn matmul_groups(m: usize, n: usize) -> [u32; 2] {
    [n.div_ceil(64) as u32, m.div_ceil(64) as u32]
}

/// A shape of rank <= 4 padded with ones on the left.
fn dims4(s: &[usize]) -> Result<[usize; 4]> {
    if s.len() > 4 {
        return unsupported(format!("a tensor of rank {}", s.len()));
    }
    let mut d = [1usize; 4];
    d[4 - s.len()..].copy_from_slice(s);
    Ok(d)
}

/// The strides to read `s` broadcast onto `out` (zero along broadcast dimensions), padded to rank 4.
fn broadcast_strides(s: &[usize], out: &[usize]) -> Result<[usize; 4]> {
    let (d, o) = (dims4(s)?, dims4(out)?);
    let mut strides = [0usize; 4];
    let mut step = 1;
    for i in (0..4).rev() {
        strides[i] = if d[i] == 1 && o[i] != 1 { 0 } else { step };
        step *= d[i];
    }
    Ok(strides)
}
