//! Reads a `.tflite` flatbuffer into the project's graph.
//!
//! Field slots follow TensorFlow Lite's `schema.fbs` (slot n is the n-th field of a table). Constants are
//! decoded to f32 here (fp16 exactly); integer constants (paddings, axes, sizes) become op parameters.
//!
//! This file reads the model, its first subgraph, tensors and buffers, and dispatches each operator on its
//! code (`opcode`) to the reader of its family: `conv` (convolutions, fully connected), `pool`,
//! `elementwise` (arithmetic, activations, unary math) and `shape_ops` (reshape, pad, concatenation,
//! resize, reductions). `options` reads an operator's options table and inputs; `tensor` a tensor and its
//! buffer.

mod conv;
mod elementwise;
pub mod opcode;
mod options;
mod pool;
mod shape_ops;
mod tensor;

use super::flatbuf::Table;
use super::{Graph, Node, Op, TensorId, TensorInfo};
use crate::error::{model_err, ErrorKind, Result};
use opcode::*;
use options::{Inputs, Options};
pub use tensor::f16_to_f32;
use tensor::{read_tensor, type_name, Extra, FLOAT16, FLOAT32};

/// Checks that `bytes` carry the TFLite file identifier; if not, says what they look like (a web server's
/// HTML page where a model should be is the usual case).
pub fn check_identifier(bytes: &[u8]) -> Result<()> {
    if bytes.len() >= 8 && &bytes[4..8] == b"TFL3" {
        return Ok(());
    }
    let html = if bytes.trim_ascii_start().starts_with(b"<") { ": it looks like an HTML page" } else { "" };
    model_err(format!("not a TFLite model (no TFL3 identifier){html}"))
}

pub fn read(bytes: &[u8]) -> Result<Graph> {
    check_identifier(bytes)?;
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
                return Ok(CUSTOM_OP);
            }
            Ok(deprecated.max(builtin))
        })
        .collect()
}

/// An op and its float inputs, as each family's reader builds them.
type Built = (Op, Vec<TensorId>);

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

    /// The node of one operator: its op, its float inputs (checked to be float32) and its output.
    fn node(
        &mut self,
        code: i32,
        inputs: &[Option<TensorId>],
        output: TensorId,
        options: Option<Table>,
    ) -> Result<Node> {
        let (opt, inputs) = (Options(options), Inputs(inputs));
        let (op, float_inputs): Built = match code {
            ADD | SUB | MUL | DIV => elementwise::binary(code, &inputs, &opt)?,
            RELU | RELU_N1_TO_1 | RELU6 | LEAKY_RELU | PRELU | EXP | NEG | ABS | DEQUANTIZE => {
                elementwise::unary(code, &inputs, &opt)?
            }
            AVERAGE_POOL_2D | MAX_POOL_2D => pool::pool(code, &inputs, &opt)?,
            CONV_2D | DEPTHWISE_CONV_2D => conv::conv(self, code, &inputs, output, &opt)?,
            FULLY_CONNECTED => conv::fully_connected(self, &inputs, output, &opt)?,
            CONCATENATION => shape_ops::concat(self, &inputs, output, &opt)?,
            RESHAPE => shape_ops::reshape(self, &inputs, &opt)?,
            RESIZE_BILINEAR => shape_ops::resize_bilinear(self, &inputs, &opt)?,
            PAD => shape_ops::pad(self, &inputs)?,
            SUM | REDUCE_MAX => shape_ops::reduce(self, code, &inputs, &opt)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_tflite() {
        assert!(read(b"").is_err());
        assert!(read(b"\x10\0\0\0TFL2\0\0\0\0\0\0\0\0").is_err());
        assert!(read(&[0u8; 64]).is_err());
    }
}
