//! Rewrites done once at load, so that every backend runs fewer, fused ops:
//!
//! 1. fold DEQUANTIZE of constants (fp16 weights become f32 constants);
//! 2. recognise PReLU spelled out as RELU/ABS/SUB/MUL/ADD (MobileFaceNet) or RELU/NEG/RELU/NEG/MUL/ADD (onet);
//! 3. fuse an activation (ReLU family, PReLU) into the convolution, fully connected or add before it.
//!
//! Each rewrite keeps the values: PReLU's slope is the spelled-out graph's exact equivalent (see below).
//!
//! They rewrite what the file says into ops a file could say more briefly; fusions that need a kernel of
//! their own belong to the backend that has the kernel (`cpu::fuse`).

use super::{Activation, Graph, Node, Op, TensorId, TensorInfo};

pub fn optimize(graph: &mut Graph) {
    fold_dequantize(graph);
    recognise_prelu(graph);
    fuse_activations(graph);
}

/// Which node writes each tensor, and how many read it (graph outputs count as readers).
pub(crate) struct Uses {
    producer: Vec<Option<usize>>,
    readers: Vec<usize>,
}

impl Uses {
    pub(crate) fn of(graph: &Graph) -> Uses {
        let mut producer = vec![None; graph.tensors.len()];
        for (k, node) in graph.nodes.iter().enumerate() {
            producer[node.output] = Some(k);
        }
        Uses { producer, readers: graph.reader_counts() }
    }

    /// The node writing `t`, if `t` is read by exactly one node (so that node can absorb it).
    pub(crate) fn sole(&self, graph: &Graph, t: TensorId) -> Option<usize> {
        if self.readers[t] != 1 {
            return None;
        }
        self.producer[t].filter(|&k| k < graph.nodes.len())
    }
}

fn fold_dequantize(graph: &mut Graph) {
    let mut kept = Vec::with_capacity(graph.nodes.len());
    for node in std::mem::take(&mut graph.nodes) {
        if node.op == Op::Dequantize {
            if let Some(data) = graph.tensors[node.inputs[0]].data.clone() {
                graph.tensors[node.output].data = Some(data);
                continue;
            }
        }
        kept.push(node);
    }
    graph.nodes = kept;
}

/// Replaces each spelled-out PReLU by one PRELU node at the position of its final ADD.
///
/// MobileFaceNet: y = relu(x) + a * (x - |x|). For x < 0, x - |x| = 2x exactly, so y = (2a) * x exactly.
/// onet:          y = relu(x) + a * -relu(-x). For x < 0, -relu(-x) = x, so y = a * x.
fn recognise_prelu(graph: &mut Graph) {
    let uses = Uses::of(graph);
    let mut remove = vec![false; graph.nodes.len()];
    let mut replace = Vec::new();
    for (k, node) in graph.nodes.iter().enumerate() {
        if node.op != Op::Add(super::Activation::None) {
            continue;
        }
        let (p, q) = (node.inputs[0], node.inputs[1]);
        let found = match_prelu(graph, &uses, p, q).or_else(|| match_prelu(graph, &uses, q, p));
        if let Some((x, slope, parts)) = found {
            if parts.iter().any(|&n| remove[n]) {
                continue;
            }
            parts.iter().for_each(|&n| remove[n] = true);
            replace.push((k, x, slope));
        }
    }
    for (k, x, slope) in replace {
        let name = format!("{}/prelu_slope", graph.tensors[graph.nodes[k].output].name);
        let shape = vec![slope.len()];
        graph.tensors.push(TensorInfo { name, shape, data: Some(slope) });
        let slope_id = graph.tensors.len() - 1;
        graph.nodes[k] = Node { op: Op::Prelu, inputs: vec![x, slope_id], output: graph.nodes[k].output };
    }
    let mut k = 0;
    graph.nodes.retain(|_| {
        k += 1;
        !remove[k - 1]
    });
}

/// Matches `relu_out + mul_out` as one of the two spellings; returns x, the slope and the nodes to remove.
fn match_prelu(
    graph: &Graph,
    uses: &Uses,
    relu_out: TensorId,
    mul_out: TensorId,
) -> Option<(TensorId, Vec<f32>, Vec<usize>)> {
    let node = |k: usize| &graph.nodes[k];
    let relu = uses.sole(graph, relu_out)?;
    if node(relu).op != Op::Activation(Activation::Relu) {
        return None;
    }
    let x = node(relu).inputs[0];
    let mul = uses.sole(graph, mul_out)?;
    if node(mul).op != Op::Mul(Activation::None) {
        return None;
    }
    let [m0, m1] = node(mul).inputs[..] else { return None };
    let (alpha, other) = match (graph.constant(m0), graph.constant(m1)) {
        (Some(a), None) => (a, m1),
        (None, Some(a)) => (a, m0),
        _ => return None,
    };
    let inner = uses.sole(graph, other)?;
    match &node(inner).op {
        // x - |x|
        Op::Sub(Activation::None) => {
            let [s0, s1] = node(inner).inputs[..] else { return None };
            let abs = uses.sole(graph, s1)?;
            if s0 != x || node(abs).op != Op::Abs || node(abs).inputs[0] != x {
                return None;
            }
            let slope = alpha.iter().map(|a| 2.0 * a).collect();
            Some((x, slope, vec![relu, abs, inner, mul]))
        }
        // -relu(-x)
        Op::Neg => {
            let relu2 = uses.sole(graph, node(inner).inputs[0])?;
            if node(relu2).op != Op::Activation(Activation::Relu) {
                return None;
            }
            let neg = uses.sole(graph, node(relu2).inputs[0])?;
            if node(neg).op != Op::Neg || node(neg).inputs[0] != x {
                return None;
            }
            Some((x, alpha.to_vec(), vec![relu, neg, relu2, inner, mul]))
        }
        _ => None,
    }
}

