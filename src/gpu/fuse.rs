//! The GPU's own lowering of a graph: which nodes share a dispatch. A matmul (1x1 convolution or dense
//! layer) takes in the 3x3 depthwise convolution before it, when nothing else reads that, and the residual
//! ADD after it, when the ADD adds a tensor of the same shape and nothing else reads the matmul's output.
//! A MobileNet bottleneck's second half (depthwise 3x3, project 1x1, ADD) is then one dispatch, not three.
//!
//! By default only the ADDs are fused (`Fusion::Add`). The depthwise convolution, computed inside the
//! matmul's loop over k, makes each step of that loop wait on nine loads: on an H200 at batch 1 the fused
//! dispatch took 60 to 150 us where the two it replaces took 25, and MobileFaceNet ran in 1.50 ms with
//! `Fusion::All` (36 dispatches) against 0.83 ms with `Fusion::Add` (52; 0.86 ms with no fusion, 64).
//! `localface profile --fusion` measures each on other GPUs.

use super::kernels::{kernel_of, Kernel};
use crate::model::{Activation, Graph, Op, TensorId};

/// What one dispatch computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unit {
    /// One node with its own kernel (or none: a reshape).
    Node(usize),
    /// A matmul node, with the depthwise convolution that computes its input and the ADD it feeds.
    Matmul { depthwise: Option<usize>, matmul: usize, add: Option<ResidualAdd> },
}

/// An ADD fused into the matmul before it: the tensor it adds, and its activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResidualAdd {
    pub node: usize,
    pub residual: TensorId,
    pub activation: Activation,
}

impl Unit {
    /// The node whose output the unit writes.
    pub fn last(&self) -> usize {
        match self {
            Unit::Node(k) => *k,
            Unit::Matmul { add: Some(a), .. } => a.node,
            Unit::Matmul { matmul, .. } => *matmul,
        }
    }

    /// Its nodes, in graph order.
    pub fn nodes(&self) -> Vec<usize> {
        match self {
            Unit::Node(k) => vec![*k],
            Unit::Matmul { depthwise, matmul, add } => {
                depthwise.iter().copied().chain([*matmul]).chain(add.as_ref().map(|a| a.node)).collect()
            }
        }
    }

    pub fn kernel(&self, graph: &Graph) -> Option<Kernel> {
        match self {
            Unit::Node(k) => kernel_of(&graph.nodes[*k], graph),
            Unit::Matmul { depthwise: Some(_), .. } => Some(Kernel::Depthwise3x3Matmul64x64),
            Unit::Matmul { depthwise: None, .. } => Some(Kernel::Matmul64x64),
        }
    }

    /// The ops it computes, for profiles: "DEPTHWISE_CONV_2D+CONV_2D+ADD".
    pub fn name(&self, graph: &Graph) -> String {
        self.nodes().iter().map(|&k| graph.nodes[k].op.name()).collect::<Vec<_>>().join("+")
    }
}

/// The graph as dispatches, in an order that computes every tensor before its readers: a fused unit runs
/// where its last node was.
pub(super) fn lower(graph: &Graph, fusion: Fusion) -> Vec<Unit> {
    let readers = graph.reader_counts();
    let mut producer = vec![None; graph.tensors.len()];
    for (k, node) in graph.nodes.iter().enumerate() {
        producer[node.output] = Some(k);
    }
    let mut absorbed = vec![false; graph.nodes.len()];
    let mut unit_at: Vec<Option<Unit>> = vec![None; graph.nodes.len()];
    for (k, node) in graph.nodes.iter().enumerate() {
        if kernel_of(node, graph) != Some(Kernel::Matmul64x64) {
            continue;
        }
        let only_reader = |t: TensorId| readers[t] == 1;
        let depthwise = producer[node.inputs[0]]
            .filter(|&d| fusable_depthwise(graph, d) && matches!(node.op, Op::Conv2d(_)))
            .filter(|_| only_reader(node.inputs[0]) && fusion >= Fusion::All);
        let add = match only_reader(node.output) && fusion >= Fusion::Add {
            true => residual_add(graph, node.output, k, &unit_at),
            false => None,
        };
        if depthwise.is_none() && add.is_none() {
            continue;
        }
        depthwise.iter().for_each(|&d| absorbed[d] = true);
        let unit = Unit::Matmul { depthwise, matmul: k, add };
        let last = unit.last();
        absorbed[k] = last != k;
        unit_at[last] = Some(unit);
    }
    (0..graph.nodes.len()).filter(|&k| !absorbed[k]).map(|k| unit_at[k].take().unwrap_or(Unit::Node(k))).collect()
}

/// Which nodes `lower` joins into one dispatch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fusion {
    /// Every node its own dispatch.
    None,
    /// Residual ADDs into the matmul before them.
    #[default]
    Add,
    /// And 3x3 depthwise convolutions into the matmul after them.
    All,
}

impl std::str::FromStr for Fusion {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Fusion> {
        match s {
            "none" => Ok(Fusion::None),
            "add" => Ok(Fusion::Add),
            "all" => Ok(Fusion::All),
            other => Err(crate::error::unknown_choice("fusion", other, &["none", "add", "all"])),
        }
    }
}

/// A depthwise convolution the fused kernel computes: 3x3, undilated, multiplier 1.
fn fusable_depthwise(graph: &Graph, d: usize) -> bool {
    let node = &graph.nodes[d];
    let Op::DepthwiseConv2d(c) = &node.op else { return false };
    let fs = &graph.tensors[node.inputs[1]].shape;
    let xs = &graph.tensors[node.inputs[0]].shape;
    fs.get(1..3) == Some(&[3, 3][..]) && c.dilation == [1, 1] && xs.last() == fs.last()
}

/// The ADD that reads `output` (of matmul node `k`), if it adds a computed tensor of the same declared
/// shape, and no other matmul took it already.
fn residual_add(graph: &Graph, output: TensorId, k: usize, unit_at: &[Option<Unit>]) -> Option<ResidualAdd> {
    let (j, node) = graph.nodes.iter().enumerate().skip(k + 1).find(|(_, n)| n.inputs.contains(&output))?;
    let Op::Add(activation) = node.op else { return None };
    let residual = *node.inputs.iter().find(|&&t| t != output)?;
    let same_shape = graph.tensors[residual].shape == graph.tensors[output].shape;
    let free = unit_at[j].is_none();
    (graph.constant(residual).is_none() && same_shape && free && node.inputs.len() == 2).then_some(ResidualAdd {
        node: j,
        residual,
        activation,
    })
}
