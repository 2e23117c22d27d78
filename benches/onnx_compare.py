#!/usr/bin/env python3
"""The six ONNX models of faceplugin-face-recognition-js (and any given) in localface against onnxruntime,
one thread each: localface native (`localface profile`, its `total_ms`), onnxruntime (CPU provider, one
intra-op thread, sequential), and localface's WebAssembly build in Node.js (benches/onnx_wasm.mjs, the
package's TfliteModel). The rounds alternate the three contenders so that the machine's drift moves them
alike; each round is the median of RUNS runs after 3 warm-ups, on the model's own input shape (batch 1).
Writes OUT.json: {"fr_eye": {"localface_1t_ms", "onnxruntime_1t_ms", "wasm_1t_ms", "ratio", "rounds"}, ...}
with the medians over the rounds.

Usage: onnx_compare.py MODELS_DIR LOCALFACE_BINARY OUT.json [ROUNDS] [RUNS]"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime

models, binary, out = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
MODELS = ["fr_liveness.onnx", "fr_feature.onnx", "fr_landmark.onnx", "fr_eye.onnx", "fr_detect.onnx", "fr_pose.onnx"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def onnxruntime_round(session):
    i = session.get_inputs()[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
    size = int(np.prod(shape))
    x = (((np.arange(size) * 7919) % 2001) / 1000.0 - 1.0).astype(np.float32).reshape(shape)
    for _ in range(3):
        session.run(None, {i.name: x})
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        session.run(None, {i.name: x})
        ms.append((time.perf_counter() - t) * 1e3)
    return sorted(ms)[runs // 2]


def localface_round(file):
    args = [binary, "profile", "--backend", "cpu", "--models", models, "--runs", str(runs), file]
    report = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return report["total_ms"], report["cpu_kernels"]


def wasm_round(file, nchw):
    """The WebAssembly build's median, given the ONNX (NCHW) input shape; the package takes NHWC."""
    n, c, h, w = nchw
    args = ["node", os.path.join(ROOT, "benches/onnx_wasm.mjs"), os.path.join(models, file), str(runs), f"{n},{h},{w},{c}"]
    report = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return report["ms"], report["kernels"]


result = {}
for file in MODELS:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(os.path.join(models, file), options, providers=["CPUExecutionProvider"])
    triples = []
    for _ in range(rounds):
        native, kernels = localface_round(file)
        theirs = onnxruntime_round(session)
        wasm, wasm_kernels = wasm_round(file, [d if isinstance(d, int) and d > 0 else 1 for d in session.get_inputs()[0].shape])
        triples.append([round(native, 3), round(theirs, 3), round(wasm, 3)])
    mine, ort, web = (statistics.median(t[k] for t in triples) for k in range(3))
    key = file.replace(".onnx", "")
    result[key] = {"localface_1t_ms": mine, "onnxruntime_1t_ms": ort, "wasm_1t_ms": web,
                   "ratio": round(mine / ort, 2), "rounds": triples}
    print(f"{key:<12} localface {mine:7.2f} ms   onnxruntime {ort:7.2f} ms   ratio {mine / ort:.2f}   "
          f"wasm (Node.js) {web:7.2f} ms", file=sys.stderr)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), None)
result["machine"] = {"cpu": cpu, "localface_kernels": kernels, "wasm_kernels": wasm_kernels,
                     "onnxruntime": onnxruntime.__version__, "rounds": rounds, "runs_per_round": runs}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
