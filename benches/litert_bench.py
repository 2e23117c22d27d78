#!/usr/bin/env python3
"""Times ai-edge-litert (default path: XNNPACK) on MobileFaceNet (batch 2, per face) and BlazeFace short range,
with 1 and 2 threads: 10 warm-ups, median and p90 of 50. Usage: litert_bench.py MODELS_DIR"""
import os
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

models = sys.argv[1]
for name, file, per in [("MobileFaceNet 112x112, batch 2", "MobileFaceNet.tflite", 2),
                        ("BlazeFace short range 128x128", "face_detection_short_range.tflite", 1)]:
    for threads in (1, 2):
        it = Interpreter(model_path=os.path.join(models, file), num_threads=threads)
        it.allocate_tensors()
        d = it.get_input_details()[0]
        it.set_tensor(d["index"], np.random.default_rng(7).uniform(-1, 1, d["shape"]).astype(np.float32))
        for _ in range(10):
            it.invoke()
        ms = []
        for _ in range(50):
            t = time.perf_counter()
            it.invoke()
            ms.append((time.perf_counter() - t) * 1e3)
        ms.sort()
        print(f"ai-edge-litert {name:<32} {threads} thread{'s' if threads > 1 else ' '}  median {ms[25] / per:7.2f} ms   p90 {ms[45] / per:7.2f} ms per {'face' if per == 2 else 'frame'}")
