#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (Tests/Fuzz/Corpus/<target>/): small valid inputs of every
kind each reader takes. Run from the repository root after `swift build`:

    python3 Tests/Fuzz/make-corpus.py

Uses python3's standard library, the built `glimpse` (JPEG export, model files) and, when
present, cjpeg from libjpeg-turbo-progs (progressive and colour JPEGs). The corpus is committed;
this script documents how it was made.
"""
import bz2, glob, gzip, os, random, shutil, struct, subprocess, tempfile, zlib

ROOT = "Tests/Fuzz/Corpus"
GLIMPSE = ".build/debug/glimpse"
rng = random.Random(0)


def put(target, name, data):
    os.makedirs(f"{ROOT}/{target}", exist_ok=True)
    with open(f"{ROOT}/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# CSV tables: an image table with a label column, pandas' index layout, plain points,
# quoted cells and CRLF, string labels.
def image_table(rows=6, side=4, index=False):
    header = ([""] if index else []) + [f"pixel{i}" for i in range(side * side)] + ["label"]
    lines = [",".join(header)]
    for r in range(rows):
        cells = ([str(r)] if index else []) + [str(rng.randrange(256)) for _ in range(side * side)]
        lines.append(",".join(cells + [str(r % 3)]))
    return "\n".join(lines) + "\n"


tables = {
    "image-4x4.csv": image_table(),
    "pandas-index.csv": image_table(index=True),
    "points.csv": "x,y,label\n0.5,1.25,0\n-1e-3,2,1\n3,4.5e2,0\n7,-8,1\n",
    "quoted-crlf.csv": '"x","y","label"\r\n"1","2","a"\r\n"3","4","b"\r\n"5","6","a"\r\n',
    "float-pixels.csv": "p0,p1,p2,p3,label\n0.0,0.5,1.0,0.25,cat\n1,0,0.75,0.1,dog\n",
}
for name, text in tables.items():
    put("csv", name, text)
    put("csv-gz", name + ".gz", gzip.compress(text.encode(), mtime=0))
    put("csv-bz2", name + ".bz2", bz2.compress(text.encode()))

# Label tables beside a 4-row feature table.
put("labels", "pandas.csv", ",label\n0,1\n1,0\n2,1\n3,0\n")
put("labels", "plain.csv", "label\n3\n5\n3\n5\n")
put("labels", "names.csv", "label\ncat\ndog\ncat\nbird\n")
put("labels", "two-columns.csv", "id,label\n0,a\n1,b\n2,a\n3,b\n")


# IDX: 4 images of 4x4 unsigned bytes, and the same as float32 (type 0x0D).
def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


pixels = bytes(rng.randrange(256) for _ in range(4 * 4 * 4))
put("idx", "images-u8.idx", idx(0x08, [4, 4, 4], pixels))
put("idx", "images-f32.idx", idx(0x0D, [4, 4, 4], b"".join(struct.pack(">f", p / 255) for p in pixels)))
put("idx", "images-2d.idx", idx(0x08, [4, 16], pixels))


# PNG: every colour type and depth libpng reads, interlaced too.
def png(width, height, colour_type, depth, rows, interlace=0, palette=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def rows_of(width, height, bytes_per_pixel):
    return [bytes(rng.randrange(256) for _ in range(width * bytes_per_pixel)) for _ in range(height)]


put("png", "grey8-5x7.png", png(5, 7, 0, 8, rows_of(5, 7, 1)))
put("png", "rgb8-6x4.png", png(6, 4, 2, 8, rows_of(6, 4, 3)))
put("png", "rgba8-3x3.png", png(3, 3, 6, 8, rows_of(3, 3, 4)))
put("png", "greyalpha8-4x2.png", png(4, 2, 4, 8, rows_of(4, 2, 2)))
put("png", "grey16-4x4.png", png(4, 4, 0, 16, rows_of(4, 4, 2)))
put("png", "palette-4x4.png", png(4, 4, 3, 8, [bytes(rng.randrange(4) for _ in range(4)) for _ in range(4)], palette=bytes(range(12))))
put("png", "grey1-8x2.png", png(8, 2, 0, 1, rows_of(1, 2, 1)))
# An interlaced image needs Adam7 passes: the simplest valid one is 1x1.
put("png", "interlaced-1x1.png", png(1, 1, 2, 8, [b"\x10\x20\x30"], interlace=1))

# JPEG and model files come from glimpse itself (and cjpeg when installed).
work = tempfile.mkdtemp()
folder = f"{work}/colour"
for label in ("a", "b"):
    os.makedirs(f"{folder}/{label}", exist_ok=True)
    for k in range(2):
        w, h = 9 + k * 4, 7 + k * 3
        with open(f"{folder}/{label}/{k}.png", "wb") as f:
            f.write(png(w, h, 2, 8, rows_of(w, h, 3)))
subprocess.run([GLIMPSE, "export", folder, "--to", f"{work}/jpeg", "--format", "jpeg", "--size", "12x16"], check=True)
subprocess.run([GLIMPSE, "export", folder, "--to", f"{work}/grey", "--format", "jpeg", "--gray", "--size", "8x8"], check=True)
os.makedirs(f"{ROOT}/jpeg", exist_ok=True)
shutil.copy(sorted(glob.glob(f"{work}/jpeg/a/*.jpg"))[0], f"{ROOT}/jpeg/colour-12x16.jpg")
shutil.copy(sorted(glob.glob(f"{work}/grey/b/*.jpg"))[0], f"{ROOT}/jpeg/grey-8x8.jpg")
if shutil.which("cjpeg"):
    ppm = f"{work}/p.ppm"
    with open(ppm, "wb") as f:
        f.write(b"P6 10 6 255\n" + bytes(rng.randrange(256) for _ in range(10 * 6 * 3)))
    for name, flags in [("progressive-10x6.jpg", ["-progressive"]), ("subsampled-10x6.jpg", ["-sample", "2x2"]), ("restart-10x6.jpg", ["-restart", "1"])]:
        subprocess.run(["cjpeg", *flags, "-outfile", f"{ROOT}/jpeg/{name}", ppm], check=True)

# Models of every family on a tiny image table (small files, so mutations land in every field).
table = f"{work}/train.csv"
with open(table, "w") as f:
    f.write(image_table(rows=12, side=4))
os.makedirs(f"{ROOT}/model", exist_ok=True)
for name, flags in [
    ("svm-rbf", ["--model", "svm"]),
    ("svm-poly", ["--model", "svm", "--kernel", "poly", "--degree", "2"]),
    ("svm-linear", ["--model", "svm", "--kernel", "linear"]),
    ("logistic", ["--model", "logistic"]),
    ("knn", ["--model", "knn", "--k", "3"]),
]:
    subprocess.run([GLIMPSE, "train", table, *flags, "--out", f"{ROOT}/model/{name}.glimpse"], check=True, stdout=subprocess.DEVNULL)
digits = f"{work}/digits.csv"
with open(digits, "w") as f:
    f.write(image_table(rows=8, side=28))
subprocess.run([GLIMPSE, "train", digits, "--model", "cnn", "--architecture", "seed", "--epochs", "1", "--out", f"{ROOT}/model/cnn-seed.glimpse"], check=True, stdout=subprocess.DEVNULL)
# The residual network (images above 32x32): nested layer names, batch-norm statistics, f32 arrays.
larger = f"{work}/larger.csv"
with open(larger, "w") as f:
    f.write(image_table(rows=9, side=36))
subprocess.run([GLIMPSE, "train", larger, "--model", "cnn", "--epochs", "1", "--validation-fraction", "0", "--out", f"{ROOT}/model/cnn-resnet.glimpse"], check=True, stdout=subprocess.DEVNULL)

# Valuation checkpoints of each method that writes one, values CSVs and split files.
points = f"{work}/points.csv"
with open(points, "w") as f:
    f.write("x,y,label\n" + "".join(f"{rng.random():.3f},{rng.random():.3f},{i % 2}\n" for i in range(6)))
os.makedirs(f"{ROOT}/checkpoint", exist_ok=True)
os.makedirs(f"{ROOT}/values", exist_ok=True)
for method, extra in [("tmc", ["--samples", "3"]), ("banzhaf", ["--samples", "6"]), ("classwise", ["--samples", "4"])]:
    out = f"{work}/{method}.csv"
    subprocess.run([GLIMPSE, "value", points, "--valid", points, "--method", method, "--model", "knn", "--k", "1",
                    *extra, "--out", out], check=True, stdout=subprocess.DEVNULL)
    shutil.copy(out + ".checkpoint.json", f"{ROOT}/checkpoint/{method}.json")
    shutil.copy(out, f"{ROOT}/values/{method}.csv")
put("values", "no-index.csv", "value\n0.1\n-0.2\n0\n1e-3\n0.5\n-1\n")
put("values", "shuffled.csv", "index,value\n5,0.1\n0,-0.2\n3,0\n1,1e-3\n2,0.5\n4,-1\n")
put("split", "plain.json", '{"train": [0, 1, 2, 3, 4, 5, 6, 7], "test": [8, 9, 10, 11]}')
put("split", "noisy.json", '{"train": [0, 2, 4, 6], "test": [1, 3, 5], "noisy": {"train_labels_noisy": [1, 0, 1, 1], "train_labels_clean": [0, 0, 1, 1]}}')
put("split", "spaced.json", '{\n  "test": [11],\n  "train": [3, 1]\n}\n')
shutil.rmtree(work)
