//! Shape inference: every tensor's shape for given input shapes, with TFLite's rules. Run before any
//! allocation, so a bad shape or an oversized tensor is an error and never a huge buffer.

use super::{Graph, Op, Padding, MAX_ELEMENTS, MAX_STEPS};
use crate::error::{model_err, Error, ErrorKind, Result};

/// The number of elements of a shape, refusing anything above `MAX_ELEMENTS`.
pub fn element_count(shape: &[usize]) -> Result<usize> {
    let mut n: usize = 1;
    for &d in shape {
        n = match n.checked_mul(d) {
            Some(n) if n <= MAX_ELEMENTS => n,
            _ => return model_err(format!("tensor of shape {shape:?} is larger than {MAX_ELEMENTS} elements")),
        };
    }
    Ok(n)
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut out = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        out[d] = out[d + 1] * shape[d + 1];
    }
    out
}

/// Output size and padding before, for one spatial dimension of a convolution or pooling window.
pub fn window(input: usize, filter: usize, stride: usize, dilation: usize, padding: Padding) -> Result<(usize, usize)> {
    let effective = effective_size(filter, stride, dilation)?;
    match padding {
        Padding::Valid => {
            if input < effective {
                return model_err(format!("window of {effective} does not fit an input of {input}"));
            }
            Ok(((input - effective) / stride + 1, 0))
        }
        Padding::Same => {
            let (out, [before, _]) = same_pads(input, effective, stride);
            Ok((out, before))
        }
    }
}

/// TFLite's SAME padding for one spatial dimension: the output size, and the padding before and after (the
/// odd one after).
pub fn same_padding(input: usize, filter: usize, stride: usize, dilation: usize) -> Result<(usize, [usize; 2])> {
    Ok(same_pads(input, effective_size(filter, stride, dilation)?, stride))
}

/// The size a window covers on its input, dilation included, once its parameters are checked.
fn effective_size(filter: usize, stride: usize, dilation: usize) -> Result<usize> {
    if filter == 0 || stride == 0 || dilation == 0 {
        return model_err(format!("window with filter {filter}, stride {stride}, dilation {dilation}"));
    }
    let effective = (filter - 1).checked_mul(dilation).and_then(|e| e.checked_add(1));
    effective.map_or_else(|| model_err("window filter too large"), Ok)
}

fn same_pads(input: usize, effective: usize, stride: usize) -> (usize, [usize; 2]) {
    let out = input.div_ceil(stride);
    let total = ((out.max(1) - 1) * stride + effective).saturating_sub(input);
    (out, [total / 2, total - total / 2])
}

/// Numpy broadcasting of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => model_err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// Every tensor's shape, given the shapes of the graph inputs.
pub fn infer(graph: &Graph, input_shapes: &[Vec<usize>]) -> Result<Vec<Vec<usize>>> {
    if input_shapes.len() != graph.inputs.len() {
        return Err(Error::input(format!(
            "{} inputs given, the model takes {}",
            input_shapes.len(),
            graph.inputs.len()
        )));
    }
    let mut shapes: Vec<Vec<usize>> = graph.tensors.iter().map(|t| t.shape.clone()).collect();
    for (&id, shape) in graph.inputs.iter().zip(input_shapes) {
        let declared = &graph.tensors[id].shape;
        // Only the batch may differ from what the file declares.
        if declared.is_empty() || shape.len() != declared.len() || shape[1..] != declared[1..] || shape.contains(&0) {
            return Err(Error::input(format!("input of shape {shape:?}, the model takes {declared:?} (any batch)")));
        }
        element_count(shape)?;
        shapes[id] = shape.clone();
    }
    for node in &graph.nodes {
        let ins: Vec<&[usize]> = node.inputs.iter().map(|&i| shapes[i].as_slice()).collect();
        let out = node_output(&node.op, &ins).map_err(|e| match e.kind() {
            ErrorKind::Model => e.context(format!("{} -> '{}'", node.op.name(), graph.tensors[node.output].name)),
            _ => e,
        })?;
        // Empty tensors are legal in TFLite but never needed here; refusing them keeps every kernel simple.
        if out.contains(&0) {
            return model_err(format!(
                "{} -> '{}': empty tensor {out:?}",
                node.op.name(),
                graph.tensors[node.output].name
            ));
        }
        element_count(&out)?;
        shapes[node.output] = out;
    }
    Ok(shapes)
}

