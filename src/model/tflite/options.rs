//! An operator's options table and its inputs, as the per-family readers take them.

use crate::error::{model_err, Result};
use crate::model::flatbuf::Table;
use crate::model::{Activation, Padding, TensorId};

/// An operator's inputs; an optional one the file left out (-1) is `None`.
pub(super) struct Inputs<'a>(pub(super) &'a [Option<TensorId>]);

impl Inputs<'_> {
    /// Input `i`, which the op needs.
    pub(super) fn get(&self, i: usize) -> Result<TensorId> {
        match self.optional(i) {
            Some(t) => Ok(t),
            None => model_err(format!("input {i} is missing")),
        }
    }

    /// Input `i`, which the op may go without.
    pub(super) fn optional(&self, i: usize) -> Option<TensorId> {
        self.0.get(i).copied().flatten()
    }

    /// Every input, all needed.
    pub(super) fn all(&self) -> Result<Vec<TensorId>> {
        (0..self.0.len()).map(|i| self.get(i)).collect()
    }
}

/// An op's options table, absent when the file stores only defaults.
pub(super) struct Options<'a>(pub(super) Option<Table<'a>>);

impl Options<'_> {
    pub(super) fn i8(&self, slot: usize, default: i8) -> Result<i8> {
        self.0.as_ref().map_or(Ok(default), |t| t.i8(slot, default))
    }

    pub(super) fn i32(&self, slot: usize, default: i32) -> Result<i32> {
        self.0.as_ref().map_or(Ok(default), |t| t.i32(slot, default))
    }

    pub(super) fn f32(&self, slot: usize, default: f32) -> Result<f32> {
        self.0.as_ref().map_or(Ok(default), |t| t.f32(slot, default))
    }

    pub(super) fn bool(&self, slot: usize) -> Result<bool> {
        self.0.as_ref().map_or(Ok(false), |t| t.bool(slot))
    }

    pub(super) fn ints(&self, slot: usize) -> Result<Vec<i32>> {
        match &self.0 {
            Some(t) => Ok(t.vector(slot, 4)?.map(|v| v.i32s()).transpose()?.unwrap_or_default()),
            None => Ok(vec![]),
        }
    }

    pub(super) fn positive(&self, slot: usize) -> Result<usize> {
        match self.i32(slot, 0)? {
            v if (1..=4096).contains(&v) => Ok(v as usize),
            v => model_err(format!("stride or filter size {v} (option {slot})")),
        }
    }

    pub(super) fn dilation(&self, slot: usize) -> Result<usize> {
        match self.i32(slot, 1)? {
            v if (1..=4096).contains(&v) => Ok(v as usize),
            v => model_err(format!("dilation {v}")),
        }
    }

    /// A `Padding` enum of the schema: SAME (0) or VALID (1).
    pub(super) fn padding(&self, slot: usize) -> Result<Padding> {
        match self.i8(slot, 0)? {
            0 => Ok(Padding::Same),
            1 => Ok(Padding::Valid),
            p => model_err(format!("padding type {p}")),
        }
    }

    /// An `ActivationFunctionType` of the schema: NONE, RELU, RELU_N1_TO_1, RELU6 (0 to 3); TANH (4) and the
    /// rest are refused.
    pub(super) fn activation(&self, slot: usize) -> Result<Activation> {
        match self.i8(slot, 0)? {
            0 => Ok(Activation::None),
            1 => Ok(Activation::Relu),
            2 => Ok(Activation::ReluN1To1),
            3 => Ok(Activation::Relu6),
            4 => model_err("fused TANH activation is not supported"),
            a => model_err(format!("fused activation {a} is not supported")),
        }
    }
}
