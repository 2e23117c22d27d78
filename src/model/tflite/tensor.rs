//! Tensors and their buffers: shape, stored type, and constant data decoded to f32 (or kept as int32).

use crate::error::{model_err, Result};
use crate::model::flatbuf::{Table, Vector};
use crate::model::shape::element_count;
use crate::model::TensorInfo;

// TensorType codes of the schema.
pub(super) const FLOAT32: i8 = 0;
pub(super) const FLOAT16: i8 = 1;
pub(super) const INT32: i8 = 2;

/// What the reader knows of a tensor beyond the graph's view: its stored type and integer data.
pub(super) struct Extra {
    pub(super) dtype: i8,
    pub(super) ints: Option<Vec<i32>>,
}

pub(super) fn read_tensor(file: &[u8], t: &Table, buffers: &Vector) -> Result<(TensorInfo, Extra)> {
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
fn buffer_bytes<'a>(file: &'a [u8], buffers: &Vector<'a>, index: usize, name: &str) -> Result<&'a [u8]> {
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

pub(super) fn type_name(t: i8) -> String {
    let names =
        ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64"];
    match names.get(t as usize) {
        Some(n) if t >= 0 => n.to_string(),
        _ => format!("type {t}"),
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
}
