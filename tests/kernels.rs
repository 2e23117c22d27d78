//! Every fast kernel against the scalar reference, on random and edge-case shapes: odd sizes, stride 2,
//! SAME and VALID padding, dilation, channel counts that are not a multiple of 4 or 8, every activation.
//! Outputs start as NaN, so an element a kernel fails to write is caught.
//! Tolerance: 1e-5 of the output's largest magnitude (the SIMD kernels add in the reference's order, so
//! without fused multiply-add they agree exactly; with it, within rounding).
//! Runs natively (`cargo test`; on x86-64 the AVX2 + FMA kernels where the CPU has them, and the SSE ones
//! with `LOCALFACE_KERNELS=sse`, as scripts/test.sh does) and in headless Chromium
//! (`wasm-pack test --chrome --headless -- --test kernels`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use localface::cpu::{reference, simd};
use localface::model::{Activation, Conv, Padding};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const ACTIVATIONS: [Activation; 5] =
    [Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1, Activation::Prelu];

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * scale, "{what}: element {i}: {g} vs {w}");
    }
}

/// Runs a kernel into an output full of NaN: any element it fails to write shows up in the comparison.
fn filled(len: usize, kernel: impl FnOnce(&mut [f32])) -> Vec<f32> {
    let mut out = vec![f32::NAN; len];
    kernel(&mut out);
    out
}

fn random_conv(rng: &mut Rng, square: bool) -> Conv {
    let stride = 1 + rng.below(2);
    let dilation = if rng.below(4) == 0 { 2 } else { 1 };
    Conv {
        padding: if rng.below(2) == 0 { Padding::Same } else { Padding::Valid },
        stride: if square { [stride, stride] } else { [1 + rng.below(2), stride] },
        dilation: [dilation, dilation],
        activation: ACTIVATIONS[rng.below(ACTIVATIONS.len())],
    }
}

#[test]
fn conv2d_gemm_matches_reference() {
    let mut rng = Rng(7);
    let mut cases = 0;
    // Random shapes, plus the shapes of the default models (1x1 64->128, 3x3 3->64 stride 2, 5x5 3->24, and
    // BlazeFace full range's one-channel score head, 1x1 48->1).
    let mut shapes: Vec<([usize; 4], [usize; 4], Option<Conv>)> = vec![
        ([2, 14, 14, 64], [128, 1, 1, 64], None),
        ([1, 48, 48, 48], [1, 1, 1, 48], None),
        ([1, 17, 15, 3], [64, 3, 3, 3], None),
        ([1, 32, 32, 3], [24, 5, 5, 3], None),
    ];
    // Whole panels of eight columns with each activation: the product's compile-time activation (`quads`),
    // 63 rows (four at a time, then three alone).
    for activation in ACTIVATIONS {
        let conv = Conv { padding: Padding::Valid, stride: [1, 1], dilation: [1, 1], activation };
        shapes.push(([1, 9, 7, 12], [16, 1, 1, 12], Some(conv)));
    }
    for _ in 0..60 {
        let (ci, co, k) = (1 + rng.below(19), 1 + rng.below(21), 1 + rng.below(5));
        let (h, w) = (k.max(2) + rng.below(9), k.max(2) + rng.below(9));
        shapes.push(([1 + rng.below(3), h, w, ci], [co, k, 1 + rng.below(k), ci], None));
    }
    for (xs, fs, conv) in shapes {
        let conv = conv.unwrap_or_else(|| random_conv(&mut rng, false));
        let [n, h, w, ci] = xs;
        // VALID needs the dilated filter to fit.
        let fits = |size: usize, k: usize, d: usize| (k - 1) * d < size;
        if conv.padding == Padding::Valid && !(fits(h, fs[1], conv.dilation[0]) && fits(w, fs[2], conv.dilation[1])) {
            continue;
        }
        let x = rng.values(n * h * w * ci);
        let filter = rng.values(fs.iter().product());
        let (bias, slope) = (rng.values(fs[0]), rng.values(fs[0]));
        let want = reference::conv2d(&x, xs, &filter, fs, &bias, &slope, &conv);
        let got =
            filled(want.len(), |out| simd::ConvGemm::new(&filter, fs, &bias, &slope, conv).run(&x, xs, None, out));
        assert_close(&format!("conv {xs:?} * {fs:?} {conv:?}"), &got, &want);
        cases += 1;
    }
    println!("conv2d: {cases} cases agree ({})", simd::arch());
}

