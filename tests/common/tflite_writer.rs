//! A tiny FlatBuffer writer for building TFLite models by hand in tests: well-formed ones (one op) and
//! hostile ones (lying sizes, out-of-range options). Objects are laid out forwards: every offset points to
//! a later position, as FlatBuffers requires.

/// A field value of a table.
#[derive(Clone, Debug)]
pub enum F {
    U8(u8),
    I32(i32),
    U32(u32),
    F32(f32),
    Table(Vec<(usize, F)>),
    Tables(Vec<Vec<(usize, F)>>),
    Ints(Vec<i32>),
    Bytes(Vec<u8>),
    Str(String),
    /// A vector whose length field lies: it claims `claimed` elements but holds the given bytes.
    LyingBytes {
        claimed: u32,
        bytes: Vec<u8>,
    },
}

/// Serialises a root table with the file identifier TFL3.
pub fn finish(root: &[(usize, F)]) -> Vec<u8> {
    let mut buf = vec![0u8; 8];
    buf[4..8].copy_from_slice(b"TFL3");
    let pos = write_table(&mut buf, root);
    buf[0..4].copy_from_slice(&(pos as u32).to_le_bytes());
    buf
}

fn align(buf: &mut Vec<u8>, n: usize) {
    while !buf.len().is_multiple_of(n) {
        buf.push(0);
    }
}

fn patch(buf: &mut [u8], at: usize, target: usize) {
    buf[at..at + 4].copy_from_slice(&((target - at) as u32).to_le_bytes());
}

/// Writes vtable then table; children follow. Returns the table's position.
fn write_table(buf: &mut Vec<u8>, fields: &[(usize, F)]) -> usize {
    let slots = fields.iter().map(|(s, _)| s + 1).max().unwrap_or(0);
    // Inline layout: 4-byte soffset, then 4 bytes per field (scalars widened to 4).
    align(buf, 4);
    let vtable = buf.len();
    let vtable_len = 4 + 2 * slots;
    let table_len = 4 + 4 * fields.len();
    buf.extend_from_slice(&(vtable_len as u16).to_le_bytes());
    buf.extend_from_slice(&(table_len as u16).to_le_bytes());
    let mut entries = vec![0u16; slots];
    for (k, (slot, _)) in fields.iter().enumerate() {
        entries[*slot] = (4 + 4 * k) as u16;
    }
    for e in entries {
        buf.extend_from_slice(&e.to_le_bytes());
    }
    align(buf, 4);
    let table = buf.len();
    buf.extend_from_slice(&((table - vtable) as i32).to_le_bytes());
    let mut pending = Vec::new();
    for (_, f) in fields {
        let at = buf.len();
        match f {
            F::U8(v) => buf.extend_from_slice(&[*v, 0, 0, 0]),
            F::I32(v) => buf.extend_from_slice(&v.to_le_bytes()),
            F::U32(v) => buf.extend_from_slice(&v.to_le_bytes()),
            F::F32(v) => buf.extend_from_slice(&v.to_le_bytes()),
            other => {
                buf.extend_from_slice(&[0; 4]);
                pending.push((at, other.clone()));
            }
        }
    }
    for (at, f) in pending {
        let target = write_child(buf, &f);
        patch(buf, at, target);
    }
    table
}

fn write_child(buf: &mut Vec<u8>, f: &F) -> usize {
    align(buf, 4);
    match f {
        F::Table(fields) => write_table(buf, fields),
        F::Tables(tables) => {
            let start = buf.len();
            buf.extend_from_slice(&(tables.len() as u32).to_le_bytes());
            let slots: Vec<usize> = (0..tables.len()).map(|i| start + 4 + 4 * i).collect();
            buf.extend(std::iter::repeat_n(0u8, 4 * tables.len()));
            for (t, at) in tables.iter().zip(slots) {
                let pos = write_table(buf, t);
                patch(buf, at, pos);
            }
            start
        }
        F::Ints(v) => {
            let start = buf.len();
            buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
            v.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
            start
        }
        F::Bytes(b) => {
            let start = buf.len();
            buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
            buf.extend_from_slice(b);
            start
        }
        F::Str(s) => {
            let start = buf.len();
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
            buf.push(0);
            start
        }
        F::LyingBytes { claimed, bytes } => {
            let start = buf.len();
            buf.extend_from_slice(&claimed.to_le_bytes());
            buf.extend_from_slice(bytes);
            start
        }
        F::U8(_) | F::I32(_) | F::U32(_) | F::F32(_) => unreachable!("scalars are inline"),
    }
}

/// A tensor table: shape, type (0 float32, 1 float16, 2 int32), buffer index, name.
pub fn tensor(shape: &[i32], dtype: u8, buffer: u32, name: &str) -> Vec<(usize, F)> {
    vec![(0, F::Ints(shape.to_vec())), (1, F::U8(dtype)), (2, F::U32(buffer)), (3, F::Str(name.into()))]
}

/// An operator table: opcode index, inputs, outputs, builtin options type and table.
pub fn operator(
    opcode: u32,
    inputs: &[i32],
    outputs: &[i32],
    options: Option<(u8, Vec<(usize, F)>)>,
) -> Vec<(usize, F)> {
    let mut t = vec![(0, F::U32(opcode)), (1, F::Ints(inputs.to_vec())), (2, F::Ints(outputs.to_vec()))];
    if let Some((kind, table)) = options {
        t.push((3, F::U8(kind)));
        t.push((4, F::Table(table)));
    }
    t
}

/// A whole model: builtin op codes, tensors, graph inputs/outputs, operators, buffers (buffer 0 is empty).
pub fn model(
    codes: &[i32],
    tensors: Vec<Vec<(usize, F)>>,
    inputs: &[i32],
    outputs: &[i32],
    ops: Vec<Vec<(usize, F)>>,
    buffers: Vec<F>,
) -> Vec<u8> {
    let codes = codes.iter().map(|&c| vec![(0, F::U8(c.min(127) as u8)), (2, F::I32(1)), (3, F::I32(c))]).collect();
    let subgraph = vec![
        (0, F::Tables(tensors)),
        (1, F::Ints(inputs.to_vec())),
        (2, F::Ints(outputs.to_vec())),
        (3, F::Tables(ops)),
    ];
    let mut all_buffers = vec![vec![]];
    all_buffers.extend(buffers.into_iter().map(|b| vec![(0, b)]));
    finish(&[(0, F::U32(3)), (1, F::Tables(codes)), (2, F::Tables(vec![subgraph])), (4, F::Tables(all_buffers))])
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
