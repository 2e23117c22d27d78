//! AVERAGE_POOL_2D and MAX_POOL_2D.

use super::opcode::AVERAGE_POOL_2D;
use super::options::{Inputs, Options};
use super::Built;
use crate::error::Result;
use crate::model::{Op, Pool};

/// Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, activation.
pub(super) fn pool(code: i32, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let pool = Pool {
        padding: opt.padding(0)?,
        stride: [opt.positive(2)?, opt.positive(1)?],
        filter: [opt.positive(4)?, opt.positive(3)?],
        activation: opt.activation(5)?,
    };
    let op = if code == AVERAGE_POOL_2D { Op::AvgPool2d(pool) } else { Op::MaxPool2d(pool) };
    Ok((op, vec![inputs.get(0)?]))
}