#[test]
fn depthwise_matches_reference() {
    let mut rng = Rng(11);
    let mut cases = 0;
    let mut shapes: Vec<([usize; 4], usize, usize)> =
        vec![([2, 7, 7, 512], 7, 7), ([1, 16, 16, 42], 3, 3), ([1, 9, 9, 1], 3, 3), ([1, 19, 37, 13], 3, 3)];
    for _ in 0..80 {
        let k = 1 + rng.below(5);
        shapes.push((
            [1 + rng.below(2), k.max(2) + rng.below(10), k.max(2) + rng.below(10), 1 + rng.below(23)],
            k,
            1 + rng.below(k),
        ));
    }
    for (xs, kh, kw) in shapes {
        let mut conv = random_conv(&mut rng, true);
        if kh == 7 {
            conv = Conv { padding: Padding::Valid, stride: [1, 1], dilation: [1, 1], activation: Activation::None };
        }
        let [n, h, w, c] = xs;
        if conv.padding == Padding::Valid && ((kh - 1) * conv.dilation[0] >= h || (kw - 1) * conv.dilation[1] >= w) {
            continue;
        }
        let x = rng.values(n * h * w * c);
        let filter = rng.values(kh * kw * c);
        let (bias, slope) = (rng.values(c), rng.values(c));
        let want = reference::depthwise_conv2d(&x, xs, &filter, [1, kh, kw, c], &bias, &slope, &conv);
        let got =
            filled(want.len(), |out| simd::Depthwise::new(&filter, kh, kw, c, &bias, &slope, conv).run(&x, xs, out));
        assert_close(&format!("depthwise {xs:?} {kh}x{kw} {conv:?}"), &got, &want);
        cases += 1;
    }
    // Rows long enough for runs of eight at both strides (the random shapes above are narrower), with
    // channels past a multiple of four, and exactly eight (AVX-512's two pixels to a register), with PReLU.
    // Then rows whose runs end in a part of at most four (BlazeFace's 12- and 6-pixel rows: inner runs of 10
    // and 4), which go through the run's last four where that pays.
    let wide_rows = [
        (1, Padding::Same, 21, 41),
        (2, Padding::Same, 21, 41),
        (2, Padding::Valid, 21, 41),
        (1, Padding::Same, 8, 41),
    ];
    let tails = [(1, Padding::Same, 12, 12), (1, Padding::Same, 12, 6), (2, Padding::Same, 12, 22)];
    for (stride, padding, c, w) in wide_rows.into_iter().chain(tails) {
        let xs = [1, 7, w, c];
        let activation = if c == 8 { Activation::Prelu } else { Activation::Relu6 };
        let conv = Conv { padding, stride: [stride, stride], dilation: [1, 1], activation };
        let x = rng.values(7 * w * c);
        let (filter, bias, slope) = (rng.values(9 * c), rng.values(c), rng.values(c));
        let want = reference::depthwise_conv2d(&x, xs, &filter, [1, 3, 3, c], &bias, &slope, &conv);
        let got =
            filled(want.len(), |out| simd::Depthwise::new(&filter, 3, 3, c, &bias, &slope, conv).run(&x, xs, out));
        assert_close(&format!("depthwise {xs:?} 3x3 {conv:?}"), &got, &want);
        cases += 1;
    }
    println!("depthwise: {cases} cases agree ({})", simd::arch());
}

