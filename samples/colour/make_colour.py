#!/usr/bin/env python3
"""Cuts the colour sample set (samples/colour/<class>/*.png) from four colour photos that
scikit-image's wheel ships in skimage/data (each public domain or CC0; see samples/colour/README.md):
16 random 128x128 RGB crops per photo, each randomly flipped left-right, written as 8-bit RGB PNG.
Run once, offline, from the repository root, with the anchors' virtualenv (it has scikit-image
and Pillow):

    ~/.cache/glimpse-anchors-venv/bin/python samples/colour/make_colour.py

Classes (folder = photo):
  astronaut  skimage.data.astronaut()  512x512, NASA, public domain
  cat        skimage.data.chelsea()    300x451, Stefan van der Walt, CC0
  coffee     skimage.data.coffee()     400x600, Rachel Michetti, CC0
  retina     skimage.data.retina()     1411x1411, Mikael Haggstrom, CC0; shrunk 4x (anti-aliased) to
             353x353 so a crop shows vessels rather than flat colour, and crops are kept inside
             the fundus disc (crop centre within 0.55 radius of the image centre)
Crops of a photo overlap (the photos are small); a crop may show any part of it (the cat's fur or
the background, the cup or the wooden table, the flag or the suit), so the classes overlap in
colour: astronaut, cat and coffee are all orange-brown on average. The script prints how well the
mean colour alone separates them (leave-one-out nearest class mean): 0.812 with seed 0.
"""
import os

import numpy as np
from PIL import Image
from skimage import data, transform

SIZE = 128
PER_CLASS = 16
rng = np.random.default_rng(0)
root = os.path.dirname(os.path.abspath(__file__))
retina = transform.rescale(data.retina(), 0.25, channel_axis=-1, anti_aliasing=True)
photos = {
    "astronaut": data.astronaut(),
    "cat": data.chelsea(),
    "coffee": data.coffee(),
    "retina": np.clip(np.round(retina * 255), 0, 255).astype(np.uint8),
}
means, labels = [], []
for c, (name, photo) in enumerate(photos.items()):
    assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.uint8, name
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    height, width = photo.shape[:2]
    for k in range(PER_CLASS):
        while True:
            y = int(rng.integers(0, height - SIZE + 1))
            x = int(rng.integers(0, width - SIZE + 1))
            if name != "retina" or np.hypot(y + SIZE / 2 - height / 2, x + SIZE / 2 - width / 2) <= 0.55 * height / 2:
                break
        crop = photo[y:y + SIZE, x:x + SIZE]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        Image.fromarray(np.ascontiguousarray(crop), "RGB").save(
            os.path.join(folder, f"{name}-{k:02d}.png"), optimize=True)
        means.append(crop.reshape(-1, 3).mean(0))
        labels.append(c)

means, labels = np.array(means), np.array(labels)
correct = 0
for i in range(len(means)):
    keep = np.arange(len(means)) != i
    centroids = np.array([means[keep & (labels == c)].mean(0) for c in range(len(photos))])
    correct += int(np.argmin(((centroids - means[i]) ** 2).sum(1)) == labels[i])
print(f"{len(means)} crops; mean colour alone, leave-one-out nearest class mean: {correct / len(means):.3f}")
