//! A small, bounds-checked reader for FlatBuffers, just what the TFLite schema needs.
//!
//! Every read checks its range against the buffer, so a truncated or hostile file gives an error, never a
//! panic; a vector's length is checked against the bytes that hold it before anything is allocated from it.

use crate::error::{model_err, Result};

/// A table: the buffer and the table's position in it.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector: its first element's position and its length.
#[derive(Clone, Copy)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
}

fn bytes<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N]> {
    match pos.checked_add(N).and_then(|end| buf.get(pos..end)) {
        Some(s) => Ok(s.try_into().expect("slice of length N")),
        None => model_err(format!("flatbuffer: read of {N} bytes at {pos} is past the end ({} bytes)", buf.len())),
    }
}

fn read_u16(buf: &[u8], pos: usize) -> Result<u16> {
    bytes::<2>(buf, pos).map(u16::from_le_bytes)
}

fn read_u32(buf: &[u8], pos: usize) -> Result<u32> {
    bytes::<4>(buf, pos).map(u32::from_le_bytes)
}

/// Follows a uoffset stored at `pos` to the position it points at.
fn follow(buf: &[u8], pos: usize) -> Result<usize> {
    let off = read_u32(buf, pos)? as usize;
    match pos.checked_add(off) {
        Some(p) if p < buf.len() => Ok(p),
        _ => model_err(format!("flatbuffer: offset at {pos} points outside the buffer")),
    }
}

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub fn root(buf: &'a [u8]) -> Result<Table<'a>> {
        if buf.len() < 8 {
            return model_err(format!("file is too short to be a flatbuffer ({} bytes)", buf.len()));
        }
        Table::at(buf, follow(buf, 0)?)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Table<'a>> {
        let soff = i32::from_le_bytes(bytes::<4>(buf, pos)?) as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 || vtable as usize >= buf.len() {
            return model_err(format!("flatbuffer: table at {pos} has its vtable outside the buffer"));
        }
        let vtable = vtable as usize;
        let vtable_len = read_u16(buf, vtable)? as usize;
        if vtable_len < 4 || vtable.checked_add(vtable_len).is_none_or(|end| end > buf.len()) {
            return model_err(format!("flatbuffer: vtable at {vtable} has a bad length {vtable_len}"));
        }
        Ok(Table { buf, pos, vtable, vtable_len })
    }

    /// Where field `slot` lives, or None when the field is absent (then its default applies).
    fn field(&self, slot: usize) -> Result<Option<usize>> {
        let entry = 4 + 2 * slot;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = read_u16(self.buf, self.vtable + entry)? as usize;
        Ok(if off == 0 { None } else { Some(self.pos + off) })
    }

    pub fn u8(&self, slot: usize, default: u8) -> Result<u8> {
        match self.field(slot)? {
            Some(p) => Ok(bytes::<1>(self.buf, p)?[0]),
            None => Ok(default),
        }
    }

    pub fn i8(&self, slot: usize, default: i8) -> Result<i8> {
        Ok(self.u8(slot, default as u8)? as i8)
    }

    pub fn bool(&self, slot: usize) -> Result<bool> {
        Ok(self.u8(slot, 0)? != 0)
    }

    pub fn i32(&self, slot: usize, default: i32) -> Result<i32> {
        match self.field(slot)? {
            Some(p) => bytes::<4>(self.buf, p).map(i32::from_le_bytes),
            None => Ok(default),
        }
    }

    pub fn u32(&self, slot: usize, default: u32) -> Result<u32> {
        match self.field(slot)? {
            Some(p) => read_u32(self.buf, p),
            None => Ok(default),
        }
    }

    pub fn u64(&self, slot: usize, default: u64) -> Result<u64> {
        match self.field(slot)? {
            Some(p) => bytes::<8>(self.buf, p).map(u64::from_le_bytes),
            None => Ok(default),
        }
    }

    pub fn f32(&self, slot: usize, default: f32) -> Result<f32> {
        match self.field(slot)? {
            Some(p) => bytes::<4>(self.buf, p).map(f32::from_le_bytes),
            None => Ok(default),
        }
    }

    pub fn table(&self, slot: usize) -> Result<Option<Table<'a>>> {
        match self.field(slot)? {
            Some(p) => Table::at(self.buf, follow(self.buf, p)?).map(Some),
            None => Ok(None),
        }
    }

    /// A vector of elements `elem_size` bytes wide; its length is checked against the buffer.
    pub fn vector(&self, slot: usize, elem_size: usize) -> Result<Option<Vector<'a>>> {
        let Some(p) = self.field(slot)? else { return Ok(None) };
        let at = follow(self.buf, p)?;
        let len = read_u32(self.buf, at)? as usize;
        let start = at + 4;
        let fits =
            len.checked_mul(elem_size).and_then(|n| n.checked_add(start)).is_some_and(|end| end <= self.buf.len());
        if !fits {
            return model_err(format!("flatbuffer: vector at {at} claims {len} elements, more than the file holds"));
        }
        Ok(Some(Vector { buf: self.buf, start, len }))
    }

    pub fn string(&self, slot: usize) -> Result<String> {
        match self.vector(slot, 1)? {
            Some(v) => Ok(String::from_utf8_lossy(v.bytes()).into_owned()),
            None => Ok(String::new()),
        }
    }
}

impl<'a> Vector<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw bytes of a vector of bytes.
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.start..self.start + self.len]
    }

    pub fn i32(&self, i: usize) -> Result<i32> {
        self.check(i)?;
        bytes::<4>(self.buf, self.start + 4 * i).map(i32::from_le_bytes)
    }

    pub fn i32s(&self) -> Result<Vec<i32>> {
        (0..self.len).map(|i| self.i32(i)).collect()
    }

    pub fn table(&self, i: usize) -> Result<Table<'a>> {
        self.check(i)?;
        Table::at(self.buf, follow(self.buf, self.start + 4 * i)?)
    }

    fn check(&self, i: usize) -> Result<()> {
        if i >= self.len {
            return model_err(format!("flatbuffer: index {i} out of a vector of {}", self.len));
        }
        Ok(())
    }
}
