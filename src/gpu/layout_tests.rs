//! Checks, without a GPU, that each kernel's parameter struct agrees with its WGSL mirror in the kernel's
//! shader (same fields in the same order, same scalar types, offsets and size, bound as the uniform at
//! binding 0), and that the shaders use only the code constants generated from the Rust enums.

use super::kernels::Kernel;
use super::params::*;
use std::mem::size_of;

/// A Rust parameter struct as the check sees it.
struct RustLayout {
    name: &'static str,
    /// Name, scalar type and byte offset of each field.
    fields: &'static [(&'static str, &'static str, usize)],
    size: usize,
}

macro_rules! layout {
    ($t:ident) => {
        RustLayout { name: stringify!($t), fields: $t::FIELDS, size: size_of::<$t>() }
    };
}

/// The parameter struct each kernel takes (a new kernel must be added here: the match is exhaustive).
fn params_of(kernel: Kernel) -> RustLayout {
    match kernel {
        Kernel::Matmul64x64 => layout!(MatmulParams),
        Kernel::Depthwise3x3Matmul64x64 => layout!(DepthwiseMatmulParams),
        Kernel::Conv2d | Kernel::Conv2dC4 | Kernel::DepthwiseConv2d | Kernel::DepthwiseConv2dC4 => layout!(ConvParams),
        Kernel::Binary => layout!(BinaryParams),
        Kernel::Unary => layout!(UnaryParams),
        Kernel::Pool2d => layout!(PoolParams),
        Kernel::Rearrange => layout!(RearrangeParams),
        Kernel::ConcatCopy => layout!(CopyParams),
        Kernel::ResizeBilinear => layout!(ResizeParams),
        Kernel::Reduce => layout!(ReduceParams),
    }
}

/// A field of a WGSL struct, laid out by WGSL's rules.
struct WgslField {
    name: String,
    ty: String,
    offset: usize,
}

/// Parses `struct <name> { ... }` out of WGSL source and lays it out. Only the 4-byte scalars the
/// parameter structs may hold are accepted: each is aligned to 4, and so is the struct.
fn wgsl_struct(source: &str, name: &str) -> Result<(Vec<WgslField>, usize), String> {
    let start =
        source.find(&format!("struct {name} {{")).ok_or(format!("{name}: no `struct {name} {{` in the shader"))?;
    let body = &source[start..];
    let body = &body[body.find('{').expect("found above") + 1..];
    let body = &body[..body.find('}').ok_or(format!("{name}: the struct does not end"))?];
    let text = strip_comments(body);
    let mut fields = Vec::new();
    let mut offset = 0;
    for field in text.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (field_name, ty) = field.split_once(':').ok_or(format!("{name}: cannot read the field `{field}`"))?;
        let (field_name, ty) = (field_name.trim(), ty.trim());
        if !matches!(ty, "u32" | "i32" | "f32") {
            return Err(format!("{name}.{field_name}: type {ty} is not a 4-byte scalar"));
        }
        fields.push(WgslField { name: field_name.to_string(), ty: ty.to_string(), offset });
        offset += 4;
    }
    Ok((fields, offset))
}

