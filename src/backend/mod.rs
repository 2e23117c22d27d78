//! Where networks run. A `Network` is a graph loaded for a target (the CPU kernels or a GPU), chosen by
//! the caller or by `auto` (which times both); the face pipeline only calls `run`. On the GPU, any failure
//! (device lost, out of memory, a driver error) moves the network to the CPU for good, reruns the request
//! there and keeps the reason for the caller to report.

mod auto;

pub use auto::{race, Choice};

use crate::cpu::CpuModel;
use crate::error::{unknown_choice, Error, ErrorKind, Result};
use crate::gpu::{Fusion, Gpu, GpuModel, GpuProfile};
use crate::model::{Graph, Tensor};
use std::sync::{Arc, Mutex, OnceLock};

/// The backends a caller can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The scalar reference kernels: slow, the ground truth of the other backends.
    Reference,
    /// The SIMD CPU kernels (WebAssembly simd128, x86_64 SSE).
    Cpu,
    /// The GPU (WebGPU in the browser, Vulkan natively); an error where there is none.
    Gpu,
    /// The GPU where it runs the embedder faster than the CPU kernels, timed (`auto.rs`); the CPU where
    /// there is no GPU, or only one emulated on the CPU, such as lavapipe or SwiftShader.
    Auto,
}

impl std::str::FromStr for Backend {
    type Err = Error;

    /// "auto", "cpu", "gpu", or "reference" (the scalar kernels every other backend is tested against).
    fn from_str(s: &str) -> Result<Backend> {
        match s {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            "reference" => Ok(Backend::Reference),
            other => Err(unknown_choice("backend", other, &["auto", "cpu", "gpu", "reference"])),
        }
    }
}

/// A backend resolved to what runs: CPU kernels, or a GPU device shared by a pipeline's networks.
#[derive(Clone)]
pub enum Target {
    Reference,
    Cpu,
    Gpu(Arc<Gpu>),
}

impl Target {
    /// Resolves a backend; `Auto` through `Target::auto`, with `embedder` giving the network to time (read
    /// only if there is a timing to do), and what it chose and why.
    pub async fn resolve(
        backend: Backend,
        embedder: impl FnOnce() -> Result<Graph>,
    ) -> Result<(Target, Option<Choice>)> {
        match backend {
            Backend::Reference => Ok((Target::Reference, None)),
            Backend::Cpu => Ok((Target::Cpu, None)),
            Backend::Gpu => Ok((Target::Gpu(Gpu::new().await?), None)),
            Backend::Auto => {
                let (target, choice) = Target::auto(embedder, None).await;
                Ok((target, Some(choice)))
            }
        }
    }
}

/// Which kernels a network runs on: a typed value, never a string to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    Reference,
    Cpu,
    Gpu,
}

impl Kernels {
    /// The name shown to users: "reference", "cpu" or "gpu".
    pub fn name(self) -> &'static str {
        match self {
            Kernels::Reference => "reference",
            Kernels::Cpu => "cpu",
            Kernels::Gpu => "gpu",
        }
    }
}

/// What a network runs on, with what that needs beside the graph.
enum Engine {
    /// The scalar kernels, straight from the graph.
    Reference,
    /// The SIMD kernels, with their packed weights.
    Cpu(CpuModel),
    /// The GPU model. The CPU model it falls back to is packed only when the GPU fails, so that a network
    /// on the GPU keeps no second copy of its weights on the host until it needs one.
    Gpu { model: Box<GpuModel>, cpu: OnceLock<CpuModel> },
}

/// A graph loaded for a target. The graph is the one host copy of the weights that the engines share.
pub struct Network {
    graph: Graph,
    engine: Engine,
    /// Why the network runs on the CPU although it was loaded for the GPU, once it does.
    fallback: Mutex<Option<String>>,
}

impl Network {
    /// Loads a graph for the CPU kernels (a GPU target loads it on the CPU too: use `load` for it).
    pub fn new(graph: Graph, target: &Target) -> Network {
        let engine = match target {
            Target::Reference => Engine::Reference,
            _ => Engine::Cpu(CpuModel::new(&graph)),
        };
        Network { graph, engine, fallback: Mutex::new(None) }
    }

    /// Loads a graph for a target. A graph the GPU backend cannot run stays on the CPU (see `fallback`).
    pub async fn load(graph: Graph, target: &Target) -> Network {
        Network::load_with(graph, target, Fusion::default()).await
    }