#[test]
fn fully_connected_matches_reference() {
    let mut rng = Rng(13);
    // Rows below, at and past the x86 AVX2 kernel's six; one, two and three panels of eight columns.
    let shapes =
        [(1, 1152, 256), (3, 256, 10), (2, 512, 192), (5, 7, 3), (1, 1, 1), (4, 33, 17), (6, 40, 24), (13, 19, 9)];
    for (rows, width, out) in shapes {
        for activation in ACTIVATIONS {
            let x = rng.values(rows * width);
            let filter = rng.values(out * width);
            let (bias, slope) = (rng.values(out), rng.values(out));
            let want = reference::fully_connected(&x, rows, &filter, out, &bias, &slope, activation);
            let got =
                filled(want.len(), |o| simd::Dense::new(&filter, out, width, &bias, &slope, activation).run(&x, o));
            assert_close(&format!("dense {rows}x{width} -> {out} {activation:?}"), &got, &want);
        }
    }
}

#[test]
fn one_value_slope_broadcasts_like_the_reference() {
    let mut rng = Rng(17);
    let conv = Conv { padding: Padding::Same, stride: [1, 1], dilation: [1, 1], activation: Activation::Prelu };
    let (xs, fs) = ([1, 5, 5, 6], [10, 3, 3, 6]);
    let (x, filter, bias) = (rng.values(150), rng.values(540), rng.values(10));
    let want = reference::conv2d(&x, xs, &filter, fs, &bias, &[0.25], &conv);
    let got = filled(want.len(), |out| simd::ConvGemm::new(&filter, fs, &bias, &[0.25], conv).run(&x, xs, None, out));
    assert_close("conv with one slope", &got, &want);
}

#[test]
fn elementwise_and_pooling_match_reference() {
    use localface::cpu::simd::elementwise::{binary, binary_scalar, pool2d, Binary};
    use localface::model::Pool;
    let mut rng = Rng(19);
    for len in [1, 3, 4, 7, 64, 1001] {
        let (a, b) = (rng.values(len), rng.values(len));
        for (op, f) in [
            (Binary::Add, (|x, y| x + y) as fn(f32, f32) -> f32),
            (Binary::Sub, |x, y| x - y),
            (Binary::Mul, |x, y| x * y),
        ] {
            for activation in [Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1] {
                let want = reference::binary(&a, &[len], &b, &[len], &[len], activation, f);
                let got = filled(len, |out| binary(&a, &b, op, activation, out));
                assert_close(&format!("{op:?} of {len} {activation:?}"), &got, &want);
                // One value against the tensor, on either side.
                let want = reference::binary(&a, &[len], &b[..1], &[1], &[len], activation, f);
                let got = filled(len, |out| binary_scalar(&a, b[0], false, op, activation, out));
                assert_close(&format!("{op:?} of {len} and one value, {activation:?}"), &got, &want);
                let want = reference::binary(&b[..1], &[1], &a, &[len], &[len], activation, f);
                let got = filled(len, |out| binary_scalar(&a, b[0], true, op, activation, out));
                assert_close(&format!("{op:?} of one value and {len}, {activation:?}"), &got, &want);
            }
        }
    }
    let mut shapes = Vec::new();
    for _ in 0..40 {
        let xs = [1 + rng.below(2), 2 + rng.below(9), 2 + rng.below(9), 1 + rng.below(13)];
        let (f, s) = (1 + rng.below(3), 1 + rng.below(2));
        let padding = if rng.below(2) == 0 { Padding::Same } else { Padding::Valid };
        if padding == Padding::Valid && (f > xs[1] || f > xs[2]) {
            continue;
        }
        let pool = Pool { padding, filter: [f, f], stride: [s, s], activation: Activation::None };
        shapes.push((xs, pool));
    }
    // Whole 2x2 windows at stride 2 over whole blocks of four channels (BlazeFace's pools, `pool2x2`): even and
    // odd sizes, both paddings, two images, with and without an activation; and no channels at all.
    for (xs, padding, activation) in [
        ([2, 8, 6, 8], Padding::Same, Activation::None),
        ([1, 4, 4, 0], Padding::Valid, Activation::None),
        ([1, 7, 9, 12], Padding::Valid, Activation::Relu6),
        ([1, 6, 10, 4], Padding::Valid, Activation::None),
        ([1, 7, 6, 8], Padding::Same, Activation::Relu),
    ] {
        shapes.push((xs, Pool { padding, filter: [2, 2], stride: [2, 2], activation }));
    }
    for (xs, pool) in shapes {
        let x = rng.values(xs.iter().product());
        for max in [true, false] {
            let want = reference::pool2d(&x, xs, &pool, max);
            let got = filled(want.len(), |out| pool2d(&x, xs, &pool, max, out));
            assert_close(&format!("{} pool {xs:?} {pool:?}", if max { "max" } else { "average" }), &got, &want);
        }
    }
}

