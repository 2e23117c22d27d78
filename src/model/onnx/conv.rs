//! Conv (plain, depthwise and grouped), BatchNormalization (folded into the op before it), MatMul and Gemm (as
//! FULLY_CONNECTED), and pooling.

use super::{attr_float, attr_int, attr_ints, attr_str, natural, Reader, Value};
use crate::error::{model_err, Result};
use crate::model::shape::{same_padding, window};
use crate::model::{Activation, Conv, Op, Padding, Pool};

/// An ONNX window along both spatial axes: kernel, stride, dilation, padding (top, left, bottom, right).
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [usize; 4],
}

impl Window {
    /// The node's window attributes for a kernel of `kernel` (explicit pads, or none; auto_pad refused but
    /// for NOTSET and VALID).
    fn of(node: &super::proto::NodeProto, kernel: [usize; 2]) -> Result<Window> {
        let pair = |name: &str| -> Result<[usize; 2]> {
            match attr_ints(node, name) {
                None => Ok([1, 1]),
                Some(&[a, b]) if a > 0 && b > 0 => Ok([a as usize, b as usize]),
                Some(v) => model_err(format!("{name} {v:?} (two positive values expected)")),
            }
        };
        let pads = match attr_ints(node, "pads") {
            None => [0; 4],
            Some(&[t, l, b, r]) if [t, l, b, r].iter().all(|&p| (0..=1 << 16).contains(&p)) => {
                [t as usize, l as usize, b as usize, r as usize]
            }
            Some(v) => model_err(format!("pads {v:?} (four values from 0 expected)"))?,
        };
        match attr_str(node, "auto_pad") {
            b"" | b"NOTSET" | b"VALID" => {}
            other => return model_err(format!("auto_pad {} is not supported", String::from_utf8_lossy(other))),
        }
        Ok(Window { kernel, stride: pair("strides")?, dilation: pair("dilations")?, pads })
    }

    /// TFLite's padding for this window on an input of `size` (height, width): SAME where the pads are
    /// SAME's, VALID where there are none, else None (the pads go in a PAD op before).
    fn padding(&self, size: [usize; 2]) -> Result<Option<Padding>> {
        if self.pads == [0; 4] {
            return Ok(Some(Padding::Valid));
        }
        for (axis, &size) in size.iter().enumerate() {
            let (_, pads) = same_padding(size, self.kernel[axis], self.stride[axis], self.dilation[axis])?;
            if [self.pads[axis], self.pads[axis + 2]] != pads {
                return Ok(None);
            }
        }
        Ok(Some(Padding::Same))
    }
}

