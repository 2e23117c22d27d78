//! Where networks run. A `Network` is a graph loaded for a target (the CPU kernels or a GPU); the face
//! pipeline only calls `run`. On the GPU, any failure (device lost, out of memory, a driver error) moves the
//! network to the CPU for good, reruns the request there and keeps the reason for the caller to report.

use crate::cpu::CpuModel;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuModel};
use crate::model::{Graph, Tensor};
use std::sync::{Arc, Mutex};

/// The backends a caller can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The scalar reference kernels: slow, the ground truth of the other backends.
    Reference,
    /// The SIMD CPU kernels (WebAssembly simd128, x86_64 SSE).
    Cpu,
    /// The GPU (WebGPU in the browser, Vulkan natively); an error where there is none.
    Gpu,
    /// The GPU where there is a hardware one, else the CPU (a GPU emulated on the CPU, such as lavapipe or
    /// SwiftShader, is slower than the CPU kernels).
    Auto,
}

/// A backend resolved to what runs: CPU kernels, or a GPU device shared by a pipeline's networks.
#[derive(Clone)]
pub enum Target {
    Reference,
    Cpu,
    Gpu(Arc<Gpu>),
}

impl Target {
    /// Resolves a backend; with `Auto`, also why the GPU is not used (when it is not).
    pub async fn resolve(backend: Backend) -> Result<(Target, Option<String>)> {
        match backend {
            Backend::Reference => Ok((Target::Reference, None)),
            Backend::Cpu => Ok((Target::Cpu, None)),
            Backend::Gpu => Ok((Target::Gpu(Gpu::new().await?), None)),
            Backend::Auto => match Gpu::new().await {
                Ok(gpu) if gpu.software => {
                    Ok((Target::Cpu, Some(format!("{} is a software GPU, slower than the CPU kernels", gpu.name))))
                }
                Ok(gpu) => Ok((Target::Gpu(gpu), None)),
                Err(e) => Ok((Target::Cpu, Some(e.to_string()))),
            },
        }
    }
}

/// A graph loaded for a target.
pub struct Network {
    graph: Graph,
    reference: bool,
    cpu: CpuModel,
    gpu: Option<GpuModel>,
    /// Why the network left the GPU, once it has.
    fallback: Mutex<Option<String>>,
}

impl Network {
    /// Loads a graph for the CPU kernels (a GPU target loads it on the CPU too: use `load` for it).
    pub fn new(graph: Graph, target: &Target) -> Network {
        Network::on_cpu(graph, target, None, None)
    }

    /// Loads a graph for a target. A graph the GPU backend cannot run stays on the CPU (see `fallback`).
    pub async fn load(graph: Graph, target: &Target) -> Network {
        let (gpu, fallback) = match target {
            Target::Gpu(device) => match GpuModel::new(device.clone(), &graph).await {
                Ok(model) => (Some(model), None),
                Err(e) => (None, Some(e.to_string())),
            },
            _ => (None, None),
        };
        Network::on_cpu(graph, target, gpu, fallback)
    }

    /// The CPU side of a network: the graph with its residual adds fused (the GPU's model, if any, was
    /// compiled from the graph as it was).
    fn on_cpu(mut graph: Graph, target: &Target, gpu: Option<GpuModel>, fallback: Option<String>) -> Network {
        crate::model::rewrite::fuse_residual_adds(&mut graph);
        let cpu = CpuModel::new(&graph);
        Network { graph, reference: matches!(target, Target::Reference), cpu, gpu, fallback: Mutex::new(fallback) }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Where the next run goes: "gpu", "cpu" or "reference".
    pub fn active(&self) -> &'static str {
        match (&self.gpu, self.fallback().is_some(), self.reference) {
            (Some(_), false, _) => "gpu",
            (_, _, true) => "reference",
            _ => "cpu",
        }
    }

    /// Why the network runs on the CPU although it was loaded for the GPU.
    pub fn fallback(&self) -> Option<String> {
        self.fallback.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The GPU this network was loaded on, if any.
    pub fn gpu(&self) -> Option<&Arc<Gpu>> {
        self.gpu.as_ref().map(|m| m.gpu())
    }

    /// Runs the graph: on the GPU while it works, else on the CPU. A GPU failure never loses the request:
    /// it is rerun on the CPU, and later runs go there too.
    pub async fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        check_finite(inputs)?;
        if let (Some(gpu), None) = (&self.gpu, self.fallback()) {
            match gpu.run(inputs).await {
                Ok(outputs) => return Ok(outputs),
                Err(Error::Gpu(reason)) => {
                    *self.fallback.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
                }
                Err(e) => return Err(e),
            }
        }
        self.cpu_kernels(inputs)
    }

    /// Runs on the CPU kernels, whatever the target.
    pub fn run_cpu(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        check_finite(inputs)?;
        self.cpu_kernels(inputs)
    }

    /// The CPU kernels on inputs already checked.
    fn cpu_kernels(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        if self.reference {
            crate::cpu::run(&self.graph, inputs)
        } else {
            self.cpu.run(&self.graph, inputs)
        }
    }

    /// Runs on the SIMD kernels and adds each op's time (milliseconds, by op name) to `profile`.
    pub fn profile(&self, inputs: &[Tensor], profile: &mut Vec<(&'static str, f64)>) -> Result<Vec<Tensor>> {
        self.cpu.profile(&self.graph, inputs, profile)
    }
}

/// Refuses NaN and infinite input values: they would only come back as NaN outputs, far from the cause.
fn check_finite(inputs: &[Tensor]) -> Result<()> {
    match inputs.iter().enumerate().find_map(|(k, t)| t.data.iter().position(|v| !v.is_finite()).map(|i| (k, i))) {
        Some((k, i)) => Err(Error::Input(format!("input {k} holds a NaN or infinite value (at {i})"))),
        None => Ok(()),
    }
}

/// Runs a future to completion on this thread, for the native tool and tests (the browser awaits instead,
/// since a page's GPU work only completes once control returns to the event loop). CPU runs are ready at
/// once; native GPU runs wait for the device inside the future.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}
