//! Ops that move values: Transpose (a new order for the same data: no node), Slice and Split (SLICE nodes on
//! the graph's dimensions), and Pad (constant mode). None may touch the batch, which stays free.

use super::elementwise::axis_of;
use super::{attr_float, attr_int, attr_ints, attr_str, Reader, Value};
use crate::error::{model_err, Result};
use crate::model::Op;

impl Reader {
    /// Transpose: the same tensor, its ONNX dimensions renumbered.
    pub(super) fn transpose(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (id, xs, order) = self.tensor_as_is(node, 0)?;
        let rank = xs.len();
        let perm: Vec<usize> = match attr_ints(node, "perm") {
            Some(p) => p.iter().map(|&a| usize::try_from(a).unwrap_or(usize::MAX)).collect(),
            None => (0..rank).rev().collect(),
        };
        let mut seen = vec![false; rank];
        if perm.len() != rank || perm.iter().any(|&a| a >= rank || std::mem::replace(&mut seen[a], true)) {
            return model_err(format!("perm {perm:?} of a rank {rank} tensor"));
        }
        if perm[0] != 0 {
            return model_err(format!("perm {perm:?} moves the batch"));
        }
        // Output dimension d is input dimension perm[d]: the graph's dimension k, input dimension order[k],
        // is output dimension inverse[order[k]].
        let mut inverse = vec![0; rank];
        for (d, &p) in perm.iter().enumerate() {
            inverse[p] = d;
        }
        let shape = perm.iter().map(|&p| xs[p]).collect();
        let order = order.iter().map(|&a| inverse[a]).collect();
        self.values.insert(self.output(node)?.to_string(), Value::Tensor { id, shape, order });
        Ok(())
    }

    /// Slice with steps of 1: attributes before opset 10, inputs (integer constants) from it.
    pub(super) fn slice(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (_, xs, _) = self.tensor_as_is(node, 0)?;
        let list = |name: &str, k: usize| -> Result<Option<Vec<i64>>> {
            if self.opset < 10 {
                return Ok(attr_ints(node, name).map(<[i64]>::to_vec));
            }
            match node.input.get(k).filter(|n| !n.is_empty()) {
                Some(_) => Ok(Some(self.ints(node, k)?.1)),
                None => Ok(None),
            }
        };
        let (Some(starts), Some(ends)) = (list("starts", 1)?, list("ends", 2)?) else {
            return model_err("starts and ends are needed");
        };
        let axes = list("axes", 3)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = list("steps", 4)?.unwrap_or_else(|| vec![1; starts.len()]);
        if axes.len() != starts.len() || ends.len() != starts.len() || steps.len() != starts.len() {
            return model_err("starts, ends, axes and steps of different lengths");
        }
        if steps.iter().any(|&s| s != 1) {
            return model_err(format!("steps {steps:?} (only 1)"));
        }
        let mut ranges: Vec<[usize; 2]> = xs.iter().map(|&d| [0, d]).collect();
        for ((&a, &start), &end) in axes.iter().zip(&starts).zip(&ends) {
            let axis = axis_of(a, xs.len())?;
            let dim = xs[axis] as i64;
            // ONNX's clamping: negative counts from the end, then into [0, dim].
            let clamp = |i: i64| (if i < 0 { i.saturating_add(dim) } else { i }).clamp(0, dim) as usize;
            ranges[axis] = [clamp(start), clamp(end)];
        }
        self.slice_to(node, 0, &ranges, self.output(node)?.to_string())
    }