#[test]
fn bilinear_resize_matches_reference() {
    use localface::cpu::simd::elementwise::resize_bilinear;
    let mut rng = Rng(29);
    // BlazeFace full range's doubling (half-pixel centres), then random sizes up and down, all three rules.
    let mut cases = vec![([1, 12, 12, 32], [24, 24], [false, true])];
    for _ in 0..40 {
        let xs = [1 + rng.below(2), 1 + rng.below(9), 1 + rng.below(9), 1 + rng.below(13)];
        let corners = [[false, false], [true, false], [false, true]][rng.below(3)];
        cases.push((xs, [1 + rng.below(17), 1 + rng.below(17)], corners));
    }
    for (xs, size, corners) in cases {
        let x = rng.values(xs.iter().product());
        let want = reference::resize_bilinear(&x, xs, size, corners[0], corners[1]);
        let got = filled(want.len(), |out| resize_bilinear(&x, xs, size, corners, out));
        // The same arithmetic in the same order: equal, not merely close.
        assert_eq!(got, want, "resize {xs:?} to {size:?} {corners:?}");
    }
}

#[test]
fn convolution_with_residual_add_matches_reference() {
    // A convolution plus a skip tensor with as many or fewer channels (the rest zeros), then a ReLU-family
    // activation: BlazeFace's and MobileFaceNet's residual joins, fused (`cpu::fuse`).
    let mut rng = Rng(23);
    let mut shapes: Vec<([usize; 4], [usize; 4], usize)> = vec![
        ([1, 64, 64, 24], [28, 1, 1, 24], 24),
        ([2, 14, 14, 128], [64, 1, 1, 128], 64),
        ([1, 8, 8, 3], [5, 3, 3, 3], 2),
        ([1, 9, 7, 37], [2, 1, 1, 37], 1),
        ([1, 6, 5, 16], [1, 1, 1, 16], 1),
        // BlazeFace full range's joins: eight channels to 32, a skip of 32 widened to 48, and of 28 (its last
        // panel half covered).
        ([1, 12, 10, 8], [32, 1, 1, 8], 32),
        ([1, 9, 9, 12], [48, 1, 1, 12], 32),
        ([1, 7, 9, 12], [32, 1, 1, 12], 28),
    ];
    for _ in 0..40 {
        let (ci, co, k) = (1 + rng.below(40), 1 + rng.below(40), 1 + 2 * rng.below(2));
        let xs = [1 + rng.below(2), k + rng.below(9), k + rng.below(9), ci];
        shapes.push((xs, [co, k, k, ci], 1 + rng.below(co)));
    }
    for (xs, fs, skip_channels) in shapes {
        let activation = [Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1][rng.below(4)];
        let conv = Conv { padding: Padding::Same, stride: [1, 1], dilation: [1, 1], activation };
        let [n, h, w, ci] = xs;
        let x = rng.values(n * h * w * ci);
        let filter = rng.values(fs.iter().product());
        let (bias, skip) = (rng.values(fs[0]), rng.values(n * h * w * skip_channels));
        let want = reference::conv2d_add(&x, xs, &filter, fs, &bias, &skip, &conv);
        let skip_in = simd::Skip { data: &skip, channels: skip_channels };
        let got = filled(want.len(), |out| {
            simd::ConvGemm::new(&filter, fs, &bias, &[], conv).run(&x, xs, Some(skip_in), out)
        });
        assert_close(&format!("conv {xs:?} * {fs:?} + skip of {skip_channels} {activation:?}"), &got, &want);
    }
}

