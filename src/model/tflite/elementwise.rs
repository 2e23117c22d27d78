//! Elementwise ops: the binary arithmetic (ADD, SUB, MUL, DIV, with numpy broadcasting and a fused
//! activation), the activations (RELU, RELU_N1_TO_1, RELU6, LEAKY_RELU, PRELU) and the unary math (EXP,
//! NEG, ABS, and DEQUANTIZE, which the rewrites fold away).

use super::opcode::*;
use super::options::{Inputs, Options};
use super::Built;
use crate::error::{model_err, Result};
use crate::model::{Activation, Op};

/// ADD, SUB, MUL or DIV.
pub(super) fn binary(code: i32, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let activation = opt.activation(0)?;
    let op = match code {
        ADD => Op::Add(activation),
        SUB => Op::Sub(activation),
        MUL => Op::Mul(activation),
        DIV => Op::Div(activation),
        _ => return model_err("this op is not supported"),
    };
    Ok((op, vec![inputs.get(0)?, inputs.get(1)?]))
}

/// An op of one float input (PRELU also takes its slope).
pub(super) fn unary(code: i32, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let op = match code {
        RELU => Op::Activation(Activation::Relu),
        RELU_N1_TO_1 => Op::Activation(Activation::ReluN1To1),
        RELU6 => Op::Activation(Activation::Relu6),
        LEAKY_RELU => Op::LeakyRelu { alpha: opt.f32(0, 0.0)? },
        PRELU => return Ok((Op::Prelu, vec![inputs.get(0)?, inputs.get(1)?])),
        EXP => Op::Exp,
        NEG => Op::Neg,
        ABS => Op::Abs,
        DEQUANTIZE => Op::Dequantize,
        _ => return model_err("this op is not supported"),
    };
    Ok((op, vec![inputs.get(0)?]))
}
