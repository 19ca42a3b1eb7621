"""Makes segmenter_options.json, the scikit-image fixtures of the segmenters' named options.

Run offline (not in CI), from anywhere, in the anchors virtualenv (scikit-image 0.26, NumPy):

    ~/.cache/glimpse-anchors-venv/bin/python \
        Tests/GlimpseSegmentationTests/Fixtures/scripts/make_slic_option_fixtures.py

Two parts, both with scikit-image's full label maps so the Swift tests can compare partitions:

  ported   scikit-image 0.26's own tests of these options (tests/skimage/segmentation/
           test_slic.py: test_color_2d, test_multichannel_2d, test_gray_2d, test_list_sigma,
           test_spacing, test_enforce_connectivity, test_slic_zero, test_more_segments_than_
           pixels and every *_mask test in 2-D; test_felzenszwalb.py test_grey and
           test_color; test_quickshift.py test_grey), each with the image its RandomState
           draws, the call as keyword arguments, and the labels it returns. The Swift tests
           check the assertions the Python tests make and the whole map.
  own      the options on real pictures: a 64x64 crop of samples/photos/astronaut.png with a
           disc mask, SLICO, spacing and per-axis sigma; a 128x128 crop with a disc mask large
           enough (over 100 pixels per seed) for maskSLIC's subsampled k-means; a digit (from
           slic_digits.json) with a mask as lime's gray2rgb copy and as the 2-D array;
           felzenszwalb with scale=0; quickshift on the 2-D grey array with its tie-breaking
           noise.

felzenszwalb at scale=0 also gets labels_stable_sort: the same call with np.argsort made
stable (see with_stable_argsort), the order our edges are taken in.

Also NumPy's RandomState(123).permutation(20), the draw maskSLIC's seeds start from.
"""
import functools
import json
import os

import numpy as np
import skimage
from PIL import Image
from skimage.color import gray2rgb
from skimage.segmentation import felzenszwalb, quickshift, slic

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.dirname(here)
root = os.path.abspath(os.path.join(fixtures, "../../.."))


def rounded(img):
    """The image the fixture stores and segments: samples rounded to 4 decimals, which keeps
    the file small; the ported tests' assertions hold on it as on the unrounded draw."""
    return np.round(np.asarray(img, dtype=float), 4)


def image_record(img):
    img = np.asarray(img, dtype=float)
    channels = 1 if img.ndim == 2 else img.shape[2]
    return {"height": img.shape[0], "width": img.shape[1], "channels": channels,
            "pixels": img.ravel().tolist()}


def run_lengths(values):
    """[value, length, value, length, ...] of the row-major values."""
    flat = np.asarray(values).astype(int).ravel()
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    lengths = np.diff(np.r_[starts, flat.size])
    return np.column_stack([flat[starts], lengths]).ravel().astype(int).tolist()


labels = run_lengths
mask_record = run_lengths


cases = []


def with_stable_argsort(call):
    """Runs call() with np.argsort forced to a stable sort. felzenszwalb orders its edges with
    np.argsort(costs), NumPy's unstable quicksort, whose order among equal weights depends on
    NumPy's sort kernels (and so on the CPU); with a stable sort ties keep edge order."""
    unstable = np.argsort
    np.argsort = functools.partial(unstable, kind="stable")
    try:
        return call()
    finally:
        np.argsort = unstable


def case(name, kind, img, spec, call, seg, mask=None, noise=None, image_ref=None, stable=None):
    record = {"name": name, "kind": kind, "spec": spec, "call": call, "labels": labels(seg)}
    if stable is not None:
        record["labels_stable_sort"] = labels(stable)
    if image_ref is not None:
        record["image_ref"] = image_ref
    else:
        record["image"] = image_record(img)
    if mask is not None:
        record["mask"] = mask_record(mask)
    if noise is not None:
        record["noise"] = np.asarray(noise).ravel().tolist()
    if image_ref is None:
        assert np.array_equal(record["image"]["pixels"], np.asarray(img, float).ravel())
    cases.append(record)