impl Reader {
    /// Conv: plain (group 1), depthwise (one group per channel, as many outputs), or grouped (a SLICE of the
    /// channels, a convolution and a CONCATENATION per group); explicit pads that are not SAME's become a PAD
    /// before a VALID convolution.
    pub(super) fn conv(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
        let Some((ws, w)) = self.floats(node, 1)? else { return model_err("the filter is missing") };
        let (Ok([n, c, h, wd]), Ok([o, per_group, kh, kw])) =
            (<[usize; 4]>::try_from(&xs[..]), <[usize; 4]>::try_from(&ws[..]))
        else {
            return model_err(format!("a 2-D convolution of {xs:?} by {ws:?} expected"));
        };
        let group = attr_int(node, "group", 1);
        if group < 1 || per_group.checked_mul(group as usize) != Some(c) || o % group as usize != 0 {
            return model_err(format!("group {group} over {c} channels with filter {ws:?}"));
        }
        let group = group as usize;
        let bias = match self.floats(node, 2)? {
            Some((bs, b)) if bs == [o] => b,
            Some((bs, _)) => return model_err(format!("bias of shape {bs:?} for {o} outputs")),
            None => vec![0.0; o],
        };
        let win = Window::of(node, [kh, kw])?;
        let (x, padding, (h, wd)) = self.pad_for(node, x, [n, c, h, wd], &win, PadWith::SameOr(0.0))?;
        let conv = Conv { padding, stride: win.stride, dilation: win.dilation, activation: Activation::None };
        let (oh, _) = window(h, kh, conv.stride[0], conv.dilation[0], padding)?;
        let (ow, _) = window(wd, kw, conv.stride[1], conv.dilation[1], padding)?;
        let name = self.output(node)?.to_string();
        if group == 1 || (group == c && o == c) {
            let (filter, bias) = self.conv_weights(&w, [o, per_group, kh, kw], bias, group > 1, &name);
            let op = if group > 1 { Op::DepthwiseConv2d(conv) } else { Op::Conv2d(conv) };
            self.emit(op, vec![x, filter, bias], &name, vec![n, o, oh, ow]);
            return Ok(());
        }
        let per_out = o / group;
        let mut parts = Vec::with_capacity(group);
        for g in 0..group {
            let part = format!("{name}/group{g}");
            let slice = Op::Slice { starts: vec![0, 0, g * per_group], sizes: vec![h, wd, per_group] };
            let input = self.emit(slice, vec![x], &format!("{part}/input"), vec![n, per_group, h, wd]);
            let weights = &w[g * per_out * per_group * kh * kw..][..per_out * per_group * kh * kw];
            let bias = bias[g * per_out..][..per_out].to_vec();
            let (filter, bias) = self.conv_weights(weights, [per_out, per_group, kh, kw], bias, false, &part);
            parts.push(self.emit(Op::Conv2d(conv), vec![input, filter, bias], &part, vec![n, per_out, oh, ow]));
        }
        self.emit(Op::Concat { axis: 3, activation: Activation::None }, parts, &name, vec![n, o, oh, ow]);
        Ok(())
    }

    /// A convolution's filter (OIHW to OHWI, or to 1HWC when depthwise: O = C, I = 1) and bias as constants.
    fn conv_weights(
        &mut self,
        w: &[f32],
        [o, per_group, kh, kw]: [usize; 4],
        bias: Vec<f32>,
        depthwise: bool,
        name: &str,
    ) -> (crate::model::TensorId, crate::model::TensorId) {
        let filter_shape = if depthwise { vec![1, kh, kw, o] } else { vec![o, kh, kw, per_group] };
        let mut filter = vec![0.0; w.len()];
        for (i, v) in w.iter().enumerate() {
            let (oo, ii, y, xx) = (i / (per_group * kh * kw), i / (kh * kw) % per_group, i / kw % kh, i % kw);
            let at = if depthwise { (y * kw + xx) * o + oo } else { ((oo * kh + y) * kw + xx) * per_group + ii };
            filter[at] = *v;
        }
        let filter = self.tensor(&format!("{name}/filter"), filter_shape, Some(filter));
        let bias = self.tensor(&format!("{name}/bias"), vec![o], Some(bias));
        (filter, bias)
    }

    /// The input of a window op with its padding: TFLite's SAME or VALID where they match the pads (and
    /// `with` allows SAME), else a PAD op first and VALID. Gives the input, the padding, and its spatial size.
    fn pad_for(
        &mut self,
        node: &super::proto::NodeProto,
        x: crate::model::TensorId,
        [n, c, h, w]: [usize; 4],
        win: &Window,
        with: PadWith,
    ) -> Result<(crate::model::TensorId, Padding, (usize, usize))> {
        let (value, same_ok) = match with {
            PadWith::SameOr(v) => (v, true),
            PadWith::Only(v) => (v, false),
        };
        match win.padding([h, w])? {
            Some(Padding::Valid) => return Ok((x, Padding::Valid, (h, w))),
            Some(Padding::Same) if same_ok => return Ok((x, Padding::Same, (h, w))),
            _ => {}
        }
        let [t, l, b, r] = win.pads;
        let (ph, pw) = (h + t + b, w + l + r);
        let name = format!("{}/pad", self.output(node)?);
        let pad = Op::Pad { pads: vec![[0, 0], [t, b], [l, r], [0, 0]], value };
        let padded = self.emit(pad, vec![x], &name, vec![n, c, ph, pw]);
        Ok((padded, Padding::Valid, (ph, pw)))
    }

