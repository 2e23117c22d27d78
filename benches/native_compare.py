#!/usr/bin/env python3
"""localface's native SIMD kernels against ai-edge-litert (XNNPACK), one thread each, on MobileFaceNet and
BlazeFace short and full range: rounds alternate (localface, litert, localface, litert...) so that the
machine's drift moves both sides alike. Each round is the median of RUNS runs after 3 warm-ups (localface's
from `localface profile`, its `total_ms`), on the model's own input shape (MobileFaceNet: 2 faces, reported
per face). Writes OUT.json:
{"mobilefacenet": {"localface_1t_ms", "litert_1t_ms", "ratio", "rounds": [[localface, litert]...]}, ...}
with the medians over the rounds.

Usage: native_compare.py MODELS_DIR LOCALFACE_BINARY OUT.json [ROUNDS] [RUNS]"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

models, binary, out = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 30
MODELS = [("mobilefacenet", "MobileFaceNet.tflite", 2), ("blazeface_short", "face_detection_short_range.tflite", 1),
          ("blazeface_full", "face_detection_full_range.tflite", 1)]


def litert_round(it):
    d = it.get_input_details()[0]
    size = int(np.prod(d["shape"]))
    x = (((np.arange(size) * 7919) % 2001) / 1000.0 - 1.0).astype(np.float32).reshape(d["shape"])
    it.set_tensor(d["index"], x)
    for _ in range(3):
        it.invoke()
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        it.invoke()
        ms.append((time.perf_counter() - t) * 1e3)
    return sorted(ms)[runs // 2]


def localface_round(file, batch):
    """localface's median for one round, and the CPU kernels it ran on."""
    args = [binary, "profile", "--backend", "cpu", "--models", models, "--batch", str(batch), "--runs", str(runs), file]
    report = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return report["total_ms"], report["cpu_kernels"]


result = {}
for key, file, per in MODELS:
    path = os.path.join(models, file)
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    pairs = []
    for _ in range(rounds):
        ms, kernels = localface_round(file, per)
        pairs.append([round(ms / per, 3), round(litert_round(it) / per, 3)])
    mine, theirs = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    result[key] = {"localface_1t_ms": mine, "litert_1t_ms": theirs, "ratio": round(mine / theirs, 2),
                   "per": "face" if per == 2 else "frame", "rounds": pairs}
    print(f"{key:<16} localface {mine:7.2f} ms   ai-edge-litert {theirs:7.2f} ms   ratio {mine / theirs:.2f}",
          file=sys.stderr)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), None)
result["machine"] = {"cpu": cpu, "localface_kernels": kernels, "rounds": rounds, "runs_per_round": runs}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
