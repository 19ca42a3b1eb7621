#!/usr/bin/env python3
"""Cuts the texture sample set (samples/textures/<class>/*.png) from scikit-image's bundled
brick, grass and gravel photos (512x512 grey, each CC0; see samples/README credits): 24 random
224x224 crops per texture, each randomly flipped, written as 8-bit grey PNG. Run once, offline,
with the anchors' virtualenv (it has scikit-image):

    ~/.cache/glimpse-anchors-venv/bin/python samples/textures/make_textures.py
"""
import os
import numpy as np
from skimage import data, io

rng = np.random.default_rng(0)
root = os.path.dirname(os.path.abspath(__file__))
for name in ["brick", "grass", "gravel"]:
    image = getattr(data, name)()
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    for k in range(24):
        y, x = rng.integers(0, image.shape[0] - 224 + 1, size=2)
        crop = image[y:y + 224, x:x + 224]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if rng.random() < 0.5:
            crop = crop[::-1, :]
        io.imsave(os.path.join(folder, f"{name}-{k:02d}.png"), np.ascontiguousarray(crop), check_contrast=False)
