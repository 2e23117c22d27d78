"""Compare two anti-spoofing models on real images: fr_liveness.onnx (as localface runs it) and
FaceAntiSpoofing.tflite (run here in ai-edge-litert the way its original Android app does).

Run from the project root, after building localface (target/release/localface):

    .venv/bin/python scripts/compare-antispoofing.py [IMAGE_OR_FOLDER ...]

Default images: ../shared/data/spoof/*.jpg and every photo under ../shared/data/faces/.

Faces, boxes and fr_liveness's score come from `localface liveness` (score = P(live), live if >= 0.5).
FaceAntiSpoofing follows syaringan357/Android-MobileFaceNet-MTCNN-FaceAntiSpoofing (MainActivity.faceCrop and
antiSpoofing, FaceAntiSpoofing.java, Box.java, Align.java): the photo is turned so that the eyes are level
(Align.face_align, from `localface detect`'s eye landmarks), the face is detected again on the turned photo,
its box made square and shifted inside the photo, cropped, resized to 256x256 (bilinear), RGB / 255;
score = sum(|clss_pred[i]| * leaf_node_mask[i]) (outputs Identity, Identity_1). Live if the crop is sharp
enough (Laplacian count >= 1000) and score < 0.2; above the threshold means an attack.
localface gives boxes in the EXIF-rotated frame, so photos are opened with ImageOps.exif_transpose.
"""
import glob, json, math, os, statistics, subprocess, sys, tempfile
import numpy as np
from PIL import Image, ImageOps
from ai_edge_litert.interpreter import Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/localface")
MODELS = os.path.join(ROOT, "models")
DATA = os.path.join(ROOT, "..", "shared", "data")
FAS_THRESHOLD, LAPLACIAN_THRESHOLD, LAPLACE_THRESHOLD = 0.2, 1000, 50
SPOOF_TRUTH = {"image_F1.jpg": "attack", "image_F2.jpg": "attack", "image_T1.jpg": "live"}


def localface(command, paths):
    """One run of the binary over all paths; one JSON object per image, in input order."""
    out = subprocess.run([BIN, command, "--models", MODELS, "--backend", "cpu", "--threads", "1", *paths],
                         capture_output=True, text=True)
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    if len(lines) != len(paths):
        sys.exit(f"localface {command}: {len(lines)} lines for {len(paths)} images\n{out.stderr}")
    return lines


def centre(box):
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def nearest(faces, point):
    return min(faces, key=lambda f: math.dist(centre(f["box"]), point)) if faces else None


def rotate(img, eyes):
    """Align.face_align: turn the whole photo by the eye angle (bounding canvas, black fill)."""
    (lx, ly), (rx, ry) = eyes
    angle = 0.0 if abs(ry - ly) < 1e-7 else math.degrees(math.atan((ry - ly) / (rx - lx)))
    out = img.rotate(angle, resample=Image.BILINEAR, expand=True)  # PIL: counter-clockwise, as setRotate(-angle)
    t = math.radians(angle)
    def move(x, y):
        dx, dy = x - img.width / 2, y - img.height / 2
        return (out.width / 2 + dx * math.cos(t) + dy * math.sin(t),
                out.height / 2 - dx * math.sin(t) + dy * math.cos(t))
    return out, move


def square_crop(img, box):
    """Box.toSquareShape, Box.limitSquare, MyUtil.crop (box as [x, y, w, h] floats)."""
    x1, y1, x2, y2 = box[0], box[1], box[0] + box[2], box[1] + box[3]
    w, h = x2 - x1, y2 - y1
    if w > h: y1, y2 = y1 - (w - h) / 2, y2 + (w - h) / 2
    else: x1, x2 = x1 - (h - w) / 2, x2 + (h - w) / 2
    if x1 < 0 or y1 < 0:
        d = max(-x1, -y1); x1, y1, x2, y2 = x1 + d, y1 + d, x2 + d, y2 + d
    if x2 >= img.width or y2 >= img.height:
        d = max(x2 - img.width + 1, y2 - img.height + 1); x1, y1, x2, y2 = x1 - d, y1 - d, x2 - d, y2 - d
    return img.crop(tuple(round(v) for v in (x1, y1, x2, y2)))


def laplacian(crop):
    """FaceAntiSpoofing.laplacian: count of 4-neighbour Laplacian responses > 50 on the 256x256 grey crop."""
    a = np.asarray(crop.resize((256, 256), Image.BILINEAR), dtype=np.float32)
    g = (a[..., 0] * 0.3 + a[..., 1] * 0.59 + a[..., 2] * 0.11).astype(np.int32)
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return int((lap > LAPLACE_THRESHOLD).sum())


