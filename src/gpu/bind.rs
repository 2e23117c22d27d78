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
        for (k, steps) in &placement.steps {
            let node = &graph.nodes[*k];
            for Step { params, bindings, groups } in steps {
                let kernel = params.kernel();
                let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: params.bytes(),
                    usage: wgpu::BufferUsages::UNIFORM,
                });
                let resource = |b: &Binding| -> &wgpu::Buffer {
                    let weights = || self.weights[*k].as_ref().expect("weights of this node");
                    match b {
                        Binding::Tensor(t) => match placement.placed[*t] {
                            Some(i) => &placement.buffers[i].0,
                            None => &self.constants[t],
                        },
                        Binding::Filter => &weights().filter,
                        Binding::Bias => &weights().bias,
                        Binding::Slope => &weights().slope,
                        Binding::Output => &placement.buffers[placement.placed[node.output].expect("placed")].0,
                    }
                };
                let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
                for (slot, b) in bindings.iter().enumerate() {
                    let binding = if matches!(b, Binding::Output) { OUTPUT_BINDING } else { slot as u32 + 1 };
                    entries.push(wgpu::BindGroupEntry { binding, resource: resource(b).as_entire_binding() });
                }
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(node.op.name()),
                    layout: &self.pipelines[&kernel].get_bind_group_layout(0),
                    entries: &entries,
                });
                params_buffers.push(uniform);
                dispatches.push(Dispatch { kernel, bind_group, groups: *groups });
            }
        }
        (dispatches, params_buffers)
    }
}