# --- Ported: test_slic.py (2-D cases), the same RandomState seeds as the Python tests.
def four_colours(seed, shape=(20, 21, 3)):
    rng = np.random.RandomState(seed)
    img = np.zeros(shape)
    img[:10, :10, 0] = 1
    img[10:, :10, 1] = 1
    img[10:, 10:, 2] = 1
    img += 0.01 * rng.normal(size=img.shape)
    return rounded(np.clip(img, 0, 1))


def four_greys(seed, scale=0.0033):
    rng = np.random.RandomState(seed)
    img = np.zeros((20, 21))
    img[:10, :10] = 0.33
    img[10:, :10] = 0.67
    img[10:, 10:] = 1.00
    img += scale * rng.normal(size=img.shape)
    return rounded(np.clip(img, 0, 1))


def eight_channels(seed):
    rng = np.random.RandomState(seed)
    img = np.zeros((20, 20, 8))
    img[:10, :10, 0:2] = 1
    img[:10, 10:, 2:4] = 1
    img[10:, :10, 4:6] = 1
    img[10:, 10:, 6:8] = 1
    img += 0.01 * rng.normal(size=img.shape)
    return rounded(np.clip(img, 0, 1))


frame = np.zeros((20, 21))
frame[2:-2, 2:-2] = 1
frame20 = np.zeros((20, 20))
frame20[2:-2, 2:-2] = 1

img = four_colours(126402278)
case("test_color_2d", "slic", img, "slic:4:sigma=0:enforce_connectivity=0",
     "slic(img, n_segments=4, sigma=0, enforce_connectivity=False)",
     slic(img, n_segments=4, sigma=0, enforce_connectivity=False))
img = eight_channels(2703318940)
case("test_multichannel_2d", "slic", img, "slic:4:enforce_connectivity=0",
     "slic(img, n_segments=4, enforce_connectivity=False)",
     slic(img, n_segments=4, enforce_connectivity=False))
img = four_greys(616301052)
case("test_gray_2d", "slic", img, "slic:4:1:0:10:0:gray2rgb=0",
     "slic(img, sigma=0, n_segments=4, compactness=1, channel_axis=None, convert2lab=False)",
     slic(img, sigma=0, n_segments=4, compactness=1, channel_axis=None, convert2lab=False))
rng = np.random.RandomState(3058889493)
img = rounded(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], float) + 0.1 * rng.normal(size=(2, 6)))
case("test_list_sigma", "slic", img, "slic:2:sigma=50,1:gray2rgb=0",
     "slic(img, n_segments=2, sigma=[1, 50, 1], channel_axis=None)  # z sigma on depth 1",
     slic(img, n_segments=2, sigma=[1, 50, 1], channel_axis=None))
rng = np.random.RandomState(984941720)
img = rounded(np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], float) + 0.1 * rng.normal(size=(2, 5)))
case("test_spacing/non_spaced", "slic", img, "slic:2:1:0:gray2rgb=0",
     "slic(img, n_segments=2, sigma=0, channel_axis=None, compactness=1.0)",
     slic(img, n_segments=2, sigma=0, channel_axis=None, compactness=1.0))
case("test_spacing/spaced", "slic", img, "slic:2:1:0:spacing=500,1:gray2rgb=0",
     "slic(img, n_segments=2, sigma=0, spacing=[500, 1], compactness=1.0, channel_axis=None)",
     slic(img, n_segments=2, sigma=0, spacing=[500, 1], compactness=1.0, channel_axis=None))
