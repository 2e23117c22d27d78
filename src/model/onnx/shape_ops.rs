//! Shape, Gather, Unsqueeze, Concat and Constant, which on integer constants (shapes) are computed at load,
//! and Reshape and Flatten, which need their target shape known at load.

use super::{attr_int, attr_ints, constant_value, natural, physical, Reader, Value};
use crate::error::{model_err, Result};
use crate::model::{Activation, Op};

/// An ONNX axis or index, a negative one counting back from `len` (each caller checks its own range).
fn from_end(i: i64, len: usize) -> i64 {
    if i < 0 {
        i + len as i64
    } else {
        i
    }
}

/// For a reshape of `xs` (kept in `order`) to `target` that keeps the batch: the order the input must be
/// kept in for the data to stay where it is, and the order of the result. The dimensions after the batch
/// (those of one aside) fall into groups that the reshape merges or splits; the data stays where it is when
/// each group's input dimensions lie together and in ONNX order among the graph's dimensions. The groups
/// keep the order in which the input holds them, so that at most their own dimensions move.
fn reshape_orders(xs: &[usize], order: &[usize], target: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let ins: Vec<usize> = (1..xs.len()).filter(|&a| xs[a] != 1).collect();
    let outs: Vec<usize> = (1..target.len()).filter(|&a| target[a] != 1).collect();
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < ins.len() && j < outs.len() {
        let (mut gi, mut go) = (vec![ins[i]], vec![outs[j]]);
        let (mut pi, mut po) = (xs[ins[i]], target[outs[j]]);
        (i, j) = (i + 1, j + 1);
        while pi != po {
            if pi < po && i < ins.len() {
                (pi, i) = (pi * xs[ins[i]], i + 1);
                gi.push(ins[i - 1]);
            } else if po < pi && j < outs.len() {
                (po, j) = (po * target[outs[j]], j + 1);
                go.push(outs[j - 1]);
            } else {
                // The sizes do not match (checked before): the ONNX order, which any reshape keeps.
                let identity = |rank: usize| (0..rank).collect::<Vec<usize>>();
                return (identity(xs.len()), identity(target.len()));
            }
        }
        groups.push((gi, go));
    }
    let position = |a: &usize| order.iter().position(|o| o == a).expect("a permutation");
    groups.sort_by_key(|(gi, _)| gi.iter().map(position).min());
    let with_ones = |big: Vec<usize>, shape: &[usize]| -> Vec<usize> {
        let ones = (1..shape.len()).filter(|&a| shape[a] == 1);
        std::iter::once(0).chain(big).chain(ones).collect()
    };
    let from = with_ones(groups.iter().flat_map(|(gi, _)| gi.clone()).collect(), xs);
    let to = with_ones(groups.iter().flat_map(|(_, go)| go.clone()).collect(), target);
    // Where the dimensions of one may go anywhere, the natural order, so that no op needs a RESHAPE for it.
    let big = |o: &[usize]| o.iter().copied().filter(|&a| target[a] != 1).collect::<Vec<_>>();
    let natural = natural(target.len());
    (from, if big(&natural) == big(&to) { natural } else { to })
}

