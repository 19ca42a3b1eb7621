"""Writes COUNT colour 224x224 PNGs, augmented from the bundled samples, as an image folder.

Used by `.ci/bench-memory` (issue #16, item 3: peak memory on 10 000 images of 224x224x3).
Sources: samples/photos/astronaut.png (512x512 RGB) and the grey texture patches of
samples/textures/<class>/*.png (224x224). Each image is a random crop (scaled to 224x224 by
nearest-neighbour sampling), a horizontal flip half the time, and a colour jitter (a gain per
channel, a brightness offset; grey textures get a random tint so that every image is RGB).
Classes are the sources: photo, brick, grass, gravel. Seeded: the same COUNT gives the same
files. Needs numpy (PNG decoding and encoding use only zlib from the standard library).

usage: python3 bench_memory_images.py SAMPLES OUT COUNT [SEED]
"""

import os
import struct
import sys
import zlib
from multiprocessing import Pool

import numpy as np

SIZE = 224


def read_png(path):
    """An 8-bit, non-interlaced grey or RGB(A) PNG as a uint8 array [H, W, C]."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    offset, idat = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert depth == 8 and interlace == 0, f"{path}: only 8-bit non-interlaced PNGs"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) & 0xFF
        else:  # Sub, Average, Paeth depend on the left neighbour: one pixel at a time.
            row = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = row[x - channels] if x >= channels else 0
                b = previous[x]
                c = previous[x - channels] if x >= channels else 0
                if kind == 1:
                    predictor = a
                elif kind == 3:
                    predictor = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[x] = (line[x] + predictor) & 0xFF
        out[y] = row
        previous = row
    return out.astype(np.uint8).reshape(height, width, channels)


def write_png(path, image):
    """A uint8 [H, W, 3] array as an RGB PNG (filter 0, zlib level 1)."""
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b"")
    temporary = path + ".part"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


SOURCES = {}


def load(samples):
    photo = read_png(os.path.join(samples, "photos", "astronaut.png"))[:, :, :3]
    SOURCES["photo"] = [photo]
    for name in ("brick", "grass", "gravel"):
        folder = os.path.join(samples, "textures", name)
        SOURCES[name] = [read_png(os.path.join(folder, f))[:, :, :1] for f in sorted(os.listdir(folder)) if f.endswith(".png")]


def augmented(index, seed):
    rng = np.random.default_rng([seed, index])
    classes = ("photo", "brick", "grass", "gravel")
    name = classes[index % len(classes)]
    source = SOURCES[name][rng.integers(len(SOURCES[name]))].astype(np.float32)
    height, width, channels = source.shape
    side = int(rng.integers(min(height, width) * 3 // 5, min(height, width) + 1))
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    picks = top + (np.arange(SIZE) * side) // SIZE, left + (np.arange(SIZE) * side) // SIZE
    image = source[picks[0]][:, picks[1]]
    if rng.random() < 0.5:
        image = image[:, ::-1]
    if channels == 1:
        image = image * rng.uniform(0.7, 1.0, size=3)  # a tint
    image = image * rng.uniform(0.8, 1.2, size=3) + rng.uniform(-20, 20)
    return name, np.clip(np.rint(image), 0, 255).astype(np.uint8)


def write(job):
    index, out, seed = job
    name, image = augmented(index, seed)
    write_png(os.path.join(out, name, f"{index:05d}.png"), image)


def main():
    samples, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    load(samples)
    for name in SOURCES:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    # Workers are forked after `load`: they share the decoded sources.
    with Pool(min(2, os.cpu_count() or 1)) as pool:
        pool.map(write, [(index, out, seed) for index in range(count)], chunksize=64)


if __name__ == "__main__":
    main()