/// What one run costs: its steps (the kernels' innermost steps: a multiply-add, a pooling tap, a value read
/// or written) and the values it writes (every tensor it makes, the inputs' and outputs' copies included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub steps: u64,
    pub values: u64,
}

/// The cost of one run, given every tensor's shape from `infer`. Saturates rather than overflows.
pub fn cost(graph: &Graph, shapes: &[Vec<usize>]) -> Cost {
    let elements = |id: usize| shapes[id].iter().fold(1u64, |n, &d| n.saturating_mul(d as u64));
    let copies = graph.inputs.iter().chain(&graph.outputs).map(|&i| elements(i)).fold(0, u64::saturating_add);
    let mut cost = Cost { steps: copies, values: copies };
    for node in &graph.nodes {
        let steps_per_output = match &node.op {
            Op::Conv2d(_) => shapes[node.inputs[1]][1..].iter().product::<usize>() as u64,
            Op::DepthwiseConv2d(_) => (shapes[node.inputs[1]][1] * shapes[node.inputs[1]][2]) as u64,
            Op::FullyConnected { .. } => shapes[node.inputs[1]][1] as u64,
            // The reference and the GPU shader visit every tap of the window, inside the input or not.
            Op::MaxPool2d(p) | Op::AvgPool2d(p) => (p.filter[0] as u64).saturating_mul(p.filter[1] as u64),
            _ => 1,
        };
        let reads = node.inputs.iter().filter(|&&i| graph.tensors[i].data.is_none()).map(|&i| elements(i));
        let out = elements(node.output);
        cost.steps = reads.fold(cost.steps.saturating_add(out.saturating_mul(steps_per_output)), u64::saturating_add);
        cost.values = cost.values.saturating_add(out);
    }
    cost
}

/// The cost of a run on one image (batch 1), with the shapes the file declares.
pub fn cost_per_image(graph: &Graph) -> Result<Cost> {
    let one_image: Vec<Vec<usize>> = graph
        .inputs
        .iter()
        .map(|&i| {
            let mut shape = graph.tensors[i].shape.clone();
            shape[0] = 1;
            shape
        })
        .collect();
    let shapes = infer(graph, &one_image).map_err(|e| e.into_kind(ErrorKind::Model))?;
    Ok(cost(graph, &shapes))
}

/// Refuses a graph whose run on one image would take more than `MAX_STEPS` steps or write more than
/// `MAX_ELEMENTS` values: a small file can declare a window, a chain of ops or a list of outputs that would
/// keep a page busy for minutes or fill its memory.
pub fn check_cost(graph: &Graph) -> Result<()> {
    let cost = cost_per_image(graph)?;
    if cost.steps > MAX_STEPS {
        return model_err(format!("one image would take {} steps, more than the limit of {MAX_STEPS}", cost.steps));
    }
    if cost.values > MAX_ELEMENTS as u64 {
        return model_err(format!(
            "one image would write {} values, more than the limit of {MAX_ELEMENTS}",
            cost.values
        ));
    }
    Ok(())
}

fn rank4(s: &[usize]) -> Result<[usize; 4]> {
    s.try_into().or_else(|_| model_err(format!("expected a 4-d NHWC tensor, got {s:?}")))
}

