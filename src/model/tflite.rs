//! Reads a `.tflite` flatbuffer into the project's graph.
//!
//! Field slots follow TensorFlow Lite's `schema.fbs` (slot n is the n-th field of a table). Constants are
//! decoded to f32 here (fp16 exactly); integer constants (paddings, axes, sizes) become op parameters.

use super::flatbuf::Table;
use super::shape::{element_count, reshape_target};
use super::{Activation, Conv, Graph, Node, Op, Padding, Pool, TensorId, TensorInfo};
use crate::error::{model_err, ErrorKind, Result};

// TensorType
const FLOAT32: i8 = 0;
const FLOAT16: i8 = 1;
const INT32: i8 = 2;

/// What the reader knows of a tensor beyond the graph's view: its stored type and integer data.
struct Extra {
    dtype: i8,
    ints: Option<Vec<i32>>,
}

pub fn read(bytes: &[u8]) -> Result<Graph> {
    if bytes.len() < 8 || &bytes[4..8] != b"TFL3" {
        return model_err("not a TFLite model (no TFL3 identifier)");
    }
    let model = Table::root(bytes)?;
    let version = model.u32(0, 0)?;
    if version != 3 {
        return model_err(format!("TFLite schema version {version}, expected 3"));
    }
    let opcodes = read_opcodes(&model)?;
    let Some(subgraphs) = model.vector(2, 4)? else { return model_err("model has no subgraphs") };
    if subgraphs.is_empty() {
        return model_err("model has no subgraphs");
    }
    let subgraph = subgraphs.table(0)?;
    let Some(buffers) = model.vector(4, 4)? else { return model_err("model has no buffers") };

    let mut tensors = Vec::new();
    let mut extra = Vec::new();
    let Some(tensor_tables) = subgraph.vector(0, 4)? else { return model_err("subgraph has no tensors") };
    for i in 0..tensor_tables.len() {
        let t = tensor_tables.table(i)?;
        let (info, ex) = read_tensor(bytes, &t, &buffers)?;
        tensors.push(info);
        extra.push(ex);
    }
    let tensor_count = tensors.len();
    let index = |v: i32, what: &str| -> Result<TensorId> {
        if v < 0 || v as usize >= tensor_count {
            return model_err(format!("{what} refers to tensor {v}, the model has {tensor_count}"));
        }
        Ok(v as usize)
    };
    let ids = |slot: usize, t: &Table, what: &str| -> Result<Vec<TensorId>> {
        match t.vector(slot, 4)? {
            Some(v) => v.i32s()?.into_iter().map(|i| index(i, what)).collect(),
            None => Ok(vec![]),
        }
    };
    let inputs = ids(1, &subgraph, "graph input")?;
    let outputs = ids(2, &subgraph, "graph output")?;

    // Zero biases are sized by a filter's declared shape, which no data need back: together they may not
    // outgrow the file (a real filter holds at least two bytes per output channel).
    let mut reader = Reader { tensors, extra, zero_budget: bytes.len() / 2 };
    let mut nodes = Vec::new();
    if let Some(ops) = subgraph.vector(3, 4)? {
        for k in 0..ops.len() {
            let op = ops.table(k)?;
            let code_index = op.u32(0, 0)? as usize;
            let Some(&code) = opcodes.get(code_index) else {
                return model_err(format!("operator {k} uses opcode {code_index}, the model lists {}", opcodes.len()));
            };
            // Optional inputs are -1; keep them as None for the op to decide.
            let raw_inputs = op.vector(1, 4)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
            let op_inputs = raw_inputs
                .iter()
                .map(|&i| if i == -1 { Ok(None) } else { index(i, "operator input").map(Some) })
                .collect::<Result<Vec<_>>>()?;
            let op_outputs = ids(2, &op, "operator output")?;
            if op_outputs.len() != 1 {
                return model_err(format!("operator {k} ({}) has {} outputs", op_name(code), op_outputs.len()));
            }
            let options = op.table(4)?;
            let node = reader
                .node(code, &op_inputs, op_outputs[0], options)
                .map_err(|e| e.into_kind(ErrorKind::Model).context(format!("operator {k} ({})", op_name(code))))?;
            nodes.push(node);
        }
    }
    for &t in inputs.iter().chain(&outputs) {
        reader.expect_float(t)?;
    }
    Ok(Graph { tensors: reader.tensors, nodes, inputs, outputs })
}