    /// `load`, with the GPU's fusions chosen (`localface profile --fusion`, tests).
    pub async fn load_with(graph: Graph, target: &Target, fusion: Fusion) -> Network {
        let Target::Gpu(device) = target else { return Network::new(graph, target) };
        match GpuModel::new(device.clone(), &graph, fusion).await {
            Ok(model) => Network {
                graph,
                engine: Engine::Gpu { model: Box::new(model), cpu: OnceLock::new() },
                fallback: Mutex::new(None),
            },
            Err(e) => {
                let network = Network::new(graph, &Target::Cpu);
                *network.fallback.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.message());
                network
            }
        }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Where the next run goes.
    pub fn kernels(&self) -> Kernels {
        match &self.engine {
            Engine::Reference => Kernels::Reference,
            Engine::Gpu { .. } if self.fallback().is_none() => Kernels::Gpu,
            _ => Kernels::Cpu,
        }
    }

    /// Why the network runs on the CPU although it was loaded for the GPU.
    pub fn fallback(&self) -> Option<String> {
        self.fallback.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The GPU this network was loaded on, if any.
    pub fn gpu(&self) -> Option<&Arc<Gpu>> {
        match &self.engine {
            Engine::Gpu { model, .. } => Some(model.gpu()),
            _ => None,
        }
    }

    /// Runs the graph: on the GPU while it works, else on the CPU. A GPU failure never loses the request:
    /// it is rerun on the CPU, and later runs go there too. Inputs are checked here, for every engine.
    pub async fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.graph.check_inputs(inputs)?;
        if let (Engine::Gpu { model, .. }, Kernels::Gpu) = (&self.engine, self.kernels()) {
            match model.run(&self.graph, inputs).await {
                Ok(outputs) => return Ok(outputs),
                Err(e) if e.kind() == ErrorKind::Gpu => {
                    *self.fallback.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.message());
                }
                Err(e) => return Err(e),
            }
        }
        self.cpu_kernels(inputs)
    }

    /// Runs on the CPU kernels, whatever the target.
    pub fn run_cpu(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.graph.check_inputs(inputs)?;
        self.cpu_kernels(inputs)
    }

    /// The SIMD kernels' model: the network's own, or the GPU's fallback, packed on first use.
    fn cpu_model(&self) -> Option<&CpuModel> {
        match &self.engine {
            Engine::Reference => None,
            Engine::Cpu(cpu) => Some(cpu),
            Engine::Gpu { cpu, .. } => Some(cpu.get_or_init(|| CpuModel::new(&self.graph))),
        }
    }

    /// The CPU kernels on inputs already checked.
    fn cpu_kernels(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        match self.cpu_model() {
            Some(cpu) => cpu.run(&self.graph, inputs),
            None => crate::cpu::run(&self.graph, inputs),
        }
    }

    /// Runs on the SIMD kernels and appends each step's op name and time (milliseconds) to `profile`.
    pub fn profile_cpu(&self, inputs: &[Tensor], profile: &mut Vec<(&'static str, f64)>) -> Result<Vec<Tensor>> {
        self.graph.check_inputs(inputs)?;
        let packed;
        let cpu = match self.cpu_model() {
            Some(cpu) => cpu,
            None => {
                packed = CpuModel::new(&self.graph);
                &packed
            }
        };
        cpu.profile(&self.graph, inputs, profile)
    }

    /// One inference, timed where it runs: per dispatch on the GPU, per step on the CPU.
    pub async fn profile(&self, inputs: &[Tensor]) -> Result<Profile> {
        self.graph.check_inputs(inputs)?;
        match (&self.engine, self.kernels()) {
            (Engine::Gpu { model, .. }, Kernels::Gpu) => Ok(Profile::Gpu(model.profile(&self.graph, inputs).await?)),
            _ => {
                let mut steps = Vec::new();
                self.profile_cpu(inputs, &mut steps)?;
                Ok(Profile::Cpu(steps))
            }
        }
    }
}

/// One timed inference (`Network::profile`).
#[derive(Debug, Clone)]
pub enum Profile {
    /// Each step of the CPU plan: its op and milliseconds.
    Cpu(Vec<(&'static str, f64)>),
    Gpu(GpuProfile),
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