img = np.array([[0, 0, 0, 1, 1, 1], [1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0]], float)
for name, spec, kwargs in [
        ("connected", "slic:2:0.0001:0:10:0:gray2rgb=0", {}),
        ("disconnected", "slic:2:0.0001:0:10:0:enforce_connectivity=0:gray2rgb=0",
         {"enforce_connectivity": False}),
        ("connected_low_max", "slic:2:0.0001:0:10:0:max_size_factor=0.8:gray2rgb=0",
         {"max_size_factor": 0.8})]:
    seg = slic(img, 2, compactness=0.0001, convert2lab=False, channel_axis=None, **kwargs)
    case(f"test_enforce_connectivity/{name}", "slic", img, spec,
         f"slic(img, 2, compactness=0.0001, convert2lab=False, channel_axis=None, {kwargs})", seg)
    seg = slic(img, 2, compactness=0.0001, convert2lab=False, channel_axis=None,
               mask=np.pad(np.ones((3, 4)), ((0, 0), (1, 1))), **kwargs)
    case(f"test_enforce_connectivity_mask/{name}", "slic", img, spec,
         f"slic(img, 2, compactness=0.0001, convert2lab=False, channel_axis=None, mask=msk, {kwargs})",
         seg, mask=np.pad(np.ones((3, 4)), ((0, 0), (1, 1))))
img = four_colours(3952143965)
case("test_slic_zero", "slic", img, "slic:4:sigma=0:slic_zero=1",
     "slic(img, n_segments=4, sigma=0, slic_zero=True)",
     slic(img, n_segments=4, sigma=0, slic_zero=True))
img = four_greys(3086985977)
case("test_more_segments_than_pixels", "slic", img, "slic:500:1:0:10:0:gray2rgb=0",
     "slic(img, sigma=0, n_segments=500, compactness=1, channel_axis=None, convert2lab=False)",
     slic(img, sigma=0, n_segments=500, compactness=1, channel_axis=None, convert2lab=False))
img = four_colours(224113544)
case("test_color_2d_mask", "slic", img, "slic:4:sigma=0:enforce_connectivity=0",
     "slic(img, n_segments=4, sigma=0, enforce_connectivity=False, mask=msk)",
     slic(img, n_segments=4, sigma=0, enforce_connectivity=False, mask=frame), mask=frame)
img = eight_channels(224113544)
case("test_multichannel_2d_mask", "slic", img, "slic:4:enforce_connectivity=0",
     "slic(img, n_segments=4, enforce_connectivity=False, mask=msk)",
     slic(img, n_segments=4, enforce_connectivity=False, mask=frame20), mask=frame20)
img = four_greys(2359008598)
case("test_gray_2d_mask", "slic", img, "slic:4:1:0:10:0:gray2rgb=0",
     "slic(img, sigma=0, n_segments=4, compactness=1, channel_axis=None, convert2lab=False, mask=msk)",
     slic(img, sigma=0, n_segments=4, compactness=1, channel_axis=None, convert2lab=False,
          mask=frame), mask=frame)
rng = np.random.RandomState(1430310843)
msk = np.zeros((2, 6))
msk[:, 1:-1] = 1
img = rounded(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], float) + 0.1 * rng.normal(size=(2, 6)))
case("test_list_sigma_mask", "slic", img, "slic:2:sigma=50,1:gray2rgb=0",
     "slic(img, n_segments=2, sigma=[50, 1], channel_axis=None, mask=msk)",
     slic(img, n_segments=2, sigma=[50, 1], channel_axis=None, mask=msk), mask=msk)
rng = np.random.RandomState(0)
msk = np.zeros((2, 5))
msk[:, 1:-1] = 1
img = rounded(np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], float) + 0.1 * rng.normal(size=(2, 5)))
case("test_spacing_mask/non_spaced", "slic", img, "slic:2:1:0:gray2rgb=0",
     "slic(img, n_segments=2, sigma=0, channel_axis=None, compactness=1.0, mask=msk)",
     slic(img, n_segments=2, sigma=0, channel_axis=None, compactness=1.0, mask=msk), mask=msk)
case("test_spacing_mask/spaced", "slic", img, "slic:2:1:0:spacing=50,1:gray2rgb=0",
     "slic(img, n_segments=2, sigma=0, spacing=[50, 1], compactness=1.0, channel_axis=None, mask=msk)",
     slic(img, n_segments=2, sigma=0, spacing=[50, 1], compactness=1.0, channel_axis=None,
          mask=msk), mask=msk)
