//! Where networks run. A `Network` is a graph loaded for one backend; the face pipeline only calls `run`.

use crate::cpu::CpuModel;
use crate::error::Result;
use crate::model::{Graph, Tensor};

/// The backends a caller can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The scalar reference kernels: slow, the ground truth of the other backends.
    Reference,
    /// The SIMD kernels (WebAssembly simd128, x86_64 SSE).
    Cpu,
}

/// A graph loaded for a backend.
pub struct Network {
    graph: Graph,
    backend: Backend,
    cpu: CpuModel,
}

impl Network {
    pub fn new(graph: Graph, backend: Backend) -> Network {
        let cpu = CpuModel::new(&graph);
        Network { graph, backend, cpu }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs and adds each op's time (milliseconds, by op name) to `profile` (the SIMD kernels' path).
    pub fn profile(&self, inputs: &[Tensor], profile: &mut Vec<(&'static str, f64)>) -> Result<Vec<Tensor>> {
        self.cpu.profile(&self.graph, inputs, profile)
    }

    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        match self.backend {
            Backend::Reference => crate::cpu::run(&self.graph, inputs),
            Backend::Cpu => self.cpu.run(&self.graph, inputs),
        }
    }
}