    /// BatchNormalization: folded into the convolution or matrix product that alone feeds it, else a MUL
    /// and an ADD by per-channel constants.
    pub(super) fn batch_norm(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
        // Rank 2 ([N, C]) or 4 (NCHW, NHWC in the graph): the channel is the graph's last dimension.
        if xs.len() != 2 && xs.len() != 4 {
            return model_err(format!("an input of {xs:?} (rank 2 or 4 expected)"));
        }
        let channels = xs[1];
        let mut params = Vec::new();
        for k in 1..5 {
            match self.floats(node, k)? {
                Some((s, v)) if s == [channels] => params.push(v),
                _ => return model_err(format!("input {k} must be a constant of {channels} values")),
            }
        }
        let eps = attr_float(node, "epsilon", 1e-5);
        // y = x * a + b per channel.
        let a: Vec<f32> = (0..channels).map(|i| params[0][i] / (params[3][i] + eps).sqrt()).collect();
        let b: Vec<f32> = (0..channels).map(|i| params[1][i] - params[2][i] * a[i]).collect();
        let name = self.output(node)?.to_string();
        let sole = node.input[0].as_str();
        if self.readers.get(sole) == Some(&1) && self.fold_scale(x, &a, &b) {
            self.values.insert(name, Value::Tensor { id: x, order: natural(xs.len()), shape: xs });
            return Ok(());
        }
        let scale = self.tensor(&format!("{name}/scale"), vec![channels], Some(a));
        let shift = self.tensor(&format!("{name}/shift"), vec![channels], Some(b));
        let scaled = self.emit(Op::Mul(Activation::None), vec![x, scale], &format!("{name}/scaled"), xs.clone());
        self.emit(Op::Add(Activation::None), vec![scaled, shift], &name, xs);
        Ok(())
    }

    /// Scales the output channels of the convolution or matrix product that wrote `x` by `a` and adds `b`
    /// (weights and bias), if one did and has no activation yet.
    fn fold_scale(&mut self, x: crate::model::TensorId, a: &[f32], b: &[f32]) -> bool {
        let Some(&k) = self.producer.get(&x) else { return false };
        let node = &self.graph.nodes[k];
        let (channel_last, activation) = match &node.op {
            Op::Conv2d(c) => (false, c.activation),
            Op::DepthwiseConv2d(c) => (true, c.activation),
            Op::FullyConnected { activation, .. } => (false, *activation),
            _ => return false,
        };
        let (filter, bias) = (node.inputs[1], node.inputs[2]);
        let channels = a.len();
        let fits = |t: usize| self.graph.tensors[t].data.as_ref().is_some_and(|d| d.len() % channels == 0);
        if activation != Activation::None
            || !fits(filter)
            || self.graph.constant(bias).map(<[f32]>::len) != Some(channels)
        {
            return false;
        }
        let w = self.graph.tensors[filter].data.as_mut().expect("checked above");
        // Depthwise filters are 1HWC (the channel last); the others hold one row per output channel.
        let row = w.len() / channels;
        for (i, v) in w.iter_mut().enumerate() {
            *v *= a[if channel_last { i % channels } else { i / row }];
        }
        let bias = self.graph.tensors[bias].data.as_mut().expect("checked above");
        for ((v, a), b) in bias.iter_mut().zip(a).zip(b) {
            *v = *v * a + b;
        }
        true
    }

