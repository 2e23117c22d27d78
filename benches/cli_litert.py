#!/usr/bin/env python3
"""The Python loop `scripts/bench-cli.sh` compares `localface embed` with: ai-edge-litert (XNNPACK) running the
same models over every photo of a folder, doing what `localface embed --no-tiles --landmarks blazeface` does:
decode, letterbox to 128x128, BlazeFace short range, sigmoid scores over 0.5 with non-max suppression, each face
cropped from its box (square, resized to 112x112, where localface aligns it on its keypoints) and embedded by
MobileFaceNet (two faces per call, as the model is made). One interpreter per model, `threads` threads each. Prints {"photos", "faces", "seconds"}.

Usage: cli_litert.py MODELS_DIR FOLDER THREADS"""
import json
import os
import sys
import time

import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter

models, folder, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])


def interpreter(file):
    it = Interpreter(model_path=os.path.join(models, file), num_threads=threads)
    it.allocate_tensors()
    return it


def anchors():
    """BlazeFace short range: 16x16 cells with 2 anchors, 8x8 cells with 6 (MediaPipe's fixed-size anchors)."""
    out = []
    for cells, per in ((16, 2), (8, 6)):
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells)] * per
    return np.array(out, dtype=np.float32)


ANCHORS = anchors()


def faces(detector, image):
    """Boxes (x0, y0, x1, y1) in the image's pixels."""
    w, h = image.size
    side = max(w, h)
    canvas = Image.new("RGB", (side, side))
    canvas.paste(image, ((side - w) // 2, (side - h) // 2))
    x = np.asarray(canvas.resize((128, 128), Image.BILINEAR), dtype=np.float32)[None] / 127.5 - 1
    detector.set_tensor(detector.get_input_details()[0]["index"], x)
    detector.invoke()
    outs = {tuple(d["shape"]): detector.get_tensor(d["index"]) for d in detector.get_output_details()}
    boxes, scores = outs[(1, 896, 16)][0], outs[(1, 896, 1)][0, :, 0]
    keep = 1 / (1 + np.exp(-np.clip(scores, -100, 100))) > 0.5
    cx = boxes[keep, 0] / 128 + ANCHORS[keep, 0]
    cy = boxes[keep, 1] / 128 + ANCHORS[keep, 1]
    bw, bh = boxes[keep, 2] / 128, boxes[keep, 3] / 128
    order = np.argsort(-scores[keep])
    found = []
    for i in order:
        b = np.array([cx[i] - bw[i] / 2, cy[i] - bh[i] / 2, cx[i] + bw[i] / 2, cy[i] + bh[i] / 2])
        if all(iou(b, f) < 0.3 for f in found):
            found.append(b)
    dx, dy = (side - w) / 2, (side - h) / 2
    return [(b[0] * side - dx, b[1] * side - dy, b[2] * side - dx, b[3] * side - dy) for b in found]


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def crop(image, box):
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    face = image.crop((int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)))
    return (np.asarray(face.resize((112, 112), Image.BILINEAR), dtype=np.float32) - 127.5) / 128


def embed(embedder, crops):
    """The model takes two faces at a time: an odd face is paired with zeros."""
    d = embedder.get_input_details()[0]
    out = []
    for i in range(0, len(crops), 2):
        pair = np.zeros(d["shape"], dtype=np.float32)
        pair[: len(crops[i:i + 2])] = crops[i:i + 2]
        embedder.set_tensor(d["index"], pair)
        embedder.invoke()
        e = embedder.get_tensor(embedder.get_output_details()[0]["index"])[: len(crops[i:i + 2])]
        out += list(e / np.linalg.norm(e, axis=1, keepdims=True))
    return out


detector, embedder = interpreter("face_detection_short_range.tflite"), interpreter("MobileFaceNet.tflite")
paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs
               if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
start, total = time.perf_counter(), 0
for p in paths:
    image = Image.open(p).convert("RGB")
    crops = [crop(image, box) for box in faces(detector, image)]
    total += len(embed(embedder, crops))
print(json.dumps({"photos": len(paths), "faces": total, "seconds": round(time.perf_counter() - start, 2)}))
