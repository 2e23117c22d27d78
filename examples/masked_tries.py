"""The README's "Tried and not adopted" (masks and glasses), from the lines `examples/masked_tries.rs` prints.

Probes are every photo but each person's first, clean, masked and with glasses; enrolment is the first photo
(the `occlusion` example's protocol). A face counts as found when a detection overlaps the photo's main face
and passes the product's rule (BlazeFace at least 0.5, and 0.8 or O-Net at least 0.7). Margins for the
occluded templates are set as the product sets them: just above every different-person similarity.
    python3 examples/masked_tries.py /tmp/masked.jsonl
"""
import json
import sys

import numpy as np

THRESHOLD = 0.5
KINDS = ["clean", "mask", "sunglasses"]
TEMPLATES = ["Shot", "Masked", "Sunglasses"]
lines = [json.loads(line) for line in open(sys.argv[1])]
people = {}
for r in lines:
    if r["kind"] == "clean":
        people.setdefault(r["person"], []).append(r["path"])


def iou(a, b):
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def product_rule(d):
    return d["score"] >= 0.5 and (d["score"] >= 0.8 or d["onet"] >= 0.7)


def second_look_rule(d):
    return product_rule(d) or (d["score"] >= 0.5 and d["again"] >= 0.6)


def main_detection(r, rule=lambda d: True):
    """The best-scoring detection on the photo's main face that `rule` keeps, or None."""
    on_face = [d for d in r["detections"] if iou(d["bbox"], r["main_box"]) > 0.3 and rule(d)]
    return max(on_face, key=lambda d: d["score"]) if on_face else None


def enrolments(shots):
    """Each person's templates from their first `shots` photos: name -> kind -> list of vectors."""
    out = {}
    for r in lines:
        if r["path"] not in people[r["person"]][:shots]:
            continue
        t = out.setdefault(r["person"], {})
        if r["kind"] == "clean":
            for v in r["templates"]:
                t.setdefault(v["kind"], []).append(np.array(v["emb"]))
        elif d := main_detection(r):
            t.setdefault(r["kind"] + "Path", []).append(np.array(d["emb"]["onet"]))
    return out


def probes(shots, rule, variant="onet"):
    """(person, kind, embedding or None when not found) for every photo after the first `shots`."""
    out = []
    for r in lines:
        if r["path"] in people[r["person"]][:shots]:
            continue
        d = main_detection(r, rule)
        out.append((r["person"], r["kind"], np.array(d["emb"][variant]) if d else None))
    return out


def best(e, vectors):
    return max(float(e @ v) for v in vectors)


def tally(label, shots=1, rule=product_rule, templates=TEMPLATES):
    gallery, found = enrolments(shots), probes(shots, rule)
    margins = {}
    for t in templates:
        highest = max(best(e, gallery[q][t]) for p, _, e in found if e is not None for q in gallery if q != p)
        margins[t] = 0.0 if t == "Shot" else max(0.0, highest - THRESHOLD + 0.005)

    def score(e, q):
        return max(best(e, gallery[q][t]) - margins[t] for t in templates)

    cells = []
    for kind in KINDS:
        ps = [x for x in found if x[1] == kind]
        hits = sum(1 for p, _, e in ps if e is not None and score(e, p) >= THRESHOLD)
        fa = sum(1 for p, _, e in ps if e is not None for q in gallery if q != p and score(e, q) >= THRESHOLD)
        pairs = sum(len(gallery) - 1 for _, _, e in ps if e is not None)
        n_found = sum(e is not None for _, _, e in ps)
        cells.append(f"{kind} found {n_found}/{len(ps)} accepted {hits} ({hits / len(ps):.0%}), {fa} of {pairs} false")
    print(f"{label:44s}", " | ".join(cells))


def false_detections(rule):
    return sum(1 for r in lines for d in r["detections"] if iou(d["bbox"], r["main_box"]) <= 0.3 and rule(d))


def landmark_errors():
    clean = {r["path"]: main_detection(r) for r in lines if r["kind"] == "clean"}
    for kind in KINDS[1:]:
        for source in ["five", "five68"]:
            errors = []
            for r in lines:
                d, c = main_detection(r), clean[r["path"]]
                if r["kind"] != kind or d is None or c is None:
                    continue
                truth = np.array(c["five"])
                errors.append(np.linalg.norm(np.array(d[source]) - truth, axis=1) / np.linalg.norm(truth[0] - truth[1]))
            name = "O-Net" if source == "five" else "fr_landmark"
            print(f"  {kind:10s} {name:11s} eyes, nose, mouth corners:", np.round(np.median(errors, axis=0), 2))


def above_strangers(template, variant, shots=1):
    """Masked faces found at BlazeFace 0.2 whose similarity to their person's `template` beats every
    different-person similarity to that template."""
    gallery = enrolments(shots)
    found = [(p, e) for p, k, e in probes(shots, lambda d: True, variant) if k == "mask" and e is not None]
    same = [best(e, gallery[p][template]) for p, e in found]
    highest = max(best(e, gallery[q][template]) for p, e in found for q in gallery if q != p)
    return sum(s > highest for s in same), len(found)


def gap_rule(th, gap):
    gallery, found = enrolments(1), probes(1, product_rule)
    accepted, strangers = 0, 0
    for p, k, e in found:
        if k != "mask" or e is None:
            continue
        ranked = sorted(((max(best(e, gallery[q][t]) for t in TEMPLATES), q) for q in gallery), reverse=True)
        accepted += ranked[0][1] == p and ranked[0][0] >= th and ranked[0][0] - ranked[1][0] >= gap
        others = [x for x in ranked if x[1] != p]
        strangers += others[0][0] >= th and others[0][0] - others[1][0] >= gap
    return accepted, strangers


print("1. A second look instead of O-Net alone for weak detections")
tally("product rule")
tally("second look", rule=second_look_rule)
print(f"   false detections in all copies: product rule {false_detections(product_rule)},"
      f" second look {false_detections(second_look_rule)}")
print("2. Alignment: landmark error on occluded copies over the eye distance (median), against O-Net on the clean photo")
landmark_errors()
for variant in ["onet", "eyes", "blazeface", "blazeface_eyes", "oracle"]:
    n, of = above_strangers("Masked", variant)
    print(f"   aligned by {variant:15s} masked faces above every stranger on the masked template: {n}/{of}")
print("3. Masked templates made the probe's way")
n, of = above_strangers("maskPath", "onet")
print(f"   above every stranger: {n}/{of}")
tally("with the probe's-way templates", templates=TEMPLATES + ["maskPath"])
tally("... and the second look", rule=second_look_rule, templates=TEMPLATES + ["maskPath"])
print("4. A gap to the second-best person (masked attempts accepted, strangers named)")
for th in [0.40, 0.45, 0.50]:
    print(f"   best >= {th:.2f}:", ", ".join(f"gap {g:.2f}: {gap_rule(th, g)}" for g in [0.0, 0.05, 0.10, 0.15]))
print("5. More enrolment shots")
for shots in [1, 2, 3]:
    tally(f"enrolled from {shots} photo(s)", shots=shots)
