//! Add, Sub, Mul, Div (numpy broadcasting, a constant operand transposed to NHWC against a 4-D tensor), Relu,
//! PRelu (a slope per channel or one for all) and Sigmoid (as 1 / (1 + exp(-x)), from the ops the graph has).

use super::{nhwc, nhwc_data, Reader, Value};
use crate::error::{model_err, Result};
use crate::model::{shape, Activation, Op, TensorId};

impl Reader {
    pub(super) fn binary(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let name = self.output(node)?.to_string();
        let ranks = [self.rank(node, 0)?, self.rank(node, 1)?];
        let against = ranks[0].max(ranks[1]);
        let (a, sa) = self.operand(node, 0, against, &name)?;
        let (b, sb) = self.operand(node, 1, against, &name)?;
        let out = shape::broadcast(&sa, &sb)?;
        let op = match node.op_type.as_str() {
            "Add" => Op::Add(Activation::None),
            "Sub" => Op::Sub(Activation::None),
            "Mul" => Op::Mul(Activation::None),
            _ => Op::Div(Activation::None),
        };
        self.emit(op, vec![a, b], &name, out);
        Ok(())
    }

    /// The rank of a node's `k`th input.
    fn rank(&self, node: &super::proto::NodeProto, k: usize) -> Result<usize> {
        match self.value(node, k)? {
            Value::Tensor { shape, .. } | Value::Floats { shape, .. } => Ok(shape.len()),
            Value::Ints { .. } => model_err(format!("input {k} is an integer constant")),
        }
    }

    /// An operand of a binary op whose other operand has rank up to `against`: a computed tensor as it is
    /// (one of lower rank than a 4-D other is refused unless it holds one value: its layout would not match),
    /// a constant left-padded to that rank and, when 4-D, laid out NHWC.
    fn operand(
        &mut self,
        node: &super::proto::NodeProto,
        k: usize,
        against: usize,
        name: &str,
    ) -> Result<(TensorId, Vec<usize>)> {
        match self.value(node, k)?.clone() {
            Value::Tensor { id, shape } => {
                if against == 4 && shape.len() < 4 && shape.iter().product::<usize>() > 1 {
                    return model_err(format!("a tensor of {shape:?} against a 4-D one (the layouts differ)"));
                }
                Ok((id, shape))
            }
            Value::Floats { mut shape, data } => {
                while shape.len() < against {
                    shape.insert(0, 1);
                }
                let id = self.tensor(&format!("{name}/operand{k}"), nhwc(&shape), Some(nhwc_data(&shape, &data)));
                Ok((id, shape))
            }
            Value::Ints { .. } => model_err(format!("input {k} is an integer constant")),
        }
    }

    pub(super) fn activation(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
        let name = self.output(node)?.to_string();
        match node.op_type.as_str() {
            "Relu" => {
                self.emit(Op::Activation(Activation::Relu), vec![x], &name, xs);
            }
            "PRelu" => {
                let Some((ss, slope)) = self.floats(node, 1)? else { return model_err("the slope must be a constant") };
                let channels = xs.get(1).copied().unwrap_or(1);
                // One slope per channel (shaped [C], [C, 1, 1] or [1, C, 1, 1]) or one for all.
                let per_channel = slope.len() == channels && ss.iter().filter(|&&d| d != 1).count() <= 1;
                if !(slope.len() == 1 || per_channel) {
                    return model_err(format!("a slope of shape {ss:?} for {xs:?}"));
                }
                let len = slope.len();
                let slope = self.tensor(&format!("{name}/slope"), vec![len], Some(slope));
                self.emit(Op::Prelu, vec![x, slope], &name, xs);
            }
            _ => {
                // Sigmoid: 1 / (1 + exp(-x)).
                let one = self.tensor(&format!("{name}/one"), vec![1], Some(vec![1.0]));
                let neg = self.emit(Op::Neg, vec![x], &format!("{name}/neg"), xs.clone());
                let exp = self.emit(Op::Exp, vec![neg], &format!("{name}/exp"), xs.clone());
                let sum = self.emit(Op::Add(Activation::None), vec![exp, one], &format!("{name}/sum"), xs.clone());
                self.emit(Op::Div(Activation::None), vec![one, sum], &name, xs);
            }
        }
        Ok(())
    }
}
