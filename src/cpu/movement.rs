//! The CPU kernels of the ops that only move values (PAD, SLICE, TRANSPOSE, CONCATENATION): the reference
//! kernels' results exactly (`tests/kernels.rs`), by copying runs of adjacent values through four nested
//! loops instead of working out each value's index (which made a ShuffleNet's channel shuffles and splits two
//! thirds of its time). Shapes of more than four dimensions, after merging those that move together, take the
//! reference.

use super::reference;
use crate::model::shape::merged_transpose;
use crate::model::shape::strides;

/// A shape of at most four dimensions padded with ones on the left, with its strides (0 for the padding).
fn four(dims: &[usize], strides: &[usize]) -> Option<([usize; 4], [usize; 4])> {
    let lead = 4usize.checked_sub(dims.len())?;
    let (mut d, mut s) = ([1; 4], [0; 4]);
    d[lead..].copy_from_slice(dims);
    s[lead..].copy_from_slice(strides);
    Some((d, s))
}

/// out[a, b, c, e] = x[base + a s0 + b s1 + c s2 + e s3] over `dims`: rows copied whole where s3 is 1.
fn gather(x: &[f32], base: usize, dims: [usize; 4], s: [usize; 4], out: &mut [f32]) {
    let mut o = 0;
    for a in 0..dims[0] {
        for b in 0..dims[1] {
            for c in 0..dims[2] {
                let row = base + a * s[0] + b * s[1] + c * s[2];
                let dst = &mut out[o..o + dims[3]];
                if s[3] == 1 {
                    dst.copy_from_slice(&x[row..row + dims[3]]);
                } else {
                    for (e, v) in dst.iter_mut().enumerate() {
                        *v = x[row + e * s[3]];
                    }
                }
                o += dims[3];
            }
        }
    }
}

/// Transposition: output dimension d is input dimension `perm[d]`.
pub fn transpose(x: &[f32], shape: &[usize], perm: &[usize], out: &mut [f32]) {
    let (dims, merged) = merged_transpose(shape, perm);
    let in_strides = strides(&dims);
    let out_dims: Vec<usize> = merged.iter().map(|&p| dims[p]).collect();
    let src: Vec<usize> = merged.iter().map(|&p| in_strides[p]).collect();
    match four(&out_dims, &src) {
        Some((d, s)) => gather(x, 0, d, s, out),
        None => out.copy_from_slice(&reference::transpose(x, shape, perm)),
    }
}

/// The part of `x` from `starts` (one per dimension after the batch) of `out_shape`.
pub fn slice(x: &[f32], shape: &[usize], starts: &[usize], out_shape: &[usize], out: &mut [f32]) {
    let in_strides = strides(shape);
    let base: usize = starts.iter().zip(&in_strides[1..]).map(|(s, t)| s * t).sum();
    match four(out_shape, &in_strides) {
        Some((d, s)) => gather(x, base, d, s, out),
        None => out.copy_from_slice(&reference::slice(x, shape, starts, out_shape)),
    }
}

/// Padding with `value`: the output filled, then each run of the input copied to its place. Trailing
/// dimensions without padding merge into the run.
pub fn pad(x: &[f32], shape: &[usize], pads: &[[usize; 2]], value: f32, out_shape: &[usize], out: &mut [f32]) {
    out.fill(value);
    let (mut dims, mut merged, mut outs) = (shape.to_vec(), pads.to_vec(), out_shape.to_vec());
    while dims.len() > 1 && merged[dims.len() - 1] == [0, 0] {
        let last = dims.pop().expect("more than one");
        merged.pop();
        outs.pop();
        let k = dims.len() - 1;
        (dims[k], outs[k], merged[k]) = (dims[k] * last, outs[k] * last, [merged[k][0] * last, merged[k][1] * last]);
    }
    let Some((d, _)) = four(&dims, &strides(&dims)) else {
        out.copy_from_slice(&reference::pad(x, shape, pads, value, out_shape));
        return;
    };
    let lead = 4 - dims.len();
    let (mut o, mut before) = ([1; 4], [0; 4]);
    o[lead..].copy_from_slice(&outs);
    for (b, p) in before[lead..].iter_mut().zip(&merged) {
        *b = p[0];
    }
    let mut i = 0;
    for a in 0..d[0] {
        for b in 0..d[1] {
            for c in 0..d[2] {
                let at = (((a + before[0]) * o[1] + b + before[1]) * o[2] + c + before[2]) * o[3] + before[3];
                out[at..at + d[3]].copy_from_slice(&x[i..i + d[3]]);
                i += d[3];
            }
        }
    }
}

/// Concatenation along `axis` into `out` (of `out_shape`): for each index before the axis, each part's run in
/// turn, as the reference copies them, but into a pooled buffer instead of a new one each run.
pub fn concat(parts: &[(&[f32], &[usize])], axis: usize, out_shape: &[usize], out: &mut [f32]) {
    let outer: usize = out_shape[..axis].iter().product();
    let inner: usize = out_shape[axis + 1..].iter().product();
    let mut at = 0;
    for o in 0..outer {
        for (data, shape) in parts {
            let run = shape[axis] * inner;
            out[at..at + run].copy_from_slice(&data[o * run..][..run]);
            at += run;
        }
    }
}
