//! Bind groups of a plan, once every tensor has its buffer: per dispatch, its parameters in a uniform buffer
//! (binding 0), then its inputs (1..) and output (5).

use super::compile::GpuModel;
use super::dispatch::{Binding, Step};
use super::kernels::Kernel;
use super::plan::Placement;
use crate::model::Graph;
use wgpu::util::DeviceExt;

/// One dispatch of a plan.
pub(super) struct Dispatch {
    /// The (last) node it computes, and the ops it computes ("DEPTHWISE_CONV_2D+CONV_2D+ADD"): for profiles.
    pub node: usize,
    pub name: String,
    pub kernel: Kernel,
    pub bind_group: wgpu::BindGroup,
    pub groups: [u32; 2],
}

/// The binding of a dispatch's output (its inputs take 1.. in order).
const OUTPUT_BINDING: u32 = 5;

impl GpuModel {
    /// The dispatches of a placed plan, and the uniform buffers of their parameters (to keep alive).
    pub(super) fn bind(&self, graph: &Graph, placement: &Placement) -> (Vec<Dispatch>, Vec<wgpu::Buffer>) {
        let device = &self.gpu.device;
        let mut params_buffers = Vec::new();
        let mut dispatches = Vec::new();
        for (unit, steps) in &placement.steps {
            let output = graph.nodes[unit.last()].output;
            for Step { params, bindings, groups } in steps {
                let kernel = params.kernel();
                let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: params.bytes(),
                    usage: wgpu::BufferUsages::UNIFORM,
                });
                let resource = |b: &Binding| -> &wgpu::Buffer {
                    match b {
                        Binding::Tensor(t) => match placement.placed[*t] {
                            Some(i) => &placement.buffers[i].0,
                            None => &self.constants[t],
                        },
                        Binding::Weights(k) => self.weights[*k].as_ref().expect("weights of a weighted node"),
                        Binding::Output => &placement.buffers[placement.placed[output].expect("placed")].0,
                    }
                };
                let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
                for (slot, b) in bindings.iter().enumerate() {
                    let binding = if matches!(b, Binding::Output) { OUTPUT_BINDING } else { slot as u32 + 1 };
                    entries.push(wgpu::BindGroupEntry { binding, resource: resource(b).as_entire_binding() });
                }
                let name = unit.name(graph);
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(&name),
                    layout: &self.pipelines[&kernel].get_bind_group_layout(0),
                    entries: &entries,
                });
                params_buffers.push(uniform);
                dispatches.push(Dispatch { node: unit.last(), name, kernel, bind_group, groups: *groups });
            }
        }
        (dispatches, params_buffers)
    }
}
