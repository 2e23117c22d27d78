//! A profiled run: where the time of one inference goes. The CPU side is timed in phases (the inputs'
//! upload, recording, submission, the wait for the GPU and the readback) on a run made exactly as `run`
//! makes it; then, where the device has timestamp queries, a second run gives each dispatch its GPU time.

use super::compile::GpuModel;
use super::run::{map_read, read_outputs};
use crate::cpu::now_ms;
use crate::error::{Error, Result};
use crate::model::{Graph, Tensor};

/// One inference, timed.
#[derive(Debug, Clone)]
pub struct GpuProfile {
    /// Each dispatch in order, with its GPU time where the device has timestamp queries.
    pub dispatches: Vec<DispatchTime>,
    /// Command submissions per inference.
    pub submits: usize,
    /// Milliseconds on the CPU writing the inputs (to the queue's staging memory).
    pub upload_ms: f64,
    /// Milliseconds on the CPU recording the dispatches.
    pub record_ms: f64,
    /// Milliseconds in `queue.submit`.
    pub submit_ms: f64,
    /// Milliseconds from the submission until the outputs are readable (the GPU's work and its latency).
    pub wait_ms: f64,
    /// Milliseconds copying the outputs out of the mapped buffer.
    pub read_ms: f64,
}

/// One dispatch: the (last) node it computes, its ops, its kernel, and its GPU time.
#[derive(Debug, Clone)]
pub struct DispatchTime {
    pub node: usize,
    /// The ops it computes: "DEPTHWISE_CONV_2D+CONV_2D+ADD" for a fused one.
    pub ops: String,
    /// The shape it writes.
    pub shape: Vec<usize>,
    pub kernel: String,
    /// Milliseconds between the timestamps around its pass; none without timestamp queries.
    pub ms: Option<f64>,
}

impl GpuProfile {
    /// The whole inference as the caller sees it.
    pub fn total_ms(&self) -> f64 {
        self.upload_ms + self.record_ms + self.submit_ms + self.wait_ms + self.read_ms
    }
}

impl GpuModel {
    /// Runs the graph twice on `inputs`: once as `run` does, timed in phases on the CPU, then once with a
    /// pass per dispatch between timestamps (where the device has them).
    pub async fn profile(&self, graph: &Graph, inputs: &[Tensor]) -> Result<GpuProfile> {
        let _turn = self.gpu.turn().await;
        self.gpu.check()?;
        let device = &self.gpu.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let profile = self.profile_runs(graph, inputs).await;
        if let Some(e) = scope.pop().await {
            return Err(Error::gpu(e.to_string()));
        }
        self.gpu.check()?;
        profile
    }

    async fn profile_runs(&self, graph: &Graph, inputs: &[Tensor]) -> Result<GpuProfile> {
        let input_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape.clone()).collect();
        let plan = self.plan(graph, &input_shapes)?;
        let start = now_ms();
        self.upload(&plan, inputs);
        let uploaded = now_ms();
        let commands = self.record(&plan, None);
        let recorded = now_ms();
        self.gpu.queue.submit([commands]);
        let submitted = now_ms();
        let done = map_read(&plan.staging);
        self.wait()?;
        done.recv().await.map_err(|e| Error::gpu(format!("reading the results back: {e}")))?;
        let ready = now_ms();
        let outputs = read_outputs(graph, &plan);
        plan.staging.unmap();
        outputs?;
        let read = now_ms();
        let times = match self.gpu.timestamps {
            true => Some(self.dispatch_times(&plan, inputs).await?),
            false => None,
        };
        let dispatches = plan
            .dispatches
            .iter()
            .enumerate()
            .map(|(i, d)| DispatchTime {
                node: d.node,
                ops: d.name.clone(),
                shape: plan.shapes[graph.nodes[d.node].output].clone(),
                kernel: format!("{:?}", d.kernel),
                ms: times.as_ref().map(|t| t[i]),
            })
            .collect();
        Ok(GpuProfile {
            dispatches,
            submits: 1,
            upload_ms: uploaded - start,
            record_ms: recorded - uploaded,
            submit_ms: submitted - recorded,
            wait_ms: ready - submitted,
            read_ms: read - ready,
        })
    }

    /// Each dispatch's GPU time (ms), from the timestamps written around its own pass.
    async fn dispatch_times(&self, plan: &super::plan::Plan, inputs: &[Tensor]) -> Result<Vec<f64>> {
        let (device, queue) = (&self.gpu.device, &self.gpu.queue);
        let count = 2 * plan.dispatches.len() as u32;
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("dispatch times"),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let bytes = u64::from(count) * 8;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let resolved = buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
        let readback = buffer("timestamps read", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        self.upload(plan, inputs);
        let timed = self.record(plan, Some(&query_set));
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("resolve") });
        encoder.resolve_query_set(&query_set, 0..count, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &readback, 0, bytes);
        queue.submit([timed, encoder.finish()]);
        let done = map_read(&readback);
        self.wait()?;
        done.recv().await.map_err(|e| Error::gpu(format!("reading the timestamps: {e}")))?;
        let ticks: Vec<u64> =
            bytemuck::cast_slice(&readback.slice(..).get_mapped_range().map_err(|e| Error::gpu(e.to_string()))?)
                .to_vec();
        readback.unmap();
        let ms_per_tick = f64::from(queue.get_timestamp_period()) * 1e-6;
        Ok(ticks.chunks(2).map(|t| t[1].saturating_sub(t[0]) as f64 * ms_per_tick).collect())
    }
}
