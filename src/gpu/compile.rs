//! A graph compiled for the GPU, once per model: its lowering to dispatches (`fuse`), one compute pipeline
//! per kernel those use, and its weights uploaded (per node one buffer: the filter, then the bias and the
//! PReLU slope expanded to one value per channel).

use super::fuse::{lower, Fusion, Unit};
use super::kernels::{check_supported, Kernel};
use super::plan::Plan;
use super::{Fault, Gpu};
use crate::error::{Error, Result};
use crate::model::{Graph, Node, Op, TensorId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// A graph compiled for the GPU; `run` it with that graph (the model keeps no copy of it).
pub struct GpuModel {
    pub(super) gpu: Arc<Gpu>,
    /// The dispatches that compute the graph, in order (the GPU's own lowering; no copy of the weights).
    pub(super) units: Vec<Unit>,
    pub(super) pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
    /// Per node, the weights of a convolution or dense layer: filter, biases, slopes.
    pub(super) weights: Vec<Option<wgpu::Buffer>>,
    /// Constant tensors read by other ops (a PReLU slope, an added constant).
    pub(super) constants: HashMap<TensorId, wgpu::Buffer>,
    /// Per list of input shapes (a batch size), the plan of a run.
    pub(super) plans: Mutex<HashMap<Vec<Vec<usize>>, Arc<Plan>>>,
}

impl GpuModel {
    /// Compiles a graph for the GPU with the given fusions: pipelines, weights. Any error the device
    /// reports meanwhile (a shader it cannot compile, memory) fails it.
    pub async fn new(gpu: Arc<Gpu>, graph: &Graph, fusion: Fusion) -> Result<GpuModel> {
        gpu.check()?;
        for node in &graph.nodes {
            check_supported(node)?;
        }
        let _turn = gpu.turn().await;
        let scopes = [
            gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            gpu.device.push_error_scope(wgpu::ErrorFilter::Validation),
        ];
        let model = GpuModel::compile(gpu.clone(), graph, fusion);
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

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    fn compile(gpu: Arc<Gpu>, graph: &Graph, fusion: Fusion) -> GpuModel {
        let units = lower(graph, fusion);
        let pipelines = pipelines(&gpu, graph, &units);
        let device = &gpu.device;
        let mut weights = Vec::with_capacity(graph.nodes.len());
        let mut constants = HashMap::new();
        for node in &graph.nodes {
            let node_weights = upload_weights(device, graph, node);
            if node_weights.is_none() {
                for &t in &node.inputs {
                    if let Some(data) = graph.constant(t) {
                        constants.entry(t).or_insert_with(|| upload(device, "constant", data));
                    }
                }
            }
            weights.push(node_weights);
        }
        GpuModel { gpu, units, pipelines, weights, constants, plans: Mutex::new(HashMap::new()) }
    }
}

/// The pipelines of the kernels the dispatches use, only those: shader compilation is most of a model's
/// load time.
fn pipelines(gpu: &Gpu, graph: &Graph, units: &[Unit]) -> HashMap<Kernel, wgpu::ComputePipeline> {
    let broken = gpu.take(Fault::PipelineCreation);
    Kernel::ALL
        .into_iter()
        .filter(|&k| units.iter().any(|u| u.kernel(graph) == Some(k)))
        .map(|k| {
            let mut source = k.module_source();
            if broken {
                source.push_str("\nthis is not WGSL");
            }
            let descriptor = wgpu::ShaderModuleDescriptor {
                label: Some(&format!("{k:?}")),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            };
            // Bounds checks stay; naga's guard against infinite loops goes: it keeps the driver from
            // unrolling the kernels' loops and made the matmul a hundred times slower on an NVIDIA GPU
            // (gfx-rs/wgpu#7698). SAFETY: every loop of these kernels is a `for` that counts up by a constant
            // step to a bound set from the plan's tensor shapes, each under 2^30 (`layout_tests` checks
            // that the shaders have no other kind of loop), so every loop ends.
            let mut checks = wgpu::ShaderRuntimeChecks::checked();
            checks.force_loop_bounding = false;
            let module = unsafe { gpu.device.create_shader_module_trusted(descriptor, checks) };
            let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("{k:?}")),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            (k, pipeline)
        })
        .collect()
}

/// The weights of a convolution or dense layer in one buffer (none for other ops): the filter, then one
/// bias and one slope per output channel (a one-value slope is repeated; missing ones are zeros).
fn upload_weights(device: &wgpu::Device, graph: &Graph, node: &Node) -> Option<wgpu::Buffer> {
    let channels = match &node.op {
        Op::Conv2d(_) | Op::FullyConnected { .. } => graph.tensors[node.inputs[1]].shape[0],
        Op::DepthwiseConv2d(_) => graph.tensors[node.inputs[1]].shape[3],
        _ => return None,
    };
    let constant = |i: usize| graph.constant(node.inputs[i]).expect("validated: weights are constants");
    let mut packed = constant(1).to_vec();
    for i in [2, 3] {
        match node.inputs.get(i).map(|_| constant(i)) {
            Some(v) if v.len() == channels => packed.extend_from_slice(v),
            Some(v) => packed.extend(std::iter::repeat_n(v[0], channels)),
            None => packed.extend(std::iter::repeat_n(0.0, channels)),
        }
    }
    Some(upload(device, "weights", &packed))
}

fn upload(device: &wgpu::Device, label: &str, data: &[f32]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(data),
        usage: wgpu::BufferUsages::STORAGE,
    })
}
