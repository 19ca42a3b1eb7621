"""Reference figures for GlimpseAuditTests, computed offline (CI runs no Python).

Run from the repository root with the anchors' virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseAuditTests/Fixtures/scripts/make_fixtures.py

Writes, beside this folder:
  kappa.json           annotator cases with scikit-learn's confusion_matrix and cohen_kappa_score
  near_duplicates.json constructed near-duplicates of 40 of the first 300 digits of
                       samples/mnist (8-bit rows), and the reference shift-minimised distances
                       of an independent numpy implementation for selected pairs
"""
import bz2, io, json, os
import numpy as np
from PIL import Image
from sklearn.metrics import cohen_kappa_score, confusion_matrix

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)


def kappa_cases():
    rng = np.random.default_rng(20)
    cases = []
    # 1: five grades 0-4 on a knee-X-ray-like scale, grade 4 never used by either annotator.
    a = rng.integers(0, 4, 120)
    b = np.clip(a + rng.choice([-2, -1, 0, 0, 0, 1], 120), 0, 3)
    cases.append(("grade 4 declared, never used", [str(x) for x in a], [str(x) for x in b],
                  ["0", "1", "2", "3", "4"]))
    # 2: the sorted union of the classes (no declared scale).
    a = rng.integers(0, 5, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 5, 200))
    cases.append(("sorted union, 5 grades", [str(x) for x in a], [str(x) for x in b], None))
    # 3: text classes, a declared order that is not alphabetical.
    names = ["none", "mild", "severe"]
    a = rng.integers(0, 3, 60)
    b = np.where(rng.random(60) < 0.5, a, rng.integers(0, 3, 60))
    cases.append(("text grades in declared order", [names[x] for x in a], [names[x] for x in b],
                  names))
    out = []
    for title, a, b, labels in cases:
        scale = labels if labels is not None else sorted(set(a) | set(b))
        cm = confusion_matrix(a, b, labels=scale)
        out.append({
            "title": title, "a": a, "b": b, "grades": labels, "classes": scale,
            "crosstab": cm.tolist(),
            "agreement": float(np.trace(cm) / cm.sum()),
            "unweighted": cohen_kappa_score(a, b, labels=scale),
            "linear": cohen_kappa_score(a, b, labels=scale, weights="linear"),
            "quadratic": cohen_kappa_score(a, b, labels=scale, weights="quadratic"),
        })
    return out


# --- near-duplicates: an independent numpy version of the distance GlimpseAudit computes ---
SIDE, SHIFT = 32, 2


def area_matrix(n, side=SIDE):
    """side×n: output cell i averages input [i n/side, (i+1) n/side) with fractional overlaps."""
    m = np.zeros((side, n))
    step = n / side
    for i in range(side):
        lo, hi = i * step, (i + 1) * step
        for k in range(n):
            overlap = min(hi, k + 1) - max(lo, k)
            if overlap > 0:
                m[i, k] = overlap / step
    return m


def canonical(img):  # img: H×W (grey, 0..1)
    h, w = img.shape
    return area_matrix(h) @ img @ area_matrix(w).T


def half_cell_variants(c):
    """c and its copies moved by half a cell right, down, and both (averaging neighbours)."""
    cx = c.copy()
    cx[:, :, 1:] = (c[:, :, 1:] + c[:, :, :-1]) / 2
    cy = c.copy()
    cy[:, 1:, :] = (c[:, 1:, :] + c[:, :-1, :]) / 2
    cxy = cy.copy()
    cxy[:, :, 1:] = (cy[:, :, 1:] + cy[:, :, :-1]) / 2
    return [c, cx, cy, cxy]