def fas_score(interp, crop):
    x = np.asarray(crop.resize((256, 256), Image.BILINEAR), dtype=np.float32)[None] / 255.0
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    out = {d["name"]: interp.get_tensor(d["index"])[0] for d in interp.get_output_details()}
    return float(np.sum(np.abs(out["Identity"]) * out["Identity_1"]))  # clss_pred, leaf_node_mask


def main():
    args = sys.argv[1:] or [os.path.join(DATA, "spoof"), os.path.join(DATA, "faces")]
    paths = []
    for a in args:
        found = glob.glob(os.path.join(a, "**", "*"), recursive=True) if os.path.isdir(a) else [a]
        paths += sorted(p for p in found if p.lower().endswith((".jpg", ".jpeg", ".png", ".webp")))
    live_lines, det_lines = localface("liveness", paths), localface("detect", paths)
    interp = Interpreter(model_path=os.path.join(MODELS, "FaceAntiSpoofing.tflite"))
    interp.allocate_tensors()
    rows, jobs = [], []  # jobs: (row, turned photo, where the face's centre went)
    with tempfile.TemporaryDirectory() as tmp:
        for path, lv, dt in zip(paths, live_lines, det_lines):
            img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
            if not lv["faces"]:
                print(f"{os.path.relpath(path, DATA)}: no face")
            for i, face in enumerate(lv["faces"]):
                eyes = nearest(dt["faces"], centre(face["box"]))["landmarks"][:2]
                turned, move = rotate(img, eyes)
                tpath = os.path.join(tmp, f"{len(jobs)}.png")
                turned.save(tpath, compress_level=1)
                row = dict(image=os.path.relpath(path, DATA), face=i, box=face["box"], fr=face["score"], fr_live=face["live"])
                rows.append(row); jobs.append((row, tpath, turned, move(*centre(face["box"])), face["box"]))
        for (row, tpath, turned, c, box), redo in zip(jobs, localface("liveness", [j[1] for j in jobs])):
            again = nearest(redo["faces"], c)
            if again is None or math.dist(centre(again["box"]), c) > box[2] / 2:  # not found again: keep the old box
                again, row["redetected"] = {"box": [c[0] - box[2] / 2, c[1] - box[3] / 2, box[2], box[3]]}, False
            crop = square_crop(turned, again["box"])
            row["lap"], row["fas"] = laplacian(crop), fas_score(interp, crop)
            row["fas_live"] = row["lap"] >= LAPLACIAN_THRESHOLD and row["fas"] < FAS_THRESHOLD
    for r in rows:
        print(f"{r['image']} #{r['face']} box={[round(v) for v in r['box']]}  fr_liveness P(live)={r['fr']:.4f} "
              f"{'live' if r['fr_live'] else 'spoof'}  |  FaceAntiSpoofing attack score={r['fas']:.4f} "
              f"laplacian={r['lap']} {'live' if r['fas_live'] else 'spoof'}" + ("" if r.get("redetected", True) else "  (not re-detected)"))
    print("\n== spoof samples (fr_liveness: live if P(live) >= 0.5; FaceAntiSpoofing: live if laplacian >= 1000 and score < 0.2)")
    for name, truth in SPOOF_TRUTH.items():
        for r in (r for r in rows if r["image"] == os.path.join("spoof", name)):
            fr, fa = "live" if r["fr_live"] else "attack", "live" if r["fas_live"] else "attack"
            print(f"{name} ({truth}): fr_liveness {r['fr']:.4f} {fr} [{'right' if fr == truth else 'WRONG'}]; "
                  f"FaceAntiSpoofing {r['fas']:.4f} (laplacian {r['lap']}) {fa} [{'right' if fa == truth else 'WRONG'}]")
    faces = [r for r in rows if r["image"].startswith("faces" + os.sep)]
    if faces:
        n_img = sum(1 for p in paths if os.path.relpath(p, DATA).startswith("faces" + os.sep))
        print(f"\n== shared photos: {len(faces)} faces in {n_img} photos (all genuine people, but photos of photos to a camera-texture model)")
        print(f"fr_liveness:      {sum(r['fr_live'] for r in faces)}/{len(faces)} live, median P(live) {statistics.median(r['fr'] for r in faces):.4f}")
        print(f"FaceAntiSpoofing: {sum(r['fas_live'] for r in faces)}/{len(faces)} live, median attack score "
              f"{statistics.median(r['fas'] for r in faces):.4f}; {sum(r['fas'] < FAS_THRESHOLD for r in faces)} under 0.2, "
              f"{sum(r['lap'] < LAPLACIAN_THRESHOLD for r in faces)} too blurred (laplacian < 1000)")


if __name__ == "__main__":
    main()