/// Folds an activation node into the node before it when nothing else reads that node's output.
fn fuse_activations(graph: &mut Graph) {
    let uses = Uses::of(graph);
    let mut remove = vec![false; graph.nodes.len()];
    for k in 0..graph.nodes.len() {
        let act_node = graph.nodes[k].clone();
        let (activation, slope) = match &act_node.op {
            Op::Activation(a) => (*a, None),
            Op::Prelu => (Activation::Prelu, Some(act_node.inputs[1])),
            _ => continue,
        };
        let Some(prev) = uses.sole(graph, act_node.inputs[0]) else { continue };
        if remove[prev] {
            continue;
        }
        let channels = out_channels(graph, &graph.nodes[prev]);
        let slope_fits =
            slope.is_none_or(|s| graph.constant(s).is_some_and(|d| Some(d.len()) == channels || d.len() == 1));
        let prev_node = &mut graph.nodes[prev];
        let slot = match &mut prev_node.op {
            Op::Conv2d(c) | Op::DepthwiseConv2d(c) => &mut c.activation,
            Op::FullyConnected { activation, .. } => activation,
            // Elementwise ops and concatenation take the ReLU family only.
            Op::Add(a) | Op::Sub(a) | Op::Mul(a) | Op::Div(a) if slope.is_none() => a,
            _ => continue,
        };
        if *slot != Activation::None || !slope_fits {
            continue;
        }
        *slot = activation;
        prev_node.inputs.extend(slope);
        prev_node.output = act_node.output;
        remove[k] = true;
    }
    let mut k = 0;
    graph.nodes.retain(|_| {
        k += 1;
        !remove[k - 1]
    });
}

/// The number of output channels of a node that can take a fused per-channel activation.
fn out_channels(graph: &Graph, node: &Node) -> Option<usize> {
    let filter = &graph.tensors[*node.inputs.get(1)?].shape;
    match node.op {
        Op::Conv2d(_) | Op::FullyConnected { .. } => filter.first().copied(),
        Op::DepthwiseConv2d(_) => filter.get(3).copied(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, data: Option<Vec<f32>>) -> TensorInfo {
        let shape = vec![data.as_ref().map_or(4, |d| d.len())];
        TensorInfo { name: name.into(), shape, data }
    }

    fn node(op: Op, inputs: &[TensorId], output: TensorId) -> Node {
        Node { op, inputs: inputs.to_vec(), output }
    }

    #[test]
    fn mobilefacenet_prelu_becomes_one_op_with_doubled_slope() {
        // 0 x, 1 alpha, 2 relu, 3 abs, 4 sub, 5 mul, 6 y
        let mut g = Graph {
            tensors: vec![
                tensor("x", None),
                tensor("alpha", Some(vec![0.25; 4])),
                tensor("relu", None),
                tensor("abs", None),
                tensor("sub", None),
                tensor("mul", None),
                tensor("y", None),
            ],
            nodes: vec![
                node(Op::Activation(Activation::Relu), &[0], 2),
                node(Op::Abs, &[0], 3),
                node(Op::Sub(Activation::None), &[0, 3], 4),
                node(Op::Mul(Activation::None), &[1, 4], 5),
                node(Op::Add(Activation::None), &[2, 5], 6),
            ],
            inputs: vec![0],
            outputs: vec![6],
        };
        optimize(&mut g);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.nodes[0].op, Op::Prelu);
        assert_eq!(g.nodes[0].output, 6);
        assert_eq!(g.constant(g.nodes[0].inputs[1]).unwrap(), &[0.5; 4]);
    }

    #[test]
    fn a_relu_read_twice_is_not_fused() {
        let mut g = Graph {
            tensors: vec![tensor("x", None), tensor("y", None), tensor("z", None), tensor("w", None)],
            nodes: vec![
                node(Op::Add(Activation::None), &[0, 0], 1),
                node(Op::Activation(Activation::Relu), &[1], 2),
                node(Op::Abs, &[1], 3),
            ],
            inputs: vec![0],
            outputs: vec![2, 3],
        };
        optimize(&mut g);
        assert_eq!(g.nodes.len(), 3);
    }
}