fn node_output(op: &Op, ins: &[&[usize]]) -> Result<Vec<usize>> {
    match op {
        Op::Conv2d(c) | Op::DepthwiseConv2d(c) => {
            let [n, h, w, ch] = rank4(ins[0])?;
            let [o, kh, kw, i] = rank4(ins[1])?;
            let (in_ch, out_ch) = if matches!(op, Op::Conv2d(_)) { (i, o) } else { (i, i) };
            if ch != in_ch {
                return model_err(format!("input has {ch} channels, filter expects {in_ch}"));
            }
            let (oh, _) = window(h, kh, c.stride[0], c.dilation[0], c.padding)?;
            let (ow, _) = window(w, kw, c.stride[1], c.dilation[1], c.padding)?;
            Ok(vec![n, oh, ow, out_ch])
        }
        Op::FullyConnected { keep_num_dims, .. } => {
            let (out, width) = (ins[1][0], ins[1][1]);
            let total = element_count(ins[0])?;
            if width == 0 || total % width != 0 {
                return model_err(format!("input {:?} does not split into rows of {width}", ins[0]));
            }
            if *keep_num_dims {
                let mut s = ins[0].to_vec();
                if s.last() != Some(&width) {
                    return model_err("keep_num_dims with an inner dimension unlike the filter's");
                }
                *s.last_mut().expect("checked above") = out;
                Ok(s)
            } else {
                Ok(vec![total / width, out])
            }
        }
        Op::Add(_) | Op::Sub(_) | Op::Mul(_) | Op::Div(_) | Op::Prelu => broadcast(ins[0], ins[1]),
        Op::Abs | Op::Neg | Op::Exp | Op::Activation(_) | Op::LeakyRelu { .. } | Op::Dequantize => Ok(ins[0].to_vec()),
        Op::MaxPool2d(p) | Op::AvgPool2d(p) => {
            let [n, h, w, c] = rank4(ins[0])?;
            let (oh, _) = window(h, p.filter[0], p.stride[0], 1, p.padding)?;
            let (ow, _) = window(w, p.filter[1], p.stride[1], 1, p.padding)?;
            Ok(vec![n, oh, ow, c])
        }
        Op::Pad { pads, .. } => {
            if pads.len() != ins[0].len() {
                return model_err(format!("{} paddings for a rank {} tensor", pads.len(), ins[0].len()));
            }
            ins[0]
                .iter()
                .zip(pads)
                .map(|(&d, p)| d.checked_add(p[0]).and_then(|d| d.checked_add(p[1])).ok_or(()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .or_else(|_| model_err("padding overflows"))
        }
        Op::Slice { starts, sizes } => slice(ins[0], starts, sizes),
        Op::Transpose(perm) => {
            let mut seen = vec![false; perm.len()];
            let is_perm = perm.len() == ins[0].len()
                && perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
            if !is_perm || perm.first() != Some(&0) {
                return model_err(format!("permutation {perm:?} of a rank {} tensor (the batch first)", ins[0].len()));
            }
            Ok(perm.iter().map(|&p| ins[0][p]).collect())
        }
        Op::Reshape(target) => reshape(ins[0], target),
        Op::Concat { axis, .. } => {
            let first = ins[0];
            if *axis >= first.len() {
                return model_err(format!("axis {axis} of a rank {} tensor", first.len()));
            }
            let mut out = first.to_vec();
            out[*axis] = 0;
            for s in ins {
                let same_elsewhere = s.len() == first.len() && (0..s.len()).all(|d| d == *axis || s[d] == first[d]);
                if !same_elsewhere {
                    return model_err(format!("cannot concatenate {first:?} and {s:?} on axis {axis}"));
                }
                out[*axis] += s[*axis];
            }
            Ok(out)
        }
        Op::ResizeBilinear { size, .. } => {
            let [n, _, _, c] = rank4(ins[0])?;
            Ok(vec![n, size[0], size[1], c])
        }
        Op::ReduceMax { axes, keep_dims } | Op::Sum { axes, keep_dims } => {
            if axes.iter().any(|&a| a >= ins[0].len()) {
                return model_err(format!("reduction axes {axes:?} of a rank {} tensor", ins[0].len()));
            }
            let reduced = |d: usize| axes.contains(&d);
            Ok(match keep_dims {
                true => ins[0].iter().enumerate().map(|(d, &s)| if reduced(d) { 1 } else { s }).collect(),
                false => ins[0].iter().enumerate().filter(|(d, _)| !reduced(*d)).map(|(_, &s)| s).collect(),
            })
        }
    }
}

/// The output of a slice: the batch whole, then `sizes` from `starts`, which must lie inside the input.
fn slice(input: &[usize], starts: &[usize], sizes: &[usize]) -> Result<Vec<usize>> {
    let rest = input.get(1..).unwrap_or_default();
    let inside = |(d, (&s, &n)): (usize, (&usize, &usize))| s.checked_add(n).is_some_and(|end| end <= rest[d]);
    if starts.len() != rest.len() || sizes.len() != rest.len() || !starts.iter().zip(sizes).enumerate().all(inside) {
        return model_err(format!("a slice from {starts:?} of {sizes:?} of a tensor of {input:?}"));
    }
    Ok([&input[..1], sizes].concat())
}

/// The same transposition on fewer dimensions: dimensions of one dropped, and input dimensions that follow
/// each other in the permutation merged into one.
pub fn merged_transpose(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = perm.iter().copied().filter(|&p| shape[p] != 1).collect();
    // Runs of the permutation whose input dimensions are consecutive.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for &p in &kept {
        match runs.last_mut() {
            Some(run) if *run.last().expect("runs are not empty") + 1 == p => run.push(p),
            _ => runs.push(vec![p]),
        }
    }
    let mut by_input: Vec<usize> = (0..runs.len()).collect();
    by_input.sort_by_key(|&r| runs[r][0]);
    let dims: Vec<usize> = by_input.iter().map(|&r| runs[r].iter().map(|&p| shape[p]).product()).collect();
    let mut perm_out = vec![0; runs.len()];
    for (position, &r) in by_input.iter().enumerate() {
        perm_out[r] = position;
    }
    if dims.is_empty() {
        return (vec![1], vec![0]);
    }
    (dims, perm_out)
}

/// A RESHAPE target made independent of the batch: where the file's reshape keeps the first dimension,
/// it becomes -1 so that any batch passes through.
pub fn reshape_target(declared_input: &[usize], target: &[i64]) -> Result<Vec<i64>> {
    let out = reshape(declared_input, target)?;
    let mut free: Vec<i64> = out.iter().map(|&d| d as i64).collect();
    if !out.is_empty() && declared_input.first() == Some(&out[0]) {
        free[0] = -1;
    }
    Ok(free)
}

fn reshape(input: &[usize], target: &[i64]) -> Result<Vec<usize>> {
    let total = element_count(input)?;
    let mut known: usize = 1;
    let mut unknown = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            -1 if unknown.is_none() => unknown = Some(i),
            d if d >= 0 => {
                known = known.checked_mul(d as usize).filter(|&k| k <= MAX_ELEMENTS).map_or(usize::MAX, |k| k)
            }
            _ => return model_err(format!("bad reshape target {target:?}")),
        }
    }
    let mut out: Vec<usize> = target.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = unknown {
        if known == 0 || total % known != 0 {
            return model_err(format!("cannot reshape {input:?} to {target:?}"));
        }
        out[i] = total / known;
    } else if known != total {
        return model_err(format!("cannot reshape {input:?} ({total} elements) to {target:?}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_follows_tflite() {
        // 112 -> 56 with a 3x3 stride-2 window: total padding 1, placed after.
        assert_eq!(window(112, 3, 2, 1, Padding::Same).unwrap(), (56, 0));
        assert_eq!(window(7, 3, 1, 1, Padding::Same).unwrap(), (7, 1));
        assert_eq!(window(7, 3, 1, 2, Padding::Same).unwrap(), (7, 2));
        assert_eq!(window(48, 3, 1, 1, Padding::Valid).unwrap(), (46, 0));
        assert_eq!(window(46, 3, 2, 1, Padding::Same).unwrap(), (23, 0));
        assert!(window(2, 3, 1, 1, Padding::Valid).is_err());
    }

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast(&[2, 5, 5, 64], &[64]).unwrap(), vec![2, 5, 5, 64]);
        assert_eq!(broadcast(&[1, 2], &[1, 1]).unwrap(), vec![1, 2]);
        assert!(broadcast(&[3], &[4]).is_err());
    }

    #[test]
    fn reshape_infers_and_refuses() {
        assert_eq!(reshape(&[4, 1, 1, 192], &[-1, 192]).unwrap(), vec![4, 192]);
        assert!(reshape(&[4, 192], &[5, -1]).is_err());
        assert!(reshape(&[4, 192], &[-1, -1]).is_err());
    }

    #[test]
    fn huge_shapes_are_refused() {
        assert!(element_count(&[1_000_000, 1_000_000]).is_err());
        assert!(element_count(&[usize::MAX, 2]).is_err());
    }
}
