//! Shape, Gather, Unsqueeze, Concat and Constant, which on integer constants (shapes) are computed at load,
//! and Reshape and Flatten, which need their target shape known at load.

use super::{attr_int, attr_ints, constant_value, nhwc, Reader, Value};
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

/// Whether a tensor of this ONNX shape lies in memory in the same order NCHW and NHWC: what a reshape
/// needs, since the graph holds 4-D tensors NHWC.
fn same_order(shape: &[usize]) -> bool {
    match *shape {
        [_, c, h, w] => c == 1 || h * w == 1,
        _ => true,
    }
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
    fn ints(&self, node: &super::proto::NodeProto, k: usize) -> Result<(Vec<usize>, Vec<i64>)> {
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
        let (first, mut out) = self.tensor_input(node, 0)?;
        let a = from_end(axis, out.len());
        if !(0..out.len() as i64).contains(&a) {
            return model_err(format!("axis {axis} of a rank {} tensor", out.len()));
        }
        let a = a as usize;
        let mut inputs = vec![first];
        for k in 1..node.input.len() {
            let (id, shape) = self.tensor_input(node, k)?;
            if shape.len() != out.len() {
                return model_err(format!("cannot concatenate {out:?} and {shape:?}"));
            }
            out[a] += shape[a];
            inputs.push(id);
        }
        // NCHW axis to NHWC: C (1) is last, H and W move up one.
        let axis = if out.len() == 4 { [0, 3, 1, 2][a] } else { a };
        self.emit(Op::Concat { axis, activation: Activation::None }, inputs, &name, out);
        Ok(())
    }

    /// Reshape (to a shape known at load: 0 keeps a dimension, -1 takes the rest) and Flatten.
    pub(super) fn reshape(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
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
        if target.iter().product::<usize>() != count {
            return model_err(format!("cannot reshape {xs:?} to {target:?}"));
        }
        if !(same_order(&xs) && same_order(&target)) {
            return model_err(format!("a reshape of {xs:?} to {target:?} would need the NCHW order (not supported)"));
        }
        // The batch stays free where the target keeps it.
        let mut shape: Vec<i64> = nhwc(&target).iter().map(|&d| d as i64).collect();
        if target.first() == xs.first() {
            shape[0] = -1;
        }
        let name = self.output(node)?.to_string();
        self.emit(Op::Reshape(shape), vec![x], &name, target);
        Ok(())
    }
}
