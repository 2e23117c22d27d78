//! `Backend::Auto`: the GPU where it runs the embedder faster than the CPU kernels. A hardware GPU is
//! timed against the CPU once (`race`); the browser keeps the result per browser and adapter, so that
//! later pages skip the timing. A GPU emulated on the CPU (lavapipe, SwiftShader) is not timed: it runs
//! on the same cores as the SIMD kernels, through an emulation layer, and its first run alone (compiling
//! the kernels) takes seconds.

use super::{Kernels, Network, Target};
use crate::cpu::now_ms;
use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::Graph;
use crate::profile::median;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Timed runs of each backend at most, after one warm-up each (the GPU's builds its plan).
const RACE_RUNS: usize = 5;
/// The timing stops after this much, once each backend ran once: `auto` must not delay the start.
const RACE_BUDGET_MS: f64 = 300.0;

/// What `auto` chose, and why (in JavaScript `backendChoice`, with these names in camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The GPU (else the CPU kernels).
    pub gpu: bool,
    /// The embedder's median time per run (batch 1) on each; none where it was not timed.
    pub gpu_ms: Option<f64>,
    pub cpu_ms: Option<f64>,
    pub reason: String,
    /// Taken from an earlier timing on this browser and adapter, not measured now.
    #[serde(default)]
    pub remembered: bool,
}

impl Choice {
    fn cpu(reason: String) -> Choice {
        Choice { gpu: false, gpu_ms: None, cpu_ms: None, reason, remembered: false }
    }

    /// Whether it holds a timing worth keeping (a choice made without one is made again cheaply).
    pub fn measured(&self) -> bool {
        self.gpu_ms.is_some() && self.cpu_ms.is_some()
    }
}

impl Target {
    /// The GPU where the embedder runs faster on it than on the CPU kernels, and why. `embedder` is read
    /// only to time it; `remembered`: an earlier choice for this GPU (the browser's storage), taken
    /// instead of timing again.
    pub async fn auto(embedder: impl FnOnce() -> Result<Graph>, remembered: Option<Choice>) -> (Target, Choice) {
        let gpu = match Gpu::new().await {
            Ok(gpu) => gpu,
            Err(e) => return (Target::Cpu, Choice::cpu(e.to_string())),
        };
        if gpu.software {
            let reason = format!("{} is a software GPU, slower than the CPU kernels", gpu.name);
            return (Target::Cpu, Choice::cpu(reason));
        }
        let choice = match remembered {
            Some(c) => Choice { remembered: true, ..c },
            None => match embedder() {
                Ok(graph) => race(&graph, &gpu).await,
                Err(e) => Choice::cpu(format!("the embedder to time cannot be read: {e}")),
            },
        };
        match choice.gpu {
            true => (Target::Gpu(gpu), choice),
            false => (Target::Cpu, choice),
        }
    }
}

/// Times `embedder` at batch 1 on `gpu` and on the CPU kernels, runs interleaved (so that a machine
/// that speeds up or slows down meanwhile does so for both), and picks the faster.
pub async fn race(embedder: &Graph, gpu: &Arc<Gpu>) -> Choice {
    let on_gpu = Network::load(embedder.clone(), &Target::Gpu(gpu.clone())).await;
    if on_gpu.kernels() != Kernels::Gpu {
        return Choice::cpu(format!("{} cannot run the embedder: {}", gpu.name, on_gpu.fallback().unwrap_or_default()));
    }
    let on_cpu = Network::new(embedder.clone(), &Target::Cpu);
    match timings(&on_gpu, &on_cpu).await {
        Ok((gpu_ms, cpu_ms)) if on_gpu.fallback().is_none() => {
            let faster = if gpu_ms < cpu_ms { "the GPU" } else { "the CPU kernels" };
            let reason = format!(
                "{faster}: the embedder took {gpu_ms:.2} ms on {} and {cpu_ms:.2} ms on the CPU kernels",
                gpu.name
            );
            Choice { gpu: gpu_ms < cpu_ms, gpu_ms: Some(gpu_ms), cpu_ms: Some(cpu_ms), reason, remembered: false }
        }
        Ok(_) => Choice::cpu(format!("{} failed: {}", gpu.name, on_gpu.fallback().unwrap_or_default())),
        Err(e) => Choice::cpu(format!("timing the embedder failed: {e}")),
    }
}

/// The median milliseconds per run on each network.
async fn timings(on_gpu: &Network, on_cpu: &Network) -> Result<(f64, f64)> {
    let x = crate::profile::inputs(on_cpu, 1)?;
    on_gpu.run(&x).await?;
    on_cpu.run(&x).await?;
    let start = now_ms();
    let (mut gpu, mut cpu) = (Vec::new(), Vec::new());
    while gpu.len() < RACE_RUNS && (gpu.is_empty() || now_ms() - start < RACE_BUDGET_MS) {
        for (net, times) in [(on_gpu, &mut gpu), (on_cpu, &mut cpu)] {
            let t = now_ms();
            net.run(&x).await?;
            times.push(now_ms() - t);
        }
    }
    Ok((median(gpu), median(cpu)))
}
