//! Add, Sub, Mul, Div (numpy broadcasting, a constant operand laid out in the other's order), Relu, Exp, Neg,
//! Abs, PRelu (a slope per channel or one for all), and what is made of the graph's ops: Sigmoid
//! (1 / (1 + exp(-x))), Tanh (2 / (1 + exp(-2x)) - 1), Softmax (exp(x - max) / sum, over the axis) and
//! ReduceMean (a sum times 1 / count). Each keeps its input's order but PRelu, whose slope is per channel.

use super::{ordered_data, physical, Reader, Value};
use crate::error::{model_err, Result};
use crate::model::{shape, Activation, Op, TensorId};

impl Reader {
    pub(super) fn binary(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let name = self.output(node)?.to_string();
        let ranks = [self.rank(node, 0)?, self.rank(node, 1)?];
        let against = ranks[0].max(ranks[1]);
        // The order of the first computed operand of the larger rank (both are constants: refused below).
        let order = (0..2)
            .find_map(|k| match self.value(node, k) {
                Ok(Value::Tensor { order, .. }) if order.len() == against => Some(order.clone()),
                _ => None,
            })
            .ok_or_else(|| crate::Error::model("no computed operand of the larger rank"))?;
        let (a, sa) = self.operand(node, 0, &order, &name)?;
        let (b, sb) = self.operand(node, 1, &order, &name)?;
        let out = shape::broadcast(&sa, &sb)?;
        let op = match node.op_type.as_str() {
            "Add" => Op::Add(Activation::None),
            "Sub" => Op::Sub(Activation::None),
            "Mul" => Op::Mul(Activation::None),
            _ => Op::Div(Activation::None),
        };
        self.emit_in(op, vec![a, b], &name, out, order);
        Ok(())
    }

    /// The rank of a node's `k`th input.
    fn rank(&self, node: &super::proto::NodeProto, k: usize) -> Result<usize> {
        match self.value(node, k)? {
            Value::Tensor { shape, .. } | Value::Floats { shape, .. } => Ok(shape.len()),
            Value::Ints { .. } => model_err(format!("input {k} is an integer constant")),
        }
    }

    /// An operand of a binary op whose result is kept in `order`: a computed tensor of that rank arranged in
    /// it, one of a lower rank only when it holds one value (its layout would not match), a constant
    /// left-padded to that rank and laid out in that order.
    fn operand(
        &mut self,
        node: &super::proto::NodeProto,
        k: usize,
        order: &[usize],
        name: &str,
    ) -> Result<(TensorId, Vec<usize>)> {
        match self.value(node, k)?.clone() {
            Value::Tensor { id, shape, order: own } => {
                if shape.len() == order.len() {
                    return Ok((self.arranged(id, &shape, &own, order), shape));
                }
                if shape.iter().product::<usize>() > 1 {
                    return model_err(format!("a tensor of {shape:?} against one of rank {}", order.len()));
                }
                Ok((id, shape))
            }
            Value::Floats { mut shape, data } => {
                while shape.len() < order.len() {
                    shape.insert(0, 1);
                }
                let laid = ordered_data(&shape, &data, order);
                let id = self.tensor(&format!("{name}/operand{k}"), physical(&shape, order), Some(laid));
                Ok((id, shape))
            }
            Value::Ints { .. } => model_err(format!("input {k} is an integer constant")),
        }
    }

    pub(super) fn activation(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let name = self.output(node)?.to_string();
        match node.op_type.as_str() {
            op @ ("Relu" | "Exp" | "Neg" | "Abs") => {
                let (x, xs, order) = self.tensor_as_is(node, 0)?;
                let op = match op {
                    "Relu" => Op::Activation(Activation::Relu),
                    "Exp" => Op::Exp,
                    "Neg" => Op::Neg,
                    _ => Op::Abs,
                };
                self.emit_in(op, vec![x], &name, xs, order);
            }
            "PRelu" => {
                let (x, xs) = self.tensor_input(node, 0)?;
                let Some((ss, slope)) = self.floats(node, 1)? else { return model_err("the slope must be a constant") };
                let channels = xs.get(1).copied().unwrap_or(1);
                // One slope per channel (shaped [C], [C, 1, 1] or [1, C, 1, 1]) or one for all.
                let per_channel = slope.len() == channels && ss.iter().filter(|&&d| d != 1).count() <= 1;
                if !(slope.len() == 1 || per_channel) || (xs.len() != 4 && xs.len() != 2 && slope.len() > 1) {
                    return model_err(format!("a slope of shape {ss:?} for {xs:?}"));
                }
                let len = slope.len();
                let slope = self.tensor(&format!("{name}/slope"), vec![len], Some(slope));
                self.emit(Op::Prelu, vec![x, slope], &name, xs);
            }
            "Sigmoid" => {
                // 1 / (1 + exp(-x)).
                let (x, xs, order) = self.tensor_as_is(node, 0)?;
                let neg = self.emit_in(Op::Neg, vec![x], &format!("{name}/neg"), xs.clone(), order.clone());
                self.reciprocal_of_one_plus_exp(neg, &name, xs, order);
            }
            _ => {
                // Tanh: 2 / (1 + exp(-2x)) - 1.
                let (x, xs, order) = self.tensor_as_is(node, 0)?;
                let minus_two = self.scalar(&format!("{name}/minus_two"), -2.0);
                let scaled = self.emit_in(
                    Op::Mul(Activation::None),
                    vec![x, minus_two],
                    &format!("{name}/scaled"),
                    xs.clone(),
                    order.clone(),
                );
                let half = format!("{name}/half");
                let sigmoid = self.reciprocal_of_one_plus_exp(scaled, &half, xs.clone(), order.clone());
                let two = self.scalar(&format!("{name}/two"), 2.0);
                let twice = self.emit_in(
                    Op::Mul(Activation::None),
                    vec![sigmoid, two],
                    &format!("{name}/twice"),
                    xs.clone(),
                    order.clone(),
                );
                let one = self.scalar(&format!("{name}/one"), 1.0);
                self.emit_in(Op::Sub(Activation::None), vec![twice, one], &name, xs, order);
            }
        }
        Ok(())
    }