img = four_colours(285590892)
case("test_slic_zero_mask", "slic", img, "slic:4:sigma=0:slic_zero=1",
     "slic(img, n_segments=4, sigma=0, slic_zero=True, mask=msk)",
     slic(img, n_segments=4, sigma=0, slic_zero=True, mask=frame), mask=frame)
img = four_greys(260753013)
case("test_more_segments_than_pixels_mask", "slic", img, "slic:500:1:0:10:0:gray2rgb=0",
     "slic(img, sigma=0, n_segments=500, compactness=1, channel_axis=None, convert2lab=False, mask=msk)",
     slic(img, sigma=0, n_segments=500, compactness=1, channel_axis=None, convert2lab=False,
          mask=frame), mask=frame)

# --- Ported: test_felzenszwalb.py (test_grey, test_color) and test_quickshift.py (test_grey).
img = np.zeros((20, 21))
img[:10, 10:] = 0.2
img[10:, :10] = 0.4
img[10:, 10:] = 0.6
case("felzenszwalb test_grey", "felzenszwalb", img, "felzenszwalb:1:0:gray2rgb=0",
     "felzenszwalb(img, sigma=0)", felzenszwalb(img, sigma=0, channel_axis=None))
case("felzenszwalb test_grey scale=0", "felzenszwalb", img, "felzenszwalb:0:0:gray2rgb=0",
     "felzenszwalb(img, scale=0, sigma=0)", felzenszwalb(img, scale=0, sigma=0, channel_axis=None),
     stable=with_stable_argsort(lambda: felzenszwalb(img, scale=0, sigma=0, channel_axis=None)))
img = np.zeros((20, 21, 3))
img[:10, :10, 0] = 1
img[10:, :10, 1] = 1
img[10:, 10:, 2] = 1
case("felzenszwalb test_color", "felzenszwalb", img, "felzenszwalb:1:0",
     "felzenszwalb(img, sigma=0)", felzenszwalb(img, sigma=0))
rng = np.random.RandomState(1734481917)
img = np.zeros((20, 21))
img[:10, 10:] = 0.2
img[10:, :10] = 0.4
img[10:, 10:] = 0.6
img = rounded(img + 0.05 * rng.normal(size=img.shape))
case("quickshift test_grey", "quickshift", img, "quickshift:2:3:convert2lab=0:gray2rgb=0",
     "quickshift(img, kernel_size=2, max_dist=3, rng=0, convert2lab=False, sigma=0)",
     quickshift(img, kernel_size=2, max_dist=3, rng=0, convert2lab=False, sigma=0),
     noise=np.random.default_rng(0).normal(scale=0.00001, size=img.shape))

# --- Own: the photo and a digit.
photo = np.asarray(Image.open(os.path.join(root, "samples/photos/astronaut.png")))
crop = photo[100:164, 150:214] / 255.0
yy, xx = np.mgrid[:64, :64]
disc = ((yy - 30) ** 2 + (xx - 34) ** 2 < 26 ** 2).astype(float)
ref = {"photo": [100, 164, 150, 214]}
case("photo mask", "slic", None, "slic:30", "slic(crop, n_segments=30, mask=disc)",
     slic(crop, n_segments=30, mask=disc), mask=disc, image_ref=ref)
case("photo mask slic_zero", "slic", None, "slic:30:slic_zero=1",
     "slic(crop, n_segments=30, slic_zero=True, mask=disc)",
     slic(crop, n_segments=30, slic_zero=True, mask=disc), mask=disc, image_ref=ref)
case("photo slic_zero", "slic", None, "slic:30:slic_zero=1",
     "slic(crop, n_segments=30, slic_zero=True)", slic(crop, n_segments=30, slic_zero=True),
     image_ref=ref)
case("photo spacing", "slic", None, "slic:30:spacing=2,1",
     "slic(crop, n_segments=30, spacing=[2, 1])", slic(crop, n_segments=30, spacing=[2, 1]),
     image_ref=ref)