/// WGSL without its line comments.
fn strip_comments(wgsl: &str) -> String {
    wgsl.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Compares a Rust parameter struct with its mirror in `source`; the error names the struct and field.
fn compare(source: &str, rust: &RustLayout) -> Result<(), String> {
    let name = rust.name;
    let (wgsl, wgsl_size) = wgsl_struct(source, name)?;
    for (i, &(field, ty, offset)) in rust.fields.iter().enumerate() {
        let Some(w) = wgsl.get(i) else {
            return Err(format!("{name}.{field}: missing in WGSL (it has {} fields)", wgsl.len()));
        };
        if w.name != field {
            return Err(format!("{name}.{field}: field {i} is `{}` in WGSL", w.name));
        }
        if w.ty != ty {
            return Err(format!("{name}.{field}: {ty} in Rust, {} in WGSL", w.ty));
        }
        if w.offset != offset {
            return Err(format!("{name}.{field}: offset {offset} in Rust, {} in WGSL", w.offset));
        }
    }
    if let Some(extra) = wgsl.get(rust.fields.len()) {
        return Err(format!("{name}.{}: in WGSL only", extra.name));
    }
    if wgsl_size != rust.size {
        return Err(format!("{name}: {} bytes in Rust, {wgsl_size} in WGSL", rust.size));
    }
    if !rust.size.is_multiple_of(16) {
        return Err(format!("{name}: {} bytes, not a multiple of 16 (uniform layout): add _pad fields", rust.size));
    }
    let binding = format!("@group(0) @binding(0) var<uniform> params: {name};");
    if !source.contains(&binding) {
        return Err(format!("{name}: the shader lacks `{binding}`"));
    }
    Ok(())
}

#[test]
fn each_kernel_params_struct_matches_its_wgsl_mirror() {
    let errors: Vec<String> = Kernel::ALL
        .into_iter()
        .filter_map(|k| compare(&k.source(), &params_of(k)).err().map(|e| format!("{k:?}: {e}")))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn a_mismatch_names_the_struct_and_field() {
    let source = Kernel::Matmul64x64.source();
    let rust = params_of(Kernel::Matmul64x64);
    let broken = |from: &str, to: &str| {
        assert!(source.contains(from), "{from}");
        compare(&source.replacen(from, to, 1), &rust).expect_err(to)
    };
    assert_eq!(
        broken("    k: u32,\n    n: u32,", "    n: u32,\n    k: u32,"),
        "MatmulParams.k: field 1 is `n` in WGSL"
    );
    assert_eq!(broken("activation: u32", "activation: f32"), "MatmulParams.activation: u32 in Rust, f32 in WGSL");
    assert_eq!(broken("    _pad1: u32,\n", ""), "MatmulParams._pad1: missing in WGSL (it has 7 fields)");
    assert_eq!(broken("_pad1: u32,", "_pad1: u32, extra: u32,"), "MatmulParams.extra: in WGSL only");
    assert_eq!(
        broken("activation: u32,", "activation: vec4<u32>,"),
        "MatmulParams.activation: type vec4<u32> is not a 4-byte scalar"
    );
    assert!(broken("var<uniform> params: MatmulParams", "var<uniform> p: MatmulParams").contains("lacks"));
    assert!(broken("struct MatmulParams", "struct Params").starts_with("MatmulParams: no `struct"));
    // A Rust struct whose size WGSL's uniform layout rejects.
    let unpadded = RustLayout { name: "Odd", fields: &[("x", "u32", 0)], size: 4 };
    let odd = "struct Odd {\n    x: u32,\n}\n@group(0) @binding(0) var<uniform> params: Odd;";
    assert!(compare(odd, &unpadded).expect_err("size 4").contains("not a multiple of 16"));
}

#[test]
fn code_constants_come_from_the_rust_enums() {
    let constants = wgsl_constants();
    for line in [
        "const ACTIVATION_NONE: u32 = 0u;",
        "const ACTIVATION_RELU: u32 = 1u;",
        "const ACTIVATION_RELU6: u32 = 2u;",
        "const ACTIVATION_RELU_N1_TO1: u32 = 3u;",
        "const ACTIVATION_PRELU: u32 = 4u;",
        "const BINARY_PRELU: u32 = 4u;",
        "const UNARY_LEAKY_RELU: u32 = 4u;",
        "const POOL_MAX: u32 = 1u;",
        "const REDUCE_MAX: u32 = 1u;",
    ] {
        assert!(constants.lines().any(|l| l == line), "{line} not in\n{constants}");
    }
    // Every code a shader names is one of them (a misspelt one would fail only on a GPU).
    let prefixes = ["ACTIVATION_", "BINARY_", "UNARY_", "POOL_", "REDUCE_"];
    for k in Kernel::ALL {
        let code = strip_comments(&k.module_source());
        let words = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        for word in words.filter(|w| prefixes.iter().any(|p| w.starts_with(p))) {
            assert!(constants.contains(&format!("const {word}: u32")), "{k:?} uses {word}, which no enum defines");
        }
    }
}

/// The kernels are compiled without naga's guard against infinite loops (`compile::pipelines`): that is
/// sound only while every loop is a `for` that counts up by a positive constant to a bound (or down to
/// zero), which this checks of every shader.
#[test]
fn every_loop_counts_to_a_bound() {
    for k in Kernel::ALL {
        let code = strip_comments(&k.module_source());
        let words: Vec<&str> = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
        assert!(!words.contains(&"loop") && !words.contains(&"while"), "{k:?}: a loop that is not a counted `for`");
        assert_eq!(words.iter().filter(|&&w| w == "for").count(), code.matches("for (var ").count(), "{k:?}");
        for header in code.split("for (var ").skip(1) {
            let header = &header[..header.find(')').expect("a for header ends")];
            let parts: Vec<&str> = header.split(';').map(str::trim).collect();
            let counter = parts[0].split('=').next().expect("a counter").trim();
            let up = parts[1].starts_with(&format!("{counter} < "))
                && (parts[2] == format!("{counter}++") || is_constant_step(parts[2], counter));
            let down = parts[1] == format!("{counter} >= 0i") && parts[2] == format!("{counter}--");
            assert!(up || down, "{k:?}: `for (var {header})` does not count to a bound");
        }
    }
}

/// `i += STEP` with a named constant or a literal.
fn is_constant_step(step: &str, counter: &str) -> bool {
    step.strip_prefix(&format!("{counter} += ")).is_some_and(|s| {
        s.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            || s.trim_end_matches('u').parse::<u32>().is_ok_and(|n| n > 0)
    })
}