    /// 1 / (1 + exp(x)) of `x` (ONNX shape `xs`, kept in `order`), written as the value `name`.
    fn reciprocal_of_one_plus_exp(&mut self, x: TensorId, name: &str, xs: Vec<usize>, order: Vec<usize>) -> TensorId {
        let one = self.scalar(&format!("{name}/one"), 1.0);
        let exp = self.emit_in(Op::Exp, vec![x], &format!("{name}/exp"), xs.clone(), order.clone());
        let sum =
            self.emit_in(Op::Add(Activation::None), vec![exp, one], &format!("{name}/sum"), xs.clone(), order.clone());
        self.emit_in(Op::Div(Activation::None), vec![one, sum], name, xs, order)
    }

    /// A constant of one value.
    fn scalar(&mut self, name: &str, value: f32) -> TensorId {
        self.tensor(name, vec![1], Some(vec![value]))
    }

    /// Softmax over `axis` (opset 13), or over `axis` and every axis after it (before 13: the input seen as
    /// 2-D), as exp(x - max) / sum(exp(x - max)) along those axes.
    pub(super) fn softmax(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs, order) = self.tensor_as_is(node, 0)?;
        let name = self.output(node)?.to_string();
        let default = if self.opset >= 13 { -1 } else { 1 };
        let axis = axis_of(super::attr_int(node, "axis", default), xs.len())?;
        let axes: Vec<usize> = if self.opset >= 13 { vec![axis] } else { (axis..xs.len()).collect() };
        if axes.contains(&0) {
            return model_err("a softmax over the batch");
        }
        let graph_axes = graph_axes(&axes, &order);
        let kept: Vec<usize> = xs.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect();
        let part = |what: &str| format!("{name}/{what}");
        let max = Op::ReduceMax { axes: graph_axes.clone(), keep_dims: true };
        let max = self.emit_in(max, vec![x], &part("max"), kept.clone(), order.clone());
        let shifted =
            self.emit_in(Op::Sub(Activation::None), vec![x, max], &part("shifted"), xs.clone(), order.clone());
        let exp = self.emit_in(Op::Exp, vec![shifted], &part("exp"), xs.clone(), order.clone());
        let sum =
            self.emit_in(Op::Sum { axes: graph_axes, keep_dims: true }, vec![exp], &part("sum"), kept, order.clone());
        self.emit_in(Op::Div(Activation::None), vec![exp, sum], &name, xs, order);
        Ok(())
    }

    /// ReduceMean over `axes` (all but the batch when absent), keeping them as ones or not.
    pub(super) fn reduce_mean(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs, order) = self.tensor_as_is(node, 0)?;
        let name = self.output(node)?.to_string();
        let mut axes = match super::attr_ints(node, "axes") {
            Some(axes) => axes.iter().map(|&a| axis_of(a, xs.len())).collect::<Result<Vec<usize>>>()?,
            None => (0..xs.len()).collect(),
        };
        axes.sort_unstable();
        axes.dedup();
        if axes.is_empty() || axes.contains(&0) {
            return model_err(format!("a mean over axes {axes:?} (the batch included, or none)"));
        }
        let keep = super::attr_int(node, "keepdims", 1) != 0;
        let count: usize = axes.iter().map(|&a| xs[a]).product();
        let graph_axes = graph_axes(&axes, &order);
        let (out, out_order) = if keep {
            (xs.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect(), order.clone())
        } else {
            let out: Vec<usize> = xs.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &s)| s).collect();
            // The kept axes, numbered again among themselves.
            let renumber = |a: usize| a - axes.iter().filter(|&&r| r < a).count();
            (out, order.iter().filter(|a| !axes.contains(a)).map(|&a| renumber(a)).collect())
        };
        let sum = Op::Sum { axes: graph_axes, keep_dims: keep };
        let sum = self.emit_in(sum, vec![x], &format!("{name}/sum"), out.clone(), out_order.clone());
        let scale = self.scalar(&format!("{name}/scale"), 1.0 / count as f32);
        self.emit_in(Op::Mul(Activation::None), vec![sum, scale], &name, out, out_order);
        Ok(())
    }
}

/// An ONNX axis (negative: counted back from the rank) checked against the rank.
pub(super) fn axis_of(axis: i64, rank: usize) -> Result<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if !(0..rank as i64).contains(&a) {
        return model_err(format!("axis {axis} of a rank {rank} tensor"));
    }
    Ok(a as usize)
}

/// Where ONNX axes lie among the graph's dimensions of a value kept in `order`.
pub(super) fn graph_axes(axes: &[usize], order: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = axes.iter().map(|a| order.iter().position(|o| o == a).expect("a permutation")).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::graph_axes;

    #[test]
    fn onnx_axes_among_the_graph_dimensions() {
        // NHWC: ONNX's channel (1) is the graph's last dimension, height (2) its second.
        assert_eq!(graph_axes(&[1], &[0, 2, 3, 1]), vec![3]);
        assert_eq!(graph_axes(&[2, 3], &[0, 2, 3, 1]), vec![1, 2]);
    }
}
