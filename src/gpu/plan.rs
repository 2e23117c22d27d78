//! The plan of a run, once per list of input shapes (a batch size): the tensors' shapes, activation buffers
//! assigned by liveness and reused, the dispatches (bound in `bind`), and a staging buffer for the outputs.

use super::bind::Dispatch;
use super::compile::GpuModel;
use super::dispatch::{steps, Step};
use super::fuse::Unit;
use crate::error::{Error, Result};
use crate::model::{shape, Graph, Op, TensorId};
use std::sync::Arc;

/// Everything a run with one list of input shapes needs, made once.
pub(super) struct Plan {
    pub shapes: Vec<Vec<usize>>,
    /// Kept alive for the bind groups: activation buffers and parameter blocks.
    pub _buffers: Vec<wgpu::Buffer>,
    /// The buffers the graph's inputs are written to, in order.
    pub inputs: Vec<wgpu::Buffer>,
    pub dispatches: Vec<Dispatch>,
    /// Graph outputs: the buffer holding each, and where it goes in the staging buffer (bytes).
    pub outputs: Vec<(wgpu::Buffer, u64, u64)>,
    pub staging: wgpu::Buffer,
}

/// Where each tensor lives, and the dispatches of each unit, before binding.
pub(super) struct Placement {
    /// Activation buffers and their sizes (bytes).
    pub buffers: Vec<(wgpu::Buffer, u64)>,
    /// Per tensor, its buffer (none for a constant, uploaded with the model).
    pub placed: Vec<Option<usize>>,
    pub steps: Vec<(Unit, Vec<Step>)>,
}

impl GpuModel {
    /// The plan for these input shapes, made on first use.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))] // one thread there
    pub(super) fn plan(&self, graph: &Graph, input_shapes: &[Vec<usize>]) -> Result<Arc<Plan>> {
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
        let placement = place(device, graph, &self.units, &shapes)?;
        let (dispatches, params_buffers) = self.bind(graph, &placement);
        let Placement { buffers, placed, .. } = placement;
        let bytes_of = |t: TensorId| -> u64 { (shapes[t].iter().product::<usize>() * 4) as u64 };
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
        let inputs = graph.inputs.iter().map(|&i| buffers[placed[i].expect("placed")].0.clone()).collect();
        let mut all: Vec<wgpu::Buffer> = buffers.into_iter().map(|(b, _)| b).collect();
        all.extend(params_buffers);
        Ok(Plan { shapes, _buffers: all, inputs, dispatches, outputs, staging })
    }
}

/// Assigns every tensor a buffer, unit by unit, releasing a buffer after the last reader of its tensor so
/// that a later tensor reuses it; and lists each unit's dispatches. Tensors inside a fused unit get none.
fn place(device: &wgpu::Device, graph: &Graph, units: &[Unit], shapes: &[Vec<usize>]) -> Result<Placement> {
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
    let mut readers_left = graph.reader_counts();
    let mut all_steps = Vec::new();
    for unit in units {
        let last = &graph.nodes[unit.last()];
        let aliased = matches!(last.op, Op::Reshape(_) | Op::Dequantize);
        let out = if aliased {
            let b = placed[last.inputs[0]].ok_or_else(|| Error::gpu("reshape of a constant"))?;
            pool.live[b] += 1;
            b
        } else {
            pool.allocate(bytes_of(last.output))?
        };
        placed[last.output] = Some(out);
        if !aliased {
            all_steps.push((unit.clone(), steps(graph, unit, shapes)?));
        }
        let nodes = unit.nodes();
        let inside = |t: TensorId| nodes.iter().any(|&k| graph.nodes[k].output == t);
        for &i in nodes.iter().flat_map(|&k| &graph.nodes[k].inputs) {
            if graph.constant(i).is_some() || inside(i) {
                continue;
            }
            readers_left[i] -= 1;
            if readers_left[i] == 0 {
                pool.release(placed[i].expect("defined before use"));
            }
        }
    }
    Ok(Placement { buffers: pool.buffers, placed, steps: all_steps })
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
