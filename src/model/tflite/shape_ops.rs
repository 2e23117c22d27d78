//! Ops that move values rather than compute them: RESHAPE, PAD, CONCATENATION, RESIZE_BILINEAR, and the
//! reductions SUM and REDUCE_MAX. Their integer inputs (shapes, paddings, sizes, axes) must be constants,
//! and become op parameters.

use super::opcode::SUM;
use super::options::{Inputs, Options};
use super::{Built, Reader};
use crate::error::{model_err, Result};
use crate::model::shape::reshape_target;
use crate::model::{Op, TensorId};

/// RESHAPE: the new shape from the second input, or else from the options.
pub(super) fn reshape(reader: &Reader, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let target: Vec<i32> = match inputs.optional(1) {
        Some(t) => reader.ints(Some(t), "the new shape")?.to_vec(),
        None => opt.ints(0)?,
    };
    let target: Vec<i64> = target.iter().map(|&d| d as i64).collect();
    let x = inputs.get(0)?;
    Ok((Op::Reshape(reshape_target(&reader.tensors[x].shape, &target)?), vec![x]))
}

/// PAD with zeros: (before, after) per dimension.
pub(super) fn pad(reader: &Reader, inputs: &Inputs) -> Result<Built> {
    let p = reader.ints(inputs.optional(1), "the paddings")?;
    if p.len() % 2 != 0 || p.iter().any(|&v| v < 0) {
        return model_err(format!("paddings {p:?}"));
    }
    let pads = p.chunks_exact(2).map(|c| [c[0] as usize, c[1] as usize]).collect();
    Ok((Op::Pad { pads, value: 0.0 }, vec![inputs.get(0)?]))
}

/// CONCATENATION along an axis of the output (negative counts from the end).
pub(super) fn concat(reader: &Reader, inputs: &Inputs, output: TensorId, opt: &Options) -> Result<Built> {
    let rank = reader.tensors[output].shape.len() as i32;
    let axis = opt.i32(0, 0)?;
    let axis = if axis < 0 { axis + rank } else { axis };
    if axis < 0 || axis >= rank.max(1) {
        return model_err(format!("axis {axis} for rank {rank}"));
    }
    let ins = inputs.all()?;
    Ok((Op::Concat { axis: axis as usize, activation: opt.activation(1)? }, ins))
}

/// RESIZE_BILINEAR to a constant size.
pub(super) fn resize_bilinear(reader: &Reader, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let size = reader.ints(inputs.optional(1), "the size")?;
    let &[h, w] = size else { return model_err(format!("size {size:?}")) };
    if h <= 0 || w <= 0 {
        return model_err(format!("size {size:?}"));
    }
    // ResizeBilinearOptions: slots 0 and 1 are deprecated sizes.
    let (align_corners, half_pixel_centers) = (opt.bool(2)?, opt.bool(3)?);
    if align_corners && half_pixel_centers {
        return model_err("align_corners and half_pixel_centers together (TFLite refuses them too)");
    }
    let op = Op::ResizeBilinear { size: [h as usize, w as usize], align_corners, half_pixel_centers };
    Ok((op, vec![inputs.get(0)?]))
}

/// SUM or REDUCE_MAX over constant axes (negative counts from the end; repeats are dropped).
pub(super) fn reduce(reader: &Reader, code: i32, inputs: &Inputs, opt: &Options) -> Result<Built> {
    let x = inputs.get(0)?;
    let rank = reader.tensors[x].shape.len() as i32;
    let mut axes = Vec::new();
    for &a in reader.ints(inputs.optional(1), "the axes")? {
        let a = if a < 0 { a + rank } else { a };
        if a < 0 || a >= rank {
            return model_err(format!("axis {a} for rank {rank}"));
        }
        if !axes.contains(&(a as usize)) {
            axes.push(a as usize);
        }
    }
    let keep_dims = opt.bool(0)?;
    let op = if code == SUM { Op::Sum { axes, keep_dims } } else { Op::ReduceMax { axes, keep_dims } };
    Ok((op, vec![x]))
}