fn read_opcodes(model: &Table) -> Result<Vec<i32>> {
    let Some(codes) = model.vector(1, 4)? else { return Ok(vec![]) };
    (0..codes.len())
        .map(|i| {
            let t = codes.table(i)?;
            // Newer files put codes above 127 in `builtin_code`; older ones only fill the deprecated byte.
            let deprecated = t.i8(0, 0)? as i32;
            let builtin = t.i32(3, 0)?;
            if t.vector(1, 1)?.is_some_and(|v| !v.is_empty()) {
                return Ok(-1); // a custom op
            }
            Ok(deprecated.max(builtin))
        })
        .collect()
}

fn read_tensor(file: &[u8], t: &Table, buffers: &super::flatbuf::Vector) -> Result<(TensorInfo, Extra)> {
    let name = t.string(3)?;
    let dims = t.vector(0, 4)?.map(|v| v.i32s()).transpose()?.unwrap_or_default();
    if dims.len() > 6 {
        return model_err(format!("tensor '{name}' has rank {}", dims.len()));
    }
    if let Some(d) = dims.iter().find(|&&d| d < 0) {
        return model_err(format!("tensor '{name}' has a negative dimension {d}"));
    }
    let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    let dtype = t.i8(1, 0)?;
    let buffer = t.u32(2, 0)? as usize;
    let data = if buffer == 0 { &[][..] } else { buffer_bytes(file, buffers, buffer, &name)? };
    let mut info = TensorInfo { name, shape, data: None };
    let mut ex = Extra { dtype, ints: None };
    if data.is_empty() {
        return Ok((info, ex));
    }
    let count = element_count(&info.shape)?;
    let width = match dtype {
        FLOAT32 | INT32 => 4,
        FLOAT16 => 2,
        other => {
            return model_err(format!("constant '{}' has type {}, which is not supported", info.name, type_name(other)))
        }
    };
    if data.len() != count * width {
        return model_err(format!(
            "constant '{}' of shape {:?} needs {} bytes, its buffer has {}",
            info.name,
            info.shape,
            count * width,
            data.len()
        ));
    }
    match dtype {
        FLOAT32 => {
            info.data = Some(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        FLOAT16 => {
            info.data = Some(data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect())
        }
        _ => ex.ints = Some(data.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
    }
    Ok((info, ex))
}

/// A buffer's bytes: inline data, or (for files over 2 GiB) an offset and size into the file.
fn buffer_bytes<'a>(
    file: &'a [u8],
    buffers: &super::flatbuf::Vector<'a>,
    index: usize,
    name: &str,
) -> Result<&'a [u8]> {
    if index >= buffers.len() {
        return model_err(format!("tensor '{name}' uses buffer {index}, the model has {}", buffers.len()));
    }
    let b = buffers.table(index)?;
    if let Some(v) = b.vector(0, 1)? {
        return Ok(v.bytes());
    }
    let (offset, size) = (b.u64(1, 0)?, b.u64(2, 0)?);
    if offset <= 1 {
        return Ok(&[]);
    }
    let end = offset.checked_add(size).filter(|&e| e <= file.len() as u64);
    match end {
        Some(end) => Ok(&file[offset as usize..end as usize]),
        None => model_err(format!("tensor '{name}': buffer {index} lies outside the file")),
    }
}

/// IEEE 754 half to single precision, exactly (subnormals, infinities and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24, exact in f32.
            let v = m as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

struct Reader {
    tensors: Vec<TensorInfo>,
    extra: Vec<Extra>,
    /// How many more zero-bias values the file may ask for.
    zero_budget: usize,
}

impl Reader {
    fn expect_float(&self, t: TensorId) -> Result<()> {
        match self.extra[t].dtype {
            FLOAT32 => Ok(()),
            FLOAT16 if self.tensors[t].data.is_some() => Ok(()),
            other => model_err(format!(
                "tensor '{}' has type {}, only float32 is supported",
                self.tensors[t].name,
                type_name(other)
            )),
        }
    }

    fn ints(&self, t: Option<TensorId>, what: &str) -> Result<&[i32]> {
        match t.and_then(|t| self.extra[t].ints.as_deref()) {
            Some(v) => Ok(v),
            None => model_err(format!("{what} must be a constant int32 tensor")),
        }
    }

    /// A zero bias for a convolution the file gave none.
    fn zeros(&mut self, n: usize, name: String) -> Result<TensorId> {
        if n > self.zero_budget {
            return model_err(format!("'{name}' would need {n} values, more than the file's filters can hold"));
        }
        self.zero_budget -= n;
        self.tensors.push(TensorInfo { name, shape: vec![n], data: Some(vec![0.0; n]) });
        self.extra.push(Extra { dtype: FLOAT32, ints: None });
        Ok(self.tensors.len() - 1)
    }

    fn node(
        &mut self,
        code: i32,
        inputs: &[Option<TensorId>],
        output: TensorId,
        options: Option<Table>,
    ) -> Result<Node> {
        let opt = Options(options);
        let input = |i: usize| -> Result<TensorId> {
            match inputs.get(i).copied().flatten() {
                Some(t) => Ok(t),
                None => model_err(format!("input {i} is missing")),
            }
        };
        let (op, float_inputs): (Op, Vec<TensorId>) = match code {
            0 => (Op::Add(opt.activation(0)?), vec![input(0)?, input(1)?]),
            41 => (Op::Sub(opt.activation(0)?), vec![input(0)?, input(1)?]),
            18 => (Op::Mul(opt.activation(0)?), vec![input(0)?, input(1)?]),
            42 => (Op::Div(opt.activation(0)?), vec![input(0)?, input(1)?]),
            1 | 17 => {
                let pool = Pool {
                    padding: opt.padding(0)?,
                    stride: [opt.positive(2)?, opt.positive(1)?],
                    filter: [opt.positive(4)?, opt.positive(3)?],
                    activation: opt.activation(5)?,
                };
                let op = if code == 1 { Op::AvgPool2d(pool) } else { Op::MaxPool2d(pool) };
                (op, vec![input(0)?])
            }
            2 => {
                let rank = self.tensors[output].shape.len() as i32;
                let axis = opt.i32(0, 0)?;
                let axis = if axis < 0 { axis + rank } else { axis };
                if axis < 0 || axis >= rank.max(1) {
                    return model_err(format!("axis {axis} for rank {rank}"));
                }
                let ins = (0..inputs.len()).map(input).collect::<Result<Vec<_>>>()?;
                (Op::Concat { axis: axis as usize, activation: opt.activation(1)? }, ins)
            }
            3 | 4 => {
                // Conv2DOptions: padding, stride_w, stride_h, activation, dilation_w, dilation_h.
                // DepthwiseConv2DOptions puts depth_multiplier before the activation.
                let act_slot = if code == 3 { 3 } else { 4 };
                let conv = Conv {
                    padding: opt.padding(0)?,
                    stride: [opt.positive(2)?, opt.positive(1)?],
                    dilation: [opt.dilation(act_slot + 2)?, opt.dilation(act_slot + 1)?],
                    activation: opt.activation(act_slot)?,
                };
                let filter = input(1)?;
                let out_channels = match (code, self.tensors[filter].shape.as_slice()) {
                    (3, [o, _, _, _]) => *o,
                    (4, [1, _, _, c]) => *c,
                    (_, s) => return model_err(format!("filter of shape {s:?}")),
                };
                let bias = self.bias(inputs.get(2).copied().flatten(), out_channels, output)?;
                let op = if code == 3 { Op::Conv2d(conv) } else { Op::DepthwiseConv2d(conv) };
                (op, vec![input(0)?, filter, bias])
            }
            6 => (Op::Dequantize, vec![input(0)?]),
            9 => {
                if opt.i8(1, 0)? != 0 {
                    return model_err("shuffled weight formats are not supported");
                }
                let filter = input(1)?;
                let [out, _] = self.tensors[filter].shape[..] else {
                    return model_err(format!("filter of shape {:?}", self.tensors[filter].shape));
                };
                let bias = self.bias(inputs.get(2).copied().flatten(), out, output)?;
                let op = Op::FullyConnected { activation: opt.activation(0)?, keep_num_dims: opt.bool(2)? };
                (op, vec![input(0)?, filter, bias])
            }
            19 => (Op::Activation(Activation::Relu), vec![input(0)?]),
            20 => (Op::Activation(Activation::ReluN1To1), vec![input(0)?]),
            21 => (Op::Activation(Activation::Relu6), vec![input(0)?]),
            22 => {
                let target: Vec<i32> = match inputs.get(1).copied().flatten() {
                    Some(t) => self.ints(Some(t), "the new shape")?.to_vec(),
                    None => opt.ints(0)?,
                };
                let target: Vec<i64> = target.iter().map(|&d| d as i64).collect();
                let x = input(0)?;
                (Op::Reshape(reshape_target(&self.tensors[x].shape, &target)?), vec![x])
            }
            23 => {
                let size = self.ints(inputs.get(1).copied().flatten(), "the size")?;
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
                (op, vec![input(0)?])
            }
            34 => {
                let p = self.ints(inputs.get(1).copied().flatten(), "the paddings")?;
                if p.len() % 2 != 0 || p.iter().any(|&v| v < 0) {
                    return model_err(format!("paddings {p:?}"));
                }
                let pads = p.chunks_exact(2).map(|c| [c[0] as usize, c[1] as usize]).collect();
                (Op::Pad(pads), vec![input(0)?])
            }
            47 => (Op::Exp, vec![input(0)?]),
            54 => (Op::Prelu, vec![input(0)?, input(1)?]),
            59 => (Op::Neg, vec![input(0)?]),
            74 | 82 => {
                let x = input(0)?;
                let rank = self.tensors[x].shape.len() as i32;
                let mut axes = Vec::new();
                for &a in self.ints(inputs.get(1).copied().flatten(), "the axes")? {
                    let a = if a < 0 { a + rank } else { a };
                    if a < 0 || a >= rank {
                        return model_err(format!("axis {a} for rank {rank}"));
                    }
                    if !axes.contains(&(a as usize)) {
                        axes.push(a as usize);
                    }
                }
                let keep_dims = opt.bool(0)?;
                let op = if code == 74 { Op::Sum { axes, keep_dims } } else { Op::ReduceMax { axes, keep_dims } };
                (op, vec![x])
            }
            98 => (Op::LeakyRelu { alpha: opt.f32(0, 0.0)? }, vec![input(0)?]),
            101 => (Op::Abs, vec![input(0)?]),
            _ => return model_err("this op is not supported"),
        };
        for &t in float_inputs.iter().chain([&output]) {
            self.expect_float(t)?;
        }
        Ok(Node { op, inputs: float_inputs, output })
    }

    fn bias(&mut self, given: Option<TensorId>, channels: usize, output: TensorId) -> Result<TensorId> {
        match given {
            Some(b) => Ok(b),
            None => {
                let name = format!("{}/zero_bias", self.tensors[output].name);
                self.zeros(channels, name)
            }
        }
    }
}

/// An op's options table, absent when the file stores only defaults.
struct Options<'a>(Option<Table<'a>>);

