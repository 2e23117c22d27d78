#!/usr/bin/env python3
"""Runs the default models in the reference interpreter (ai-edge-litert), and the ONNX models the ONNX reader is
tested on in onnxruntime, on real photos and writes the inputs it used and the outputs it gave, so the Rust
tests can run the same inputs and compare.

Usage: make-references.py MODELS_DIR FACES_DIR OUT_DIR
Writes OUT_DIR/manifest.json and raw little-endian float32 files.
"""
import json
import os
import sys

import numpy as np
from PIL import Image
import onnxruntime
from ai_edge_litert.interpreter import Interpreter, OpResolverType

models_dir, faces_dir, out_dir = sys.argv[1:4]
os.makedirs(out_dir, exist_ok=True)
PEOPLE = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"]
FRAMES = [
    "emotions-a/a1.jpg", "emotions-b/b3.jpg", "vlado/vlado0.jpg", "vlado/vlado1.jpg",
    "group/bbt1.jpg", "group/group1.jpg", "group/group5.jpg", "group/solvay1927.jpg",
]
cases = []


def save(array, name):
    path = os.path.join(out_dir, name)
    np.ascontiguousarray(array, dtype="<f4").tofile(path)
    return {"file": name, "shape": list(array.shape)}


def invoke(model, inputs, resolver):
    it = Interpreter(model_path=os.path.join(models_dir, model), experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    for detail, x in zip(it.get_input_details(), inputs):
        it.set_tensor(detail["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def run(model, name, inputs):
    """Runs a case twice: with TFLite's reference kernels (plain loops like ours: the ground truth for
    each kernel) and with the interpreter's default path (the XNNPACK delegate, which rounds differently)."""
    stem = model.replace(".tflite", "") + "-" + name
    reference = invoke(model, inputs, OpResolverType.BUILTIN_REF)
    default = invoke(model, inputs, OpResolverType.AUTO)
    cases.append({
        "model": model,
        "name": name,
        "inputs": [save(x, f"{stem}-in{i}.f32") for i, x in enumerate(inputs)],
        "outputs": [save(y, f"{stem}-out{i}.f32") for i, y in enumerate(reference)],
        "outputs_default": [save(y, f"{stem}-default{i}.f32") for i, y in enumerate(default)],
    })


def rgb(path, size=None):
    img = Image.open(os.path.join(faces_dir, path)).convert("RGB")
    if size:
        img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def letterbox(path, size):
    """Scales the longer side to `size`, pads the rest with black, centred (as the detector will)."""
    img = Image.open(os.path.join(faces_dir, path)).convert("RGB")
    scale = size / max(img.size)
    w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    canvas = Image.new("RGB", (size, size))
    canvas.paste(img.resize((w, h), Image.BILINEAR), ((size - w) // 2, (size - h) // 2))
    return np.asarray(canvas, dtype=np.float32)


# MobileFaceNet: the 40 face crops, two per call (the file's batch is 2), normalised as (x - 127.5) / 128.
crops = [(p, f"{p}/{p}{i}.png") for p in PEOPLE for i in range(1, 6)]
for k in range(0, len(crops), 2):
    pair = crops[k:k + 2]
    x = np.stack([(rgb(path, 112) - 127.5) / 128.0 for _, path in pair]).astype(np.float32)
    run("MobileFaceNet.tflite", "+".join(os.path.basename(path)[:-4] for _, path in pair), [x])

# BlazeFace, short and full range: real frames letterboxed, scaled to [-1, 1].
for model, size in [("face_detection_short_range.tflite", 128), ("face_detection_full_range.tflite", 192)]:
    for path in FRAMES:
        x = (letterbox(path, size)[None] / 127.5 - 1.0).astype(np.float32)
        run(model, os.path.basename(path)[:-4], [x])

# O-Net: 48x48 face crops, normalised as (x - 127.5) / 128 (one per call: the file's batch is 1).
for person in PEOPLE:
    for i in (1, 3):
        x = ((rgb(f"{person}/{person}{i}.png", 48) - 127.5) / 128.0)[None].astype(np.float32)
        run("onet.tflite", f"{person}{i}", [x])



def run_onnx(model, name, x, path=None):
    """An ONNX model (from the models folder, or `path`) on one NHWC input (what the graph takes; onnxruntime
    gets it NCHW). onnxruntime has one path: its outputs are both the reference and the default."""
    path = path or os.path.join(models_dir, model)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(x.transpose(0, 3, 1, 2))}
    outputs = session.run(None, feed)
    stem = model.replace(".onnx", "") + "-" + name
    saved = [save(y, f"{stem}-out{i}.f32") for i, y in enumerate(outputs)]
    cases.append({"model": model, "name": name, "inputs": [save(x, f"{stem}-in0.f32")], "outputs": saved,
                  "outputs_default": saved})


# The ONNX models, on face crops with the preprocessing of their package's lib/*.js: fr_liveness 128x128 BGR
# 0-255; fr_feature 112x112 RGB (x - 127) / 128; fr_landmark 64x64 grey / 256; fr_pose 224x224 RGB with
# ImageNet's mean and deviation; fr_eye 24x24 grey / 255 of each eye (where the eyes lie in these crops).
for person in PEOPLE:
    for i in (2, 4):
        face = f"{person}/{person}{i}.png"
        run_onnx("fr_liveness.onnx", f"{person}{i}", rgb(face, 128)[None, :, :, ::-1].astype(np.float32))
        run_onnx("fr_feature.onnx", f"{person}{i}", ((rgb(face, 112)[None] - 127.0) / 128.0).astype(np.float32))
        grey = np.asarray(Image.open(os.path.join(faces_dir, face)).convert("L").resize((64, 64), Image.BILINEAR),
                          dtype=np.float32)
        run_onnx("fr_landmark.onnx", f"{person}{i}", (grey[None, :, :, None] / 256.0).astype(np.float32))
        pose = (rgb(face, 224) / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        run_onnx("fr_pose.onnx", f"{person}{i}", pose[None].astype(np.float32))
        grey_face = Image.open(os.path.join(faces_dir, face)).convert("L")
        for side, box in [("left", (30, 40, 70, 80)), ("right", (80, 40, 120, 80))]:
            eye = np.asarray(grey_face.crop(box).resize((24, 24), Image.BILINEAR), dtype=np.float32)
            run_onnx("fr_eye.onnx", f"{person}{i}-{side}", (eye[None, :, :, None] / 255.0).astype(np.float32))

# fr_detect: whole frames resized to 320x240, RGB (x - 127) / 128.
for path in FRAMES:
    img = Image.open(os.path.join(faces_dir, path)).convert("RGB").resize((320, 240), Image.BILINEAR)
    x = (np.asarray(img, dtype=np.float32)[None] - 127.0) / 128.0
    run_onnx("fr_detect.onnx", os.path.basename(path)[:-4], x.astype(np.float32))

# Every op the ONNX reader takes, in one small model (opset 11) that make-references.sh wrote beside the
# references with the tests' own builder (tests/common/onnx_build.rs), on face crops.
for person in PEOPLE[:4]:
    x = rgb(f"{person}/{person}1.png", 32)[None] / 255.0
    run_onnx("onnx-ops.onnx", person, x.astype(np.float32), path=os.path.join(out_dir, "onnx-ops.onnx"))

with open(os.path.join(out_dir, "manifest.json"), "w") as f:
    json.dump({"interpreter": "ai-edge-litert, onnxruntime", "cases": cases}, f, indent=1)
print(f"make-references: {len(cases)} cases in {out_dir}")
