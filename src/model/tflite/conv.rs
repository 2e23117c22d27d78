//! CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the ops with a filter and a bias (zeros where the file
//! gives none).

use super::opcode::CONV_2D;
use super::options::{Inputs, Options};
use super::{Built, Reader};
use crate::error::{model_err, Result};
use crate::model::{Conv, Op, TensorId};

/// CONV_2D (filter OHWI) or DEPTHWISE_CONV_2D (filter 1HWC).
pub(super) fn conv(reader: &mut Reader, code: i32, inputs: &Inputs, output: TensorId, opt: &Options) -> Result<Built> {
    // Conv2DOptions: padding, stride_w, stride_h, activation, dilation_w, dilation_h.
    // DepthwiseConv2DOptions puts depth_multiplier before the activation.
    let act_slot = if code == CONV_2D { 3 } else { 4 };
    let conv = Conv {
        padding: opt.padding(0)?,
        stride: [opt.positive(2)?, opt.positive(1)?],
        dilation: [opt.dilation(act_slot + 2)?, opt.dilation(act_slot + 1)?],
        activation: opt.activation(act_slot)?,
    };
    let filter = inputs.get(1)?;
    let out_channels = match (code == CONV_2D, reader.tensors[filter].shape.as_slice()) {
        (true, [o, _, _, _]) => *o,
        (false, [1, _, _, c]) => *c,
        (_, s) => return model_err(format!("filter of shape {s:?}")),
    };
    let bias = reader.bias(inputs.optional(2), out_channels, output)?;
    let op = if code == CONV_2D { Op::Conv2d(conv) } else { Op::DepthwiseConv2d(conv) };
    Ok((op, vec![inputs.get(0)?, filter, bias]))
}

/// FULLY_CONNECTED (filter [out, in]).
pub(super) fn fully_connected(reader: &mut Reader, inputs: &Inputs, output: TensorId, opt: &Options) -> Result<Built> {
    if opt.i8(1, 0)? != 0 {
        return model_err("shuffled weight formats are not supported");
    }
    let filter = inputs.get(1)?;
    let [out, _] = reader.tensors[filter].shape[..] else {
        return model_err(format!("filter of shape {:?}", reader.tensors[filter].shape));
    };
    let bias = reader.bias(inputs.optional(2), out, output)?;
    let op = Op::FullyConnected { activation: opt.activation(0)?, keep_num_dims: opt.bool(2)? };
    Ok((op, vec![inputs.get(0)?, filter, bias]))
}