impl Options<'_> {
    fn i8(&self, slot: usize, default: i8) -> Result<i8> {
        self.0.as_ref().map_or(Ok(default), |t| t.i8(slot, default))
    }

    fn i32(&self, slot: usize, default: i32) -> Result<i32> {
        self.0.as_ref().map_or(Ok(default), |t| t.i32(slot, default))
    }

    fn f32(&self, slot: usize, default: f32) -> Result<f32> {
        self.0.as_ref().map_or(Ok(default), |t| t.f32(slot, default))
    }

    fn bool(&self, slot: usize) -> Result<bool> {
        self.0.as_ref().map_or(Ok(false), |t| t.bool(slot))
    }

    fn ints(&self, slot: usize) -> Result<Vec<i32>> {
        match &self.0 {
            Some(t) => Ok(t.vector(slot, 4)?.map(|v| v.i32s()).transpose()?.unwrap_or_default()),
            None => Ok(vec![]),
        }
    }

    fn positive(&self, slot: usize) -> Result<usize> {
        match self.i32(slot, 0)? {
            v if (1..=4096).contains(&v) => Ok(v as usize),
            v => model_err(format!("stride or filter size {v} (option {slot})")),
        }
    }

    fn dilation(&self, slot: usize) -> Result<usize> {
        match self.i32(slot, 1)? {
            v if (1..=4096).contains(&v) => Ok(v as usize),
            v => model_err(format!("dilation {v}")),
        }
    }

    fn padding(&self, slot: usize) -> Result<Padding> {
        match self.i8(slot, 0)? {
            0 => Ok(Padding::Same),
            1 => Ok(Padding::Valid),
            p => model_err(format!("padding type {p}")),
        }
    }

    fn activation(&self, slot: usize) -> Result<Activation> {
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

fn type_name(t: i8) -> String {
    let names =
        ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64"];
    match names.get(t as usize) {
        Some(n) if t >= 0 => n.to_string(),
        _ => format!("type {t}"),
    }
}

/// TFLite's names of the builtin ops, for messages about the ones we do not run.
fn op_name(code: i32) -> String {
    let known: &[(i32, &str)] = &[
        (0, "ADD"),
        (1, "AVERAGE_POOL_2D"),
        (2, "CONCATENATION"),
        (3, "CONV_2D"),
        (4, "DEPTHWISE_CONV_2D"),
        (5, "DEPTH_TO_SPACE"),
        (6, "DEQUANTIZE"),
        (9, "FULLY_CONNECTED"),
        (14, "LOGISTIC"),
        (17, "MAX_POOL_2D"),
        (18, "MUL"),
        (19, "RELU"),
        (20, "RELU_N1_TO_1"),
        (21, "RELU6"),
        (22, "RESHAPE"),
        (23, "RESIZE_BILINEAR"),
        (25, "SOFTMAX"),
        (28, "TANH"),
        (32, "CUSTOM"),
        (34, "PAD"),
        (39, "TRANSPOSE"),
        (40, "MEAN"),
        (41, "SUB"),
        (42, "DIV"),
        (45, "STRIDED_SLICE"),
        (47, "EXP"),
        (53, "CAST"),
        (54, "PRELU"),
        (55, "MAXIMUM"),
        (57, "MINIMUM"),
        (58, "LESS"),
        (59, "NEG"),
        (61, "GREATER"),
        (62, "GREATER_EQUAL"),
        (74, "SUM"),
        (82, "REDUCE_MAX"),
        (97, "RESIZE_NEAREST_NEIGHBOR"),
        (98, "LEAKY_RELU"),
        (101, "ABS"),
        (117, "HARD_SWISH"),
    ];
    match known.iter().find(|(c, _)| *c == code) {
        Some((_, n)) => n.to_string(),
        None if code < 0 => "a custom op".to_string(),
        None => format!("builtin op {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_converts_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn refuses_what_is_not_tflite() {
        assert!(read(b"").is_err());
        assert!(read(b"\x10\0\0\0TFL2\0\0\0\0\0\0\0\0").is_err());
        assert!(read(&[0u8; 64]).is_err());
    }
}
