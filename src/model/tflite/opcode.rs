//! TFLite's builtin operator codes (`BuiltinOperator` in `schema.fbs`), named once: the reader dispatches on
//! them, `op_name` spells them in messages, and the tests write them into hand-built models. Listed are the
//! ops the reader runs and those that real face models use without it running them (so that a refusal
//! names the op).

macro_rules! opcodes {
    ($($name:ident = $code:literal,)*) => {
        $(pub const $name: i32 = $code;)*

        /// Every code above with its name, in the schema's order.
        pub const NAMES: &[(i32, &str)] = &[$(($code, stringify!($name)),)*];
    };
}

opcodes! {
    ADD = 0,
    AVERAGE_POOL_2D = 1,
    CONCATENATION = 2,
    CONV_2D = 3,
    DEPTHWISE_CONV_2D = 4,
    DEPTH_TO_SPACE = 5,
    DEQUANTIZE = 6,
    FULLY_CONNECTED = 9,
    LOGISTIC = 14,
    MAX_POOL_2D = 17,
    MUL = 18,
    RELU = 19,
    RELU_N1_TO_1 = 20,
    RELU6 = 21,
    RESHAPE = 22,
    RESIZE_BILINEAR = 23,
    SOFTMAX = 25,
    TANH = 28,
    CUSTOM = 32,
    PAD = 34,
    TRANSPOSE = 39,
    MEAN = 40,
    SUB = 41,
    DIV = 42,
    STRIDED_SLICE = 45,
    EXP = 47,
    CAST = 53,
    PRELU = 54,
    MAXIMUM = 55,
    MINIMUM = 57,
    LESS = 58,
    NEG = 59,
    GREATER = 61,
    GREATER_EQUAL = 62,
    SUM = 74,
    REDUCE_MAX = 82,
    RESIZE_NEAREST_NEIGHBOR = 97,
    LEAKY_RELU = 98,
    ABS = 101,
    HARD_SWISH = 117,
}

/// What the reader records for an operator code that names a custom op (not a builtin one).
pub const CUSTOM_OP: i32 = -1;

/// TFLite's name of a builtin op, for messages (`builtin op 7` for one not in `NAMES`).
pub fn op_name(code: i32) -> String {
    match NAMES.iter().find(|(c, _)| *c == code) {
        Some((_, n)) => n.to_string(),
        None if code < 0 => "a custom op".to_string(),
        None => format!("builtin op {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_schemas() {
        assert_eq!(op_name(CONV_2D), "CONV_2D");
        assert_eq!(op_name(3), "CONV_2D");
        assert_eq!(op_name(HARD_SWISH), "HARD_SWISH");
        assert_eq!(op_name(CUSTOM_OP), "a custom op");
        assert_eq!(op_name(7), "builtin op 7");
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