def distance_matrix(c):
    """n×n: min over shifts of ±SHIFT cells, and over half-cell copies of either image, of
    1 - Pearson r on the overlap."""
    n = len(c)
    best = np.full((n, n), np.inf)
    for v in half_cell_variants(c):
        for dy in range(-SHIFT, SHIFT + 1):
            for dx in range(-SHIFT, SHIFT + 1):
                ya, yb = max(0, -dy), max(0, dy)
                xa, xb = max(0, -dx), max(0, dx)
                hh, ww = SIDE - abs(dy), SIDE - abs(dx)
                a = c[:, ya:ya + hh, xa:xa + ww].reshape(n, -1)
                b = v[:, yb:yb + hh, xb:xb + ww].reshape(n, -1)
                a = a - a.mean(1, keepdims=True)
                b = b - b.mean(1, keepdims=True)
                na = np.sqrt((a * a).sum(1))
                nb = np.sqrt((b * b).sum(1))
                r = (a @ b.T) / np.outer(na, nb)
                best = np.minimum(best, 1 - r)
    # best[i, j] moved j by half a cell; best[j, i] moved i: the distance takes both.
    return np.minimum(best, best.T)


def near_duplicate_case():
    with bz2.open(os.path.join(OUT, "../../../samples/mnist/mnist-imgs-mini.csv.bz2"), "rt") as f:
        rows = np.loadtxt(f, delimiter=",", skiprows=1, max_rows=300)[:, 1:].astype(np.uint8)
    rng = np.random.default_rng(3)
    sources = rng.choice(300, 40, replace=False)
    made, kinds = [], []
    for position, s in enumerate(sources):
        img = rows[s].reshape(28, 28)
        kind = ["jpeg", "shift", "noise", "bright"][position % 4]
        if kind == "jpeg":
            buf = io.BytesIO()
            Image.fromarray(img, "L").save(buf, "JPEG", quality=75)
            new = np.array(Image.open(io.BytesIO(buf.getvalue())))
        elif kind == "shift":  # 1 px right and down (position 1) or 2 px right (others)
            step = (1, 1) if position % 8 == 1 else (0, 2)
            new = np.zeros_like(img)
            new[step[0]:, step[1]:] = img[:28 - step[0], :28 - step[1]]
        elif kind == "noise":
            new = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).round().astype(np.uint8)
        else:
            new = np.clip(img.astype(float) * 0.9 + 40, 0, 255).round().astype(np.uint8)
        made.append(new.reshape(-1))
        kinds.append(kind)
    allrows = np.vstack([rows, np.array(made)])
    c = np.stack([canonical(r.reshape(28, 28) / 255.0) for r in allrows])
    d = distance_matrix(c)
    iu = np.triu_indices(300, 1)
    natural = np.sort(d[:300, :300][iu])
    constructed = [float(d[s, 300 + k]) for k, s in enumerate(sources)]
    print("constructed distances: max %.4f" % max(constructed), sorted(np.round(constructed, 4)))
    print("closest natural pairs:", np.round(natural[:12], 4))
    pairs = [[int(s), 300 + k, constructed[k]] for k, s in enumerate(sources)]
    for i, j in [(0, 1), (2, 3), (10, 200), (5, 299)]:
        pairs.append([i, j, float(d[i, j])])
    order = np.argsort(d[:300, :300][iu])[:6]  # the closest natural pairs
    for o in order:
        pairs.append([int(iu[0][o]), int(iu[1][o]), float(d[iu[0][o], iu[1][o]])])
    return {
        "note": "rows 0..<300 are the first 300 digits of samples/mnist/mnist-imgs-mini.csv.bz2; "
                "row 300+k is a near-duplicate of sources[k], made as kinds[k]",
        "sources": [int(s) for s in sources], "kinds": kinds,
        "constructed": [r.tolist() for r in made],
        "pairs": pairs,
        "closest_natural": natural[:12].tolist(),
    }


if __name__ == "__main__":
    with open(os.path.join(OUT, "kappa.json"), "w") as f:
        json.dump(kappa_cases(), f)
    with open(os.path.join(OUT, "near_duplicates.json"), "w") as f:
        json.dump(near_duplicate_case(), f)