    /// MatMul by a constant [K, M], or Gemm (alpha and beta 1, A not transposed) by a constant B and an
    /// optional bias C of M: FULLY_CONNECTED on rows of K.
    pub(super) fn dense(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
        let Some((ws, w)) = self.floats(node, 1)? else { return model_err("the weights must be a constant") };
        let gemm = node.op_type == "Gemm";
        if gemm
            && (attr_float(node, "alpha", 1.0) != 1.0
                || attr_float(node, "beta", 1.0) != 1.0
                || attr_int(node, "transA", 0) != 0)
        {
            return model_err("only alpha 1, beta 1 and A not transposed");
        }
        let transposed = gemm && attr_int(node, "transB", 0) == 1;
        let (Ok([rows, k]), Ok([w0, w1])) = (<[usize; 2]>::try_from(&xs[..]), <[usize; 2]>::try_from(&ws[..])) else {
            return model_err(format!("a product of {xs:?} by {ws:?}: two 2-D operands expected"));
        };
        let (m, wk) = if transposed { (w0, w1) } else { (w1, w0) };
        if wk != k {
            return model_err(format!("a product of {xs:?} by {ws:?}{}", if transposed { " transposed" } else { "" }));
        }
        // FULLY_CONNECTED's filter is [out, in]: B transposed, unless Gemm already has it so.
        let filter = if transposed { w } else { (0..m * k).map(|i| w[(i % k) * m + i / k]).collect() };
        let bias = match self.floats(node, 2)? {
            Some((bs, b)) if gemm && (bs == [m] || bs == [1, m]) => b,
            Some((bs, _)) => return model_err(format!("bias of shape {bs:?} for {m} outputs")),
            None => vec![0.0; m],
        };
        let name = self.output(node)?.to_string();
        let filter = self.tensor(&format!("{name}/filter"), vec![m, k], Some(filter));
        let bias = self.tensor(&format!("{name}/bias"), vec![m], Some(bias));
        let op = Op::FullyConnected { activation: Activation::None, keep_num_dims: false };
        self.emit(op, vec![x, filter, bias], &name, vec![rows, m]);
        Ok(())
    }

    /// GlobalAveragePool (an average over the whole plane), MaxPool (explicit pads that are not SAME's
    /// padded with the lowest float, which no max picks) and AveragePool (SAME's pads or none when the
    /// padding is left out of the average, as TFLite does; zeros padded first when it counts).
    pub(super) fn pool(&mut self, node: &super::proto::NodeProto) -> Result<()> {
        let (x, xs) = self.tensor_input(node, 0)?;
        let Ok([n, c, h, w]) = <[usize; 4]>::try_from(&xs[..]) else {
            return model_err(format!("a 4-D input expected, not {xs:?}"));
        };
        let (max, win) = match node.op_type.as_str() {
            "GlobalAveragePool" => (false, Window { kernel: [h, w], stride: [1, 1], dilation: [1, 1], pads: [0; 4] }),
            op => {
                let kernel = match attr_ints(node, "kernel_shape") {
                    Some(&[a, b]) if a > 0 && b > 0 => [a as usize, b as usize],
                    other => return model_err(format!("kernel_shape {other:?}")),
                };
                if attr_int(node, "ceil_mode", 0) != 0 {
                    return model_err("ceil_mode is not supported");
                }
                (op == "MaxPool", Window::of(node, kernel)?)
            }
        };
        if win.dilation != [1, 1] {
            return model_err("dilated pooling is not supported");
        }
        let with = match (max, attr_int(node, "count_include_pad", 0) != 0) {
            (true, _) => PadWith::SameOr(f32::MIN),
            (false, true) => PadWith::Only(0.0),
            (false, false) if win.padding([h, w])?.is_some() => PadWith::SameOr(0.0),
            _ => return model_err(format!("pads {:?} are neither SAME's nor none, left out of an average", win.pads)),
        };
        let (x, padding, (h, w)) = self.pad_for(node, x, [n, c, h, w], &win, with)?;
        let pool = Pool { padding, filter: win.kernel, stride: win.stride, activation: Activation::None };
        let (oh, _) = window(h, win.kernel[0], win.stride[0], 1, padding)?;
        let (ow, _) = window(w, win.kernel[1], win.stride[1], 1, padding)?;
        let op = if max { Op::MaxPool2d(pool) } else { Op::AvgPool2d(pool) };
        let name = self.output(node)?.to_string();
        self.emit(op, vec![x], &name, vec![n, c, oh, ow]);
        Ok(())
    }
}

/// How a window op's explicit pads may be met: by TFLite's SAME where they are SAME's, or always by a PAD
/// op, with this value.
#[derive(Clone, Copy)]
enum PadWith {
    SameOr(f32),
    Only(f32),
}