case("photo spacing sigma", "slic", None, "slic:30:10:1:spacing=2,1",
     "slic(crop, n_segments=30, sigma=1, spacing=[2, 1])",
     slic(crop, n_segments=30, sigma=1, spacing=[2, 1]), image_ref=ref)
case("photo sigma per axis", "slic", None, "slic:30:sigma=2,0.5",
     "slic(crop, n_segments=30, sigma=[2, 0.5])", slic(crop, n_segments=30, sigma=[2, 0.5]),
     image_ref=ref)
case("photo lab default", "slic", None, "slic:30:10",
     "slic(crop, 30, 10)", slic(crop, 30, 10), image_ref=ref)
case("photo felzenszwalb scale 0", "felzenszwalb", None, "felzenszwalb:0",
     "felzenszwalb(crop, scale=0)", felzenszwalb(crop, scale=0), image_ref=ref,
     stable=with_stable_argsort(lambda: felzenszwalb(crop, scale=0)))
case("photo felzenszwalb scale 0 min_size 5", "felzenszwalb", None, "felzenszwalb:0:0.8:5",
     "felzenszwalb(crop, scale=0, min_size=5)", felzenszwalb(crop, scale=0, min_size=5),
     image_ref=ref, stable=with_stable_argsort(lambda: felzenszwalb(crop, scale=0, min_size=5)))
big = photo[100:228, 150:278] / 255.0
yy, xx = np.mgrid[:128, :128]
big_disc = ((yy - 64) ** 2 + (xx - 60) ** 2 < 50 ** 2).astype(float)
case("photo mask subsampled", "slic", None, "slic:20",
     "slic(crop128, n_segments=20, mask=disc)  # 7.8k pixels > 100 per seed",
     slic(big, n_segments=20, mask=big_disc), mask=big_disc,
     image_ref={"photo": [100, 228, 150, 278]})

digit_fixture = json.load(open(os.path.join(fixtures, "slic_digits.json")))
digit = np.array(digit_fixture["digits"][0]["bytes"], float).reshape(28, 28) / 255.0
dmask = np.zeros((28, 28))
dmask[4:24, 6:22] = 1
ref = {"digit": 0}
case("digit mask gray2rgb", "slic", None, "slic:25:0.1:0:10:0",
     "slic(gray2rgb(digit), n_segments=25, compactness=0.1, convert2lab=False, mask=m)",
     slic(gray2rgb(digit), n_segments=25, compactness=0.1, convert2lab=False, mask=dmask),
     mask=dmask, image_ref=ref)
case("digit mask gray2d", "slic", None, "slic:25:0.1:gray2rgb=0",
     "slic(digit, n_segments=25, compactness=0.1, channel_axis=None, mask=m)",
     slic(digit, n_segments=25, compactness=0.1, channel_axis=None, mask=dmask),
     mask=dmask, image_ref=ref)
case("digit felzenszwalb scale 0", "felzenszwalb", None, "felzenszwalb:0",
     "felzenszwalb(gray2rgb(digit), scale=0)", felzenszwalb(gray2rgb(digit), scale=0),
     image_ref=ref, stable=with_stable_argsort(lambda: felzenszwalb(gray2rgb(digit), scale=0)))
case("digit quickshift gray2d", "quickshift", None, "quickshift:3:6:0.5:convert2lab=0:gray2rgb=0",
     "quickshift(digit, kernel_size=3, max_dist=6, ratio=0.5, convert2lab=False)  # (28, 28, 1)",
     quickshift(digit, kernel_size=3, max_dist=6, ratio=0.5, convert2lab=False),
     noise=np.random.default_rng(42).normal(scale=0.00001, size=(28, 28)), image_ref=ref)

path = os.path.join(fixtures, "segmenter_options.json")
with open(path, "w") as fh:
    json.dump({"skimage": skimage.__version__,
               "permutation123": np.random.RandomState(123).permutation(20).tolist(),
               "cases": cases}, fh, separators=(",", ":"))
print(f"{path}: {os.path.getsize(path)} bytes, {len(cases)} cases")