#[test]
fn data_movement_matches_reference_exactly() {
    // PAD, SLICE, TRANSPOSE and CONCATENATION copy values: the same bits as the reference, including shapes
    // that merge to more than four dimensions (which take the reference) and dimensions of one.
    use localface::cpu::movement;
    let mut rng = Rng(41);
    let pads_cases: [(&[usize], &[[usize; 2]]); 4] = [
        (&[1, 224, 224, 3], &[[0, 0], [1, 1], [1, 1], [0, 0]]),
        (&[2, 5, 3, 6], &[[0, 0], [2, 0], [0, 3], [1, 2]]),
        (&[3, 7], &[[0, 0], [0, 5]]),
        (&[1, 2, 3, 2, 3, 2], &[[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 0]]),
    ];
    for (shape, pads) in pads_cases {
        let x = rng.values(shape.iter().product());
        let out_shape: Vec<usize> = shape.iter().zip(pads).map(|(d, p)| d + p[0] + p[1]).collect();
        let want = reference::pad(&x, shape, pads, -3.5, &out_shape);
        let got = filled(want.len(), |out| movement::pad(&x, shape, pads, -3.5, &out_shape, out));
        assert_eq!(got, want, "pad {shape:?} {pads:?}");
    }
    let slice_cases: [(&[usize], &[usize], &[usize]); 4] = [
        (&[1, 28, 28, 116], &[0, 0, 58], &[28, 28, 58]),
        (&[2, 5, 3, 6], &[1, 0, 2], &[3, 3, 4]),
        (&[3, 7], &[6], &[1]),
        (&[2, 3, 4, 5, 2], &[1, 1, 2, 0], &[2, 2, 3, 2]),
    ];
    for (shape, starts, sizes) in slice_cases {
        let x = rng.values(shape.iter().product());
        let out_shape = [&shape[..1], sizes].concat();
        let want = reference::slice(&x, shape, starts, &out_shape);
        let got = filled(want.len(), |out| movement::slice(&x, shape, starts, &out_shape, out));
        assert_eq!(got, want, "slice {shape:?} from {starts:?}");
    }
    let transpose_cases: [(&[usize], &[usize]); 6] = [
        (&[1, 28, 28, 2, 58], &[0, 1, 2, 4, 3]),
        (&[2, 5, 3, 6], &[0, 3, 1, 2]),
        (&[2, 6, 5, 3], &[0, 2, 3, 1]),
        (&[1, 7, 1, 4], &[0, 3, 2, 1]),
        (&[2, 3, 2, 3, 2, 3], &[0, 5, 3, 1, 4, 2]),
        (&[3, 4], &[0, 1]),
    ];
    for (shape, perm) in transpose_cases {
        let x = rng.values(shape.iter().product());
        let want = reference::transpose(&x, shape, perm);
        let got = filled(want.len(), |out| movement::transpose(&x, shape, perm, out));
        assert_eq!(got, want, "transpose {shape:?} by {perm:?}");
    }
    // BlazeFace's heads (896 anchors from two maps), a middle axis, the last axis, the first.
    let concat_cases: [(&[&[usize]], usize); 4] = [
        (&[&[1, 512, 16], &[1, 384, 16]], 1),
        (&[&[2, 3, 4, 5], &[2, 1, 4, 5], &[2, 2, 4, 5]], 1),
        (&[&[3, 4, 2], &[3, 4, 5]], 2),
        (&[&[1, 6], &[2, 6]], 0),
    ];
    for (shapes, axis) in concat_cases {
        let data: Vec<Vec<f32>> = shapes.iter().map(|s| rng.values(s.iter().product())).collect();
        let parts: Vec<(&[f32], &[usize])> = data.iter().map(|d| d.as_slice()).zip(shapes.iter().copied()).collect();
        let mut out_shape = shapes[0].to_vec();
        out_shape[axis] = shapes.iter().map(|s| s[axis]).sum();
        let want = reference::concat(&parts, axis, &out_shape);
        let got = filled(want.len(), |out| movement::concat(&parts, axis, &out_shape, out));
        assert_eq!(got, want, "concat {shapes:?} along {axis}");
    }
}
