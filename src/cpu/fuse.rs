//! The CPU backend's own lowering: the order in which it runs a graph's nodes, with each residual block's
//! ADD (and the PAD that widens its skip) folded into the convolution before it, whose GEMM epilogue adds
//! the skip. The shared graph is not changed: a `Plan` only says which nodes run, and which convolutions
//! also add a skip tensor and write the ADD's output.

use crate::model::rewrite::Uses;
use crate::model::{Activation, Graph, Node, Op, TensorId};

/// A convolution's fused residual add: `skip` (C' <= the convolution's channels, the rest taken as zeros)
/// is added to the convolution's output, then `activation`; the sum is written to `output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidualAdd {
    pub skip: TensorId,
    pub output: TensorId,
    pub activation: Activation,
}

/// One node to run; a convolution may carry the residual add that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub node: usize,
    pub add: Option<ResidualAdd>,
    /// What the step reads: the node's inputs, then the skip of a fused add (listed once, not per run).
    pub inputs: Vec<TensorId>,
    /// What it writes: the node's output, or the fused add's.
    pub output: TensorId,
}

impl Step {
    fn new(graph: &Graph, node: usize, add: Option<ResidualAdd>) -> Step {
        let mut inputs = graph.nodes[node].inputs.clone();
        inputs.extend(add.map(|a| a.skip));
        let output = add.map_or(graph.nodes[node].output, |a| a.output);
        Step { node, add, inputs, output }
    }

    /// The name in profiles: the op's, or "CONV_2D+ADD" for a fused join.
    pub fn name(&self, graph: &Graph) -> &'static str {
        match self.add {
            Some(_) => "CONV_2D+ADD",
            None => graph.nodes[self.node].op.name(),
        }
    }
}

/// The steps a CPU run takes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// How many steps read each tensor (graph outputs count as a reader): a run frees a tensor after its
    /// last reader.
    pub readers: Vec<usize>,
}

impl Plan {
    /// Every node as it is: what the scalar reference runs.
    pub fn unfused(graph: &Graph) -> Plan {
        Plan::of(graph, (0..graph.nodes.len()).map(|node| Step::new(graph, node, None)).collect())
    }

    /// Each ADD (ReLU family or no activation) of a convolution's output (no activation, read by nothing
    /// else) and a skip tensor of the same pixels goes into the convolution. A PAD of the skip that only
    /// appends channels, read by nothing else, goes too: the fused kernel takes those channels as zeros.
    /// Values are kept exactly: the convolution's acc + bias, plus the skip value (or the PAD's zero),
    /// then the ADD's activation, as the separate ops compute them.
    pub fn residual_adds_fused(graph: &Graph) -> Plan {
        let uses = Uses::of(graph);
        // Nodes that run elsewhere or not at all, and the convolution (with its add) each ADD becomes.
        let mut gone = vec![false; graph.nodes.len()];
        let mut joins: Vec<Option<Step>> = vec![None; graph.nodes.len()];
        for (k, node) in graph.nodes.iter().enumerate() {
            if let Some((conv, pad, add)) = residual_join(graph, &uses, node) {
                // The convolution runs where the ADD was: its skip may be computed after the convolution.
                joins[k] = Some(Step::new(graph, conv, Some(add)));
                gone[conv] = true;
                if let Some(p) = pad {
                    gone[p] = true;
                }
            }
        }
        let steps = (0..graph.nodes.len())
            .filter_map(|k| joins[k].take().or_else(|| (!gone[k]).then(|| Step::new(graph, k, None))))
            .collect();
        Plan::of(graph, steps)
    }

    fn of(graph: &Graph, steps: Vec<Step>) -> Plan {
        let mut readers = vec![0; graph.tensors.len()];
        for step in &steps {
            for &i in &step.inputs {
                readers[i] += 1;
            }
        }
        for &o in &graph.outputs {
            readers[o] += 1;
        }
        Plan { steps, readers }
    }

    /// How many residual joins were fused.
    pub fn fused_joins(&self) -> usize {
        self.steps.iter().filter(|s| s.add.is_some()).count()
    }
}

