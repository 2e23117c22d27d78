//! A run of a compiled graph: the inputs written, every dispatch recorded in one compute pass, one
//! submission and one readback of the outputs, under error scopes so that any device error fails the run.

use super::compile::GpuModel;
use super::plan::Plan;
use super::{Fault, Oneshot};
use crate::error::{Error, Result};
use crate::model::{Graph, Tensor};
use std::sync::Arc;

impl GpuModel {
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
        if done.is_some() {
            self.wait()?;
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
        let outputs = read_outputs(graph, &plan)?;
        plan.staging.unmap();
        Ok(outputs)
    }

    /// Records and submits one run; the returned oneshot fires when the results are readable.
    fn submit(&self, plan: &Plan, inputs: &[Tensor]) -> Arc<Oneshot<std::result::Result<(), wgpu::BufferAsyncError>>> {
        self.upload(plan, inputs);
        let commands = self.record(plan, None);
        self.gpu.queue.submit([commands]);
        map_read(&plan.staging)
    }

    /// Natively, drives the device until the submitted work is done (the browser does it by itself).
    pub(super) fn wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::gpu(format!("waiting for the GPU: {e}")))?;
        Ok(())
    }

    /// Writes the inputs to their buffers (staged by the queue until the next submission).
    pub(super) fn upload(&self, plan: &Plan, inputs: &[Tensor]) {
        for (buffer, t) in plan.inputs.iter().zip(inputs) {
            self.gpu.queue.write_buffer(buffer, 0, bytemuck::cast_slice(&t.data));
        }
    }

    /// Records a run: every dispatch in one compute pass, then the outputs copied to the staging buffer.
    /// With a query set (profiles), each dispatch gets a pass of its own, timestamped at its start and end
    /// (queries 2i and 2i + 1): WebGPU allows timestamps only at pass boundaries.
    pub(super) fn record(&self, plan: &Plan, timestamps: Option<&wgpu::QuerySet>) -> wgpu::CommandBuffer {
        let device = &self.gpu.device;
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("run") });
        let dispatch = |pass: &mut wgpu::ComputePass, d: &super::bind::Dispatch| {
            pass.set_pipeline(&self.pipelines[&d.kernel]);
            pass.set_bind_group(0, &d.bind_group, &[]);
            pass.dispatch_workgroups(d.groups[0], d.groups[1], 1);
        };
        match timestamps {
            None => {
                let mut pass = encoder
                    .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("run"), timestamp_writes: None });
                plan.dispatches.iter().for_each(|d| dispatch(&mut pass, d));
            }
            Some(query_set) => {
                for (i, d) in plan.dispatches.iter().enumerate() {
                    let timestamp_writes = wgpu::ComputePassTimestampWrites {
                        query_set,
                        beginning_of_pass_write_index: Some(2 * i as u32),
                        end_of_pass_write_index: Some(2 * i as u32 + 1),
                    };
                    let descriptor =
                        wgpu::ComputePassDescriptor { label: Some("timed"), timestamp_writes: Some(timestamp_writes) };
                    dispatch(&mut encoder.begin_compute_pass(&descriptor), d);
                }
            }
        }
        for (buffer, at, bytes) in &plan.outputs {
            encoder.copy_buffer_to_buffer(buffer, 0, &plan.staging, *at, *bytes);
        }
        encoder.finish()
    }
}

/// Maps a buffer for reading once the GPU is done with it; the returned oneshot fires when it is readable.
pub(super) fn map_read(buffer: &wgpu::Buffer) -> Arc<Oneshot<std::result::Result<(), wgpu::BufferAsyncError>>> {
    let done = Oneshot::new();
    let sender = done.clone();
    buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| sender.send(r));
    done
}

/// The graph's outputs, from the mapped staging buffer.
pub(super) fn read_outputs(graph: &Graph, plan: &Plan) -> Result<Vec<Tensor>> {
    let view = plan.staging.slice(..).get_mapped_range().map_err(|e| Error::gpu(e.to_string()))?;
    let floats: &[f32] = bytemuck::cast_slice(&view);
    let outputs = graph
        .outputs
        .iter()
        .zip(&plan.outputs)
        .map(|(&o, (_, at, bytes))| {
            let (start, len) = ((*at / 4) as usize, (*bytes / 4) as usize);
            Tensor { shape: plan.shapes[o].clone(), data: floats[start..start + len].to_vec() }
        })
        .collect();
    Ok(outputs)
}