impl Reader {
    pub(super) fn shape_op(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let name = self.output(node)?.to_string();
        let value = match node.op_type.as_str() {
            "Constant" => match node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()) {
                Some(t) => constant_value(t)?,
                None => return model_err("only a tensor value"),
            },
            "Shape" => {
                let shape = match self.value(node, 0)? {
                    Value::Tensor { shape, .. } | Value::Floats { shape, .. } | Value::Ints { shape, .. } => shape,
                };
                Value::Ints { shape: vec![shape.len()], data: shape.iter().map(|&d| d as i64).collect() }
            }
            "Gather" => self.gather(node)?,
            "Unsqueeze" => {
                let (shape, data) = self.ints(node, 0)?;
                let axes = match attr_ints(node, "axes") {
                    Some(axes) => axes.to_vec(),
                    None => self.ints(node, 1)?.1,
                };
                let mut shape = shape;
                let rank = shape.len() + axes.len();
                let mut axes: Vec<i64> = axes.iter().map(|&a| from_end(a, rank)).collect();
                axes.sort_unstable();
                for a in axes {
                    if !(0..=shape.len() as i64).contains(&a) {
                        return model_err(format!("axis {a} past rank {}", shape.len()));
                    }
                    shape.insert(a as usize, 1);
                }
                Value::Ints { shape, data }
            }
            _ => return self.concat(node),
        };
        self.values.insert(name, value);
        Ok(())
    }

    /// A node's `k`th input as an integer constant.
    pub(super) fn ints(&self, node: &super::proto::NodeProto, k: usize) -> Result<(Vec<usize>, Vec<i64>)> {
        match self.value(node, k)? {
            Value::Ints { shape, data } => Ok((shape.clone(), data.clone())),
            _ => model_err(format!("input {k} must be an integer constant")),
        }
    }

    /// Gather on axis 0 of a 1-D integer constant (a shape), by a scalar or 1-D index constant.
    fn gather(&self, node: &super::proto::NodeProto) -> Result<Value> {
        let (shape, data) = self.ints(node, 0)?;
        let (index_shape, indices) = self.ints(node, 1)?;
        if shape.len() != 1 || attr_int(node, "axis", 0) != 0 || index_shape.len() > 1 {
            return model_err("only a 1-D integer constant by a scalar or 1-D index");
        }
        let picked = indices
            .iter()
            .map(|&i| {
                let at = usize::try_from(from_end(i, data.len())).ok();
                at.and_then(|at| data.get(at))
                    .copied()
                    .ok_or_else(|| crate::Error::model(format!("index {i} of {}", data.len())))
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Value::Ints { shape: index_shape, data: picked })
    }

    /// Concat: of 1-D integer constants at load; of tensors as a CONCATENATION (on the NHWC axis).
    fn concat(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let name = self.output(node)?.to_string();
        let axis = attr_int(node, "axis", 0);
        if matches!(self.value(node, 0)?, Value::Ints { .. }) {
            let mut data = Vec::new();
            for k in 0..node.input.len() {
                let (shape, part) = self.ints(node, k)?;
                if shape.len() != 1 || axis != 0 {
                    return model_err("integer constants: 1-D on axis 0 only");
                }
                data.extend(part);
            }
            self.values.insert(name, Value::Ints { shape: vec![data.len()], data });
            return Ok(());
        }
        // Every part in the order of the first.
        let (first, mut out, order) = self.tensor_as_is(node, 0)?;
        let a = from_end(axis, out.len());
        if !(0..out.len() as i64).contains(&a) {
            return model_err(format!("axis {axis} of a rank {} tensor", out.len()));
        }
        let a = a as usize;
        let mut inputs = vec![first];
        for k in 1..node.input.len() {
            let (id, shape, own) = self.tensor_as_is(node, k)?;
            if shape.len() != out.len() {
                return model_err(format!("cannot concatenate {out:?} and {shape:?}"));
            }
            out[a] += shape[a];
            inputs.push(self.arranged(id, &shape, &own, &order));
        }
        let axis = order.iter().position(|&o| o == a).expect("a permutation");
        self.emit_in(Op::Concat { axis, activation: Activation::None }, inputs, &name, out, order);
        Ok(())
    }

    /// Reshape (to a shape known at load: 0 keeps a dimension, -1 takes the rest) and Flatten: a RESHAPE of
    /// the data where it lies when the reshape allows (`reshape_orders`), else after a TRANSPOSE.
    pub(super) fn reshape(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs, order) = self.tensor_as_is(node, 0)?;
        let count: usize = xs.iter().product();
        let target: Vec<usize> = if node.op_type == "Flatten" {
            let axis = attr_int(node, "axis", 1);
            let axis = from_end(axis, xs.len());
            if !(0..=xs.len() as i64).contains(&axis) {
                return model_err(format!("axis {axis} of a rank {} tensor", xs.len()));
            }
            let first: usize = xs[..axis as usize].iter().product();
            vec![first, count / first.max(1)]
        } else {
            let (_, wanted) = self.ints(node, 1)?;
            let mut known = 1usize;
            let mut target = Vec::with_capacity(wanted.len());
            for (i, &d) in wanted.iter().enumerate() {
                let d = match d {
                    0 => *xs.get(i).ok_or_else(|| crate::Error::model("0 past the input's rank"))?,
                    -1 => 0,
                    d if d > 0 => d as usize,
                    d => return model_err(format!("dimension {d}")),
                };
                known = known.saturating_mul(d.max(1));
                target.push(d);
            }
            if let Some(free) = wanted.iter().position(|&d| d == -1) {
                target[free] = count / known.max(1);
            }
            target
        };
        if target.iter().product::<usize>() != count || target.is_empty() {
            return model_err(format!("cannot reshape {xs:?} to {target:?}"));
        }
        // Where the batch stays, it stays free; where it does not, the ONNX order and this batch only.
        let keeps_batch = target.first() == xs.first();
        let (from, to) = if keeps_batch {
            reshape_orders(&xs, &order, &target)
        } else {
            ((0..xs.len()).collect(), (0..target.len()).collect())
        };
        let big = |o: &[usize]| o.iter().copied().filter(|&a| xs[a] != 1).collect::<Vec<_>>();
        let x = if big(&from) == big(&order) { x } else { self.arranged(x, &xs, &order, &from) };
        let mut shape: Vec<i64> = physical(&target, &to).iter().map(|&d| d as i64).collect();
        if keeps_batch {
            shape[0] = -1;
        }
        let name = self.output(node)?.to_string();
        self.emit_in(Op::Reshape(shape), vec![x], &name, target, to);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reshape_orders;

    #[test]
    fn reshapes_keep_the_data_where_they_can() {
        // NHWC [1, 8, 1, 1] flattened: no move.
        assert_eq!(reshape_orders(&[1, 8, 1, 1], &[0, 2, 3, 1], &[1, 8]), (vec![0, 1, 2, 3], vec![0, 1]));
        // A channel shuffle's split of NHWC channels: the channels' two parts stay last.
        let (from, to) = reshape_orders(&[1, 6, 4, 4], &[0, 2, 3, 1], &[1, 2, 3, 4, 4]);
        assert_eq!((from, to.clone()), (vec![0, 2, 3, 1], vec![0, 3, 4, 1, 2]));
        // ... and their merge after the transposition swapped them: the two parts swap back, then NHWC.
        let (from, to) = reshape_orders(&[1, 3, 2, 4, 4], &[0, 3, 4, 2, 1], &[1, 6, 4, 4]);
        assert_eq!((from, to), (vec![0, 3, 4, 1, 2], vec![0, 2, 3, 1]));
        // A spatial NHWC tensor flattened needs the ONNX order.
        assert_eq!(reshape_orders(&[1, 3, 2, 2], &[0, 2, 3, 1], &[1, 12]).0, vec![0, 1, 2, 3]);
    }
}
