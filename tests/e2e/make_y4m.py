#!/usr/bin/env python3
"""Makes a .y4m video for Chromium's fake camera from photos: each photo letterboxed to 640x480 and held
for FRAMES frames, at 30 fps, 4:2:0. After a photo's path:
  :N      hold it N frames;
  @G      multiply its pixels by G, as a darker room would;
  %R      blur it (Gaussian, radius R pixels of the photo as shown), as a camera out of focus would;
  ~pan    move it across the frame while zooming in (from 0.8 to 1.2 times its letterboxed size, left to
          right), so that the face moves as a person walking past would;
  ~mirror show it mirrored left to right (the same person, the head turned the other way).

Usage: make_y4m.py OUT.y4m FRAMES PHOTO[:N][@G][%R][~pan|~mirror]...
"""
import sys

import numpy as np
from PIL import Image, ImageFilter, ImageOps

W, H = 640, 480
out, frames, photos = sys.argv[1], int(sys.argv[2]), sys.argv[3:]


def yuv420(img):
    rgb = np.asarray(img, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # BT.601, studio range, as Chromium's y4m reader expects.
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    sub = lambda c: c.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
    planes = [y, sub(u), sub(v)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)




def shown(img, zoom=1.0, shift=0.0):
    """The photo letterboxed onto the frame, scaled by `zoom` and moved right by `shift` of the frame's width."""
    scale = min(W / img.width, H / img.height) * zoom
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    canvas = Image.new("RGB", (W, H), (40, 40, 40))
    canvas.paste(img.resize(size, Image.BILINEAR), (round((W - size[0]) / 2 + shift * W), (H - size[1]) // 2))
    return canvas


with open(out, "wb") as f:
    f.write(f"YUV4MPEG2 W{W} H{H} F30:1 Ip A1:1 C420jpeg\n".encode())
    for spec in photos:
        spec, _, motion = spec.partition("~")
        pan = motion == "pan"
        spec, _, blur = spec.partition("%")
        spec, _, gain = spec.partition("@")
        path, _, hold = spec.partition(":")
        img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        if motion == "mirror":
            img = ImageOps.mirror(img)
        if gain:
            img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) * float(gain), 0, 255).astype(np.uint8))
        if blur:
            # The radius is in the shown photo's pixels: scale it to the photo's own.
            img = img.filter(ImageFilter.GaussianBlur(float(blur) / min(W / img.width, H / img.height)))
        count = int(hold) if hold else frames
        still = None if pan else yuv420(shown(img))
        for k in range(count):
            t = k / max(1, count - 1)
            f.write(b"FRAME\n")
            f.write(still if still is not None else yuv420(shown(img, 0.8 + 0.4 * t, -0.2 + 0.4 * t)))