    /// Split along an axis, into the sizes given (attribute before opset 13, input from it) or equal parts.
    pub(super) fn split(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (_, xs, _) = self.tensor_as_is(node, 0)?;
        let axis = axis_of(attr_int(node, "axis", 0), xs.len())?;
        let given = match (self.opset >= 13, node.input.get(1).filter(|n| !n.is_empty())) {
            (true, Some(_)) => Some(self.ints(node, 1)?.1),
            (true, None) => None,
            (false, _) => attr_ints(node, "split").map(<[i64]>::to_vec),
        };
        let parts = node.output.len();
        let sizes: Vec<usize> = match given {
            Some(sizes) => sizes.iter().map(|&s| usize::try_from(s).unwrap_or(usize::MAX)).collect(),
            None if parts > 0 && xs[axis] % parts == 0 => vec![xs[axis] / parts; parts],
            None => return model_err(format!("{} does not split into {parts} equal parts", xs[axis])),
        };
        if sizes.len() != parts || sizes.iter().try_fold(0usize, |t, &s| t.checked_add(s)) != Some(xs[axis]) {
            return model_err(format!("parts {sizes:?} of {} for {parts} outputs", xs[axis]));
        }
        let mut start = 0;
        for (name, size) in node.output.iter().zip(sizes) {
            let mut ranges: Vec<[usize; 2]> = xs.iter().map(|&d| [0, d]).collect();
            ranges[axis] = [start, start + size];
            start += size;
            if !name.is_empty() {
                self.slice_to(node, 0, &ranges, name.clone())?;
            }
        }
        Ok(())
    }

    /// The `ranges` ([start, end) per ONNX dimension) of a node's `k`th input, as the value `name`: a SLICE
    /// on the graph's dimensions, kept in the input's order.
    fn slice_to(
        &mut self,
        node: &super::proto::NodeProto,
        k: usize,
        ranges: &[[usize; 2]],
        name: String,
    ) -> Result<()> {
        let (id, xs, order) = self.tensor_as_is(node, k)?;
        let shape: Vec<usize> = ranges.iter().map(|[s, e]| e.saturating_sub(*s)).collect();
        if shape.contains(&0) || ranges[0] != [0, xs[0]] {
            return model_err(format!("a slice {ranges:?} of {xs:?} (empty, or of the batch)"));
        }
        if shape == xs {
            self.values.insert(name, Value::Tensor { id, shape, order });
            return Ok(());
        }
        let starts = order[1..].iter().map(|&a| ranges[a][0]).collect();
        let sizes = order[1..].iter().map(|&a| shape[a]).collect();
        self.emit_in(Op::Slice { starts, sizes }, vec![id], &name, shape, order);
        Ok(())
    }

    /// Pad in constant mode (pads as an attribute before opset 11, an input from it), not of the batch.
    pub(super) fn pad(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (id, xs, order) = self.tensor_as_is(node, 0)?;
        let mode = attr_str(node, "mode");
        if !(mode.is_empty() || mode == b"constant") {
            return model_err(format!("mode {} (only constant)", String::from_utf8_lossy(mode)));
        }
        let (pads, value) = if self.opset < 11 {
            (attr_ints(node, "pads").map(<[i64]>::to_vec).unwrap_or_default(), attr_float(node, "value", 0.0))
        } else {
            let value = match self.floats(node, 2)? {
                Some((_, v)) if v.len() == 1 => v[0],
                Some(_) => return model_err("constant_value must be one value"),
                None => 0.0,
            };
            (self.ints(node, 1)?.1, value)
        };
        let rank = xs.len();
        let limit = 1i64 << 16;
        if pads.len() != 2 * rank || pads.iter().any(|p| !(0..=limit).contains(p)) || pads[0] != 0 || pads[rank] != 0 {
            return model_err(format!("pads {pads:?} for a rank {rank} tensor (0 to {limit}, none on the batch)"));
        }
        let shape: Vec<usize> = (0..rank).map(|d| xs[d] + (pads[d] + pads[rank + d]) as usize).collect();
        let graph_pads = order.iter().map(|&a| [pads[a] as usize, pads[rank + a] as usize]).collect();
        let name = self.output(node)?.to_string();
        self.emit_in(Op::Pad { pads: graph_pads, value }, vec![id], &name, shape, order);
        Ok(())
    }
}