/// For an ADD that closes a residual block: the convolution to fuse it into, the PAD of its skip (if that
/// goes too), and the fused add.
fn residual_join(graph: &Graph, uses: &Uses, node: &Node) -> Option<(usize, Option<usize>, ResidualAdd)> {
    let Op::Add(activation) = node.op else { return None };
    let [a, b] = node.inputs[..] else { return None };
    if activation == Activation::Prelu || graph.tensors[a].shape != graph.tensors[b].shape {
        return None;
    }
    for (conv_out, skip) in [(a, b), (b, a)] {
        // Read by this ADD alone, so no other fusion can have taken it (nor the PAD below).
        let Some(conv) = uses.sole(graph, conv_out) else { continue };
        let Op::Conv2d(c) = graph.nodes[conv].op else { continue };
        if c.activation != Activation::None {
            continue;
        }
        let widened = uses.sole(graph, skip).filter(|&p| appends_channels(graph, p));
        let skip = widened.map_or(skip, |p| graph.nodes[p].inputs[0]);
        return Some((conv, widened, ResidualAdd { skip, output: node.output, activation }));
    }
    None
}

/// Whether node `p` is a PAD of a rank-4 tensor that only appends channels.
fn appends_channels(graph: &Graph, p: usize) -> bool {
    let node = &graph.nodes[p];
    match &node.op {
        Op::Pad { pads, value } => {
            *value == 0.0
                && graph.tensors[node.inputs[0]].shape.len() == 4
                && pads.len() == 4
                && pads[..3].iter().all(|&d| d == [0, 0])
                && pads[3][0] == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Conv, Padding, TensorInfo};

    fn shaped(name: &str, shape: &[usize], data: Option<Vec<f32>>) -> TensorInfo {
        TensorInfo { name: name.into(), shape: shape.to_vec(), data }
    }

    fn node(op: Op, inputs: &[TensorId], output: TensorId) -> Node {
        Node { op, inputs: inputs.to_vec(), output }
    }

    /// x [1,4,4,2] -> 1x1 conv to 3 channels; skip [1,4,4,2] padded to 3 channels; ADD with ReLU.
    fn residual_block(conv_also_output: bool) -> Graph {
        let conv = Conv { padding: Padding::Valid, stride: [1, 1], dilation: [1, 1], activation: Activation::None };
        Graph {
            tensors: vec![
                shaped("x", &[1, 4, 4, 2], None),
                shaped("filter", &[3, 1, 1, 2], Some(vec![0.5; 6])),
                shaped("bias", &[3], Some(vec![0.0; 3])),
                shaped("conv", &[1, 4, 4, 3], None),
                shaped("skip", &[1, 4, 4, 3], None),
                shaped("y", &[1, 4, 4, 3], None),
            ],
            nodes: vec![
                node(Op::Conv2d(conv), &[0, 1, 2], 3),
                node(Op::Pad { pads: vec![[0, 0], [0, 0], [0, 0], [0, 1]], value: 0.0 }, &[0], 4),
                node(Op::Add(Activation::Relu), &[4, 3], 5),
            ],
            inputs: vec![0],
            outputs: if conv_also_output { vec![5, 3] } else { vec![5] },
        }
    }

    #[test]
    fn a_residual_add_and_its_channel_pad_fold_into_the_convolution() {
        let g = residual_block(false);
        let plan = Plan::residual_adds_fused(&g);
        assert_eq!(plan.steps.len(), 1);
        let add = ResidualAdd { skip: 0, output: 5, activation: Activation::Relu };
        assert_eq!((plan.steps[0].node, plan.steps[0].add), (0, Some(add)));
        assert_eq!((plan.steps[0].inputs.as_slice(), plan.steps[0].output), (&[0, 1, 2, 0][..], 5));
        assert_eq!(plan.fused_joins(), 1);
    }

    #[test]
    fn a_convolution_read_elsewhere_keeps_its_add() {
        let g = residual_block(true);
        assert_eq!(Plan::residual_adds_fused(&g), Plan::unfused(&g));
    }
}
