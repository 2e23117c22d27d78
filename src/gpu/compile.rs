//! A graph compiled for the GPU, once per model: one compute pipeline per kernel the graph uses, and its
//! weights uploaded (bias and PReLU slope expanded to one value per channel).

use super::kernels::{check_supported, kernel_of, Kernel};
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
    pub(super) pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
    /// Per node, the weights of a convolution or dense layer.
    pub(super) weights: Vec<Option<Weights>>,
    /// Constant tensors read by other ops (a PReLU slope, an added constant).
    pub(super) constants: HashMap<TensorId, wgpu::Buffer>,
    /// Per list of input shapes (a batch size), the plan of a run.
    pub(super) plans: Mutex<HashMap<Vec<Vec<usize>>, Arc<Plan>>>,
}

/// A convolution's or dense layer's weights on the GPU.
pub(super) struct Weights {
    pub filter: wgpu::Buffer,
    pub bias: wgpu::Buffer,
    pub slope: wgpu::Buffer,
}

impl GpuModel {
    /// Compiles a graph for the GPU: pipelines, weights. Any error the device reports meanwhile (a shader
    /// it cannot compile, memory) fails it.
    pub async fn new(gpu: Arc<Gpu>, graph: &Graph) -> Result<GpuModel> {
        gpu.check()?;
        for node in &graph.nodes {
            check_supported(node)?;
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

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    fn compile(gpu: Arc<Gpu>, graph: &Graph) -> GpuModel {
        let pipelines = pipelines(&gpu, graph);
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
        GpuModel { gpu, pipelines, weights, constants, plans: Mutex::new(HashMap::new()) }
    }
}

/// The pipelines of the kernels the graph uses, only those: shader compilation is most of a model's load
/// time.
fn pipelines(gpu: &Gpu, graph: &Graph) -> HashMap<Kernel, wgpu::ComputePipeline> {
    let broken = gpu.take(Fault::PipelineCreation);
    Kernel::ALL
        .into_iter()
        .filter(|&k| graph.nodes.iter().any(|n| kernel_of(n, graph) == Some(k)))
        .map(|k| {
            let mut source = k.module_source();
            if broken {
                source.push_str("\nthis is not WGSL");
            }
            let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&format!("{k:?}")),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
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

/// The weights of a convolution or dense layer (none for other ops).
fn upload_weights(device: &wgpu::Device, graph: &Graph, node: &Node) -> Option<Weights> {
    let channels = match &node.op {
        Op::Conv2d(_) | Op::FullyConnected { .. } => graph.tensors[node.inputs[1]].shape[0],
        Op::DepthwiseConv2d(_) => graph.tensors[node.inputs[1]].shape[3],
        _ => return None,
    };
    let constant = |i: usize| graph.constant(node.inputs[i]).expect("validated: weights are constants");
    // Bias and slope: one value per output channel (a one-value slope is repeated).
    let per_channel = |i: usize| -> Vec<f32> {
        match node.inputs.get(i).map(|_| constant(i)) {
            Some(v) if v.len() == channels => v.to_vec(),
            Some(v) => vec![v[0]; channels],
            None => vec![0.0; channels],
        }
    };
    Some(Weights {
        filter: upload(device, "filter", constant(1)),
        bias: upload(device, "bias", &per_channel(2)),
        slope: upload(device, "slope", &per_channel(3)),
    })
}

fn upload(device: &wgpu::Device, label: &str, data: &[f32]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(data),
        usage: wgpu::BufferUsages::STORAGE,
    })
}
