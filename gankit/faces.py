"""Face images for the DCGAN notebook: CelebA, LFW, or the tiny LFW crops that ship offline.

Every image is prepared the way the PyTorch DCGAN tutorial (after Radford et al. 2016) prepares
CelebA: scale the shorter side to S (bilinear, antialiased), crop the centre S×S, keep RGB. The
result is one uint8 tensor (N, C, S, S) in an `InMemoryData`, batched by index like MNIST.

Sources, best first (see data/README.md):
  CelebA  (Liu et al. 2015) 202,599 aligned celebrity faces with 40 binary attributes, when
          `<data_dir>/celeba/` holds them; decoded once and cached next to the images.
  LFW     (Huang et al. 2007) ~13,000 funneled face photos, through scikit-learn's fetcher.
  offline the 100 LFW face crops (25×25, grayscale) that scikit-image ships.
"""
from __future__ import annotations

import functools
import os
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from gankit.data import (AUTO_TIMEOUT_S, FULL_TIMEOUT_S, InMemoryData, _say, default_data_dir,
                         resolve_data_source, short_reason, socket_timeout)
from gankit.io import atomic_save
from gankit.models import check_image_size
from gankit.validate import check_count

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
# sklearn's default LFW face box is rows 70:195, cols 78:172 of the 250×250 funneled photos;
# widened to a 125×125 square around the same centre so faces keep their aspect ratio.
LFW_FACE_BOX = (slice(70, 195), slice(62, 187))
LFW_FACE_PIXELS = 125


class CelebALayoutError(RuntimeError):
    """`<data_dir>/celeba` exists but is not laid out as torchvision and the DCGAN tutorial use."""


# --- checking parameters -------------------------------------------------------------------------

def check_max_images(max_images) -> Optional[int]:
    """None (all images) or a positive integer."""
    if max_images is not None:
        check_count("max_images", max_images)
        max_images = int(max_images)
    return max_images


# --- decoding images -----------------------------------------------------------------------------

def decode_image(path, image_size: int) -> np.ndarray:
    """One image file -> uint8 (3, S, S), exactly as the DCGAN tutorial's
    `Compose([Resize(S), CenterCrop(S)])` does it (tested against torchvision's transforms)."""
    try:
        with Image.open(path) as img:
            img = TF.resize(img.convert("RGB"), image_size)   # shorter side -> S, bilinear, antialiased
            img = TF.center_crop(img, image_size)             # (S, S), centre kept
            return np.asarray(img).transpose(2, 0, 1).copy()  # (S, S, 3) -> (3, S, S)
    except (OSError, SyntaxError, ValueError) as error:       # Pillow: unidentified, truncated
        reason = short_reason(error).replace(f" '{path}'", "")     # the path is said once
        raise ValueError(f"{path} is not a readable image ({reason}): download it "
                         "again, or delete it") from None


def decode_images(paths: list, image_size: int, chunk: int = 4096) -> torch.Tensor:
    """All `paths` -> uint8 (N, 3, S, S), decoded by a few threads.

    Threads suffice because Pillow releases the GIL while it decodes and resamples, and unlike
    processes they need no picklable state and behave the same in notebooks on every OS.
    """
    x = torch.empty((len(paths), 3, image_size, image_size), dtype=torch.uint8)
    decode = functools.partial(decode_image, image_size=image_size)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(paths), chunk):   # chunks bound the results waiting in memory
            batch = paths[start:start + chunk]
            for i, img in enumerate(pool.map(decode, batch)):
                x[start + i] = torch.from_numpy(img)
    return x


def square_resize(images: torch.Tensor, image_size: int, chunk: int = 1024) -> torch.Tensor:
    """uint8 or [0, 1] float images (N, C, H, W) -> uint8 (N, C, S, S): centre square, then resize.

    Works in chunks so that 13,000 LFW faces never exist as one big float tensor.
    """
    side = min(images.shape[-2:])
    out = torch.empty((len(images), images.shape[1], image_size, image_size), dtype=torch.uint8)
    for start in range(0, len(images), chunk):
        x = images[start:start + chunk].float()
        if images.dtype != torch.uint8:
            x = x * 255.0                                  # [0, 1] -> [0, 255]
        x = TF.center_crop(x, [side, side])               # (n, C, side, side)
        if side != image_size:
            x = TF.resize(x, [image_size, image_size], antialias=True)   # bilinear
        out[start:start + chunk] = x.round_().clamp_(0, 255).to(torch.uint8)
    return out


# --- CelebA --------------------------------------------------------------------------------------

def celeba_layout_help(celeba_dir: Path) -> str:
    """The expected layout of CelebA and where to get it, for every message about a bad layout."""
    return (f"Expected {celeba_dir / 'img_align_celeba'}/000001.jpg ... 202599.jpg and "
            f"{celeba_dir / 'list_attr_celeba.txt'}. Get img_align_celeba.zip and "
            f"list_attr_celeba.txt from {CELEBA_PAGE}; the Google-Drive links (and torchvision's "
            f"download=True) often fail with 'quota exceeded': download both in a browser, "
            f"unzip img_align_celeba.zip into {celeba_dir}/ and put list_attr_celeba.txt "
            f"beside it.")


def celeba_layout_problem(celeba_dir: Path) -> Optional[str]:
    """What is wrong with `celeba_dir`, in one sentence, or None when it is usable."""
    images = celeba_dir / "img_align_celeba"
    if not images.is_dir():
        archive = celeba_dir / "img_align_celeba.zip"
        if archive.is_file():
            return _zip_problem(archive) or f"{archive.name} is still zipped: unzip it into {celeba_dir}/"
        if any(celeba_dir.glob("*.jpg")):
            return f"the .jpg files lie directly in {celeba_dir}, not in {images}"
        return f"{images} is missing"
    n_jpg = sum(1 for _ in images.glob("*.jpg"))
    if n_jpg == 0:
        if any((images / "img_align_celeba").glob("*.jpg")):
            return (f"the images are one folder too deep, in {images / 'img_align_celeba'}: "
                    f"move them up one level")
        return f"{images} holds no .jpg files"
    attr_file = celeba_dir / "list_attr_celeba.txt"
    if not attr_file.is_file():
        if (celeba_dir / "Anno" / "list_attr_celeba.txt").is_file():
            return f"list_attr_celeba.txt is in {celeba_dir / 'Anno'}: move it up to {celeba_dir}"
        return f"{attr_file} is missing"
    with open(attr_file) as f:
        first_line = f.readline().strip()
    if first_line != str(n_jpg):
        return (f"{attr_file.name} describes {first_line!r} images but {images} holds "
                f"{n_jpg:,} .jpg files (an incomplete download or unzip?)")
    return None


def _zip_problem(archive: Path) -> Optional[str]:
    """Why `archive` is not a zip at all (Google Drive's quota page saved under its name), or None."""
    if zipfile.is_zipfile(archive):
        return None
    with open(archive, "rb") as f:
        head = f.read(512).lower()
    if b"<html" in head or b"<!doctype html" in head:
        return (f"{archive.name} is a web page, not a zip: Google Drive's quota (or sign-in) page "
                "was saved instead of the file; delete it and download the zip again in a browser")
    return f"{archive.name} is not a zip archive (an interrupted download?): download it again"


def read_celeba_attributes(attr_file: Path, names: list) -> tuple:
    """(attribute names, uint8 (len(names), A) in {0, 1}) for the image files `names`, in order.

    The file has a count, a line of A = 40 names, then one line `000001.jpg 1 -1 ...` per image
    with values ±1; rows are matched to files by name, so row order does not matter.
    """
    with open(attr_file) as f:
        lines = f.read().splitlines()
    attribute_names = tuple(lines[1].split())
    rows = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if len(fields) == len(attribute_names) + 1:
            bad = [v for v in fields[1:] if v not in ("1", "-1")]
            if bad:
                raise CelebALayoutError(f"{attr_file} line {number}: {bad[0]!r} is not 1 or -1 "
                                        f"(a damaged file?): download list_attr_celeba.txt again")
            rows[fields[0]] = fields[1:]
    missing = [name for name in names if name not in rows]
    if missing:
        raise CelebALayoutError(f"{attr_file} has no attribute row for {len(missing):,} images, "
                                f"e.g. {missing[0]}. {celeba_layout_help(attr_file.parent)}")
    values = np.array([rows[name] for name in names], dtype=np.int8)   # (N, A) in {-1, 1}
    return attribute_names, torch.from_numpy((values > 0).astype(np.uint8))


def load_celeba(celeba_dir: Path, image_size: int, max_images: Optional[int] = None,
                verbose: bool = True) -> InMemoryData:
    """CelebA's aligned faces (the first `max_images` in file order) with their 40 attributes.

    Decoding all 202,599 JPEGs takes minutes, so the result is cached as
    `cache_<S>_<N>.pt` beside the images and reloaded (safely: weights_only) the next time.
    """
    problem = celeba_layout_problem(celeba_dir)
    if problem is not None:
        raise CelebALayoutError(f"CelebA in {celeba_dir} is not usable: {problem}. "
                                f"{celeba_layout_help(celeba_dir)}")
    files = sorted((celeba_dir / "img_align_celeba").glob("*.jpg"))[:max_images]
    names = [f.name for f in files]
    cache = celeba_dir / f"cache_{image_size}_{len(files)}.pt"
    data = _read_cache(cache, names)
    if data is None:
        _say(verbose, f"Decoding {len(files):,} CelebA images once (cached in {cache}) ...")
        attribute_names, attributes = read_celeba_attributes(celeba_dir / "list_attr_celeba.txt",
                                                             names)
        try:
            x = decode_images(files, image_size)
        except ValueError as error:        # one damaged JPEG: say which, let "auto" fall back
            raise CelebALayoutError(f"CelebA in {celeba_dir} is not usable: {error}") from None
        data = {"x": x, "attributes": attributes,
                "attribute_names": list(attribute_names), "files": names}
        _write_cache(cache, data, verbose)
    return InMemoryData(data["x"], source=f"CelebA: {len(files):,} aligned faces from "
                        f"{celeba_dir}, resized and centre-cropped to {image_size}×{image_size}",
                        attributes=data["attributes"],
                        attribute_names=tuple(data["attribute_names"]))


def _read_cache(cache: Path, names: list) -> Optional[dict]:
    """The cached dict if it exists, loads, and was made from exactly these files; else None."""
    if not cache.is_file():
        return None
    try:
        data = torch.load(cache, weights_only=True)   # weights_only: a .pt file can't run code
    except Exception:   # a half-written or foreign file: decode again and overwrite it
        return None
    return data if isinstance(data, dict) and data.get("files") == names else None


def _write_cache(cache: Path, data: dict, verbose: bool) -> None:
    try:   # write, then rename: an interrupted save never leaves a broken cache behind
        atomic_save(data, cache)
    except OSError as error:   # e.g. a read-only shared copy of CelebA: work without a cache
        _say(verbose, f"Could not write the cache {cache} ({short_reason(error)}): "
                      f"the images will be decoded again next time.")


# --- LFW -----------------------------------------------------------------------------------------

def load_lfw(data_dir: str, image_size: int, max_images: Optional[int] = None,
             download: bool = True, timeout: float = FULL_TIMEOUT_S) -> InMemoryData:
    """LFW's funneled photos through scikit-learn (downloaded into `<data_dir>/lfw_home` once).

    scikit-learn crops LFW_FACE_BOX and scales it towards S; `square_resize` makes it exactly S×S
    (faces are 125 pixels across, so 128 and 256 are upscaled). Raises OSError when the data is
    neither on disk nor downloadable, ImportError without scikit-learn.
    """
    import sklearn.datasets   # imported here: only this source needs scikit-learn

    scale = (min(image_size, LFW_FACE_PIXELS) + 0.5) / LFW_FACE_PIXELS   # +0.5: int() rounds down
    with socket_timeout(timeout), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Retry downloading")   # we report it ourselves
        lfw = sklearn.datasets.fetch_lfw_people(
            data_home=data_dir, funneled=True, color=True, resize=scale, slice_=LFW_FACE_BOX,
            download_if_missing=download, n_retries=1, delay=0.5)
    faces = torch.from_numpy(lfw.images[:max_images]).permute(0, 3, 1, 2)   # -> (N, 3, h, w)
    people = len(np.unique(lfw.target[:max_images]))
    return InMemoryData(square_resize(faces, image_size),
                        source=f"LFW: {len(faces):,} funneled photos of {people:,} people "
                               f"(scikit-learn, in {os.path.join(data_dir, 'lfw_home')}), centre "
                               f"face crop scaled to {image_size}×{image_size}")


def load_lfw_offline(image_size: int, max_images: Optional[int] = None,
                     why: str = "") -> InMemoryData:
    """The 100 face crops of `skimage.data.lfw_subset()` (its other 100 images are not faces)."""
    from skimage.data import lfw_subset

    faces = torch.from_numpy(lfw_subset()[:100][:max_images]).float()   # (N, 25, 25) in [0, 1]
    faces = faces.unsqueeze(1)                                           # (N, 1, 25, 25)
    return InMemoryData(square_resize(faces, image_size),
                        source=f"Faces, offline{why}: the {len(faces)} tiny 25×25 grayscale LFW "
                               f"faces scikit-image ships, upscaled to {image_size}×{image_size}: "
                               f"expect blurry samples; so few faces are the few-shot regime (notebook 04, section 6)")


# --- choosing a source ---------------------------------------------------------------------------

def load_faces(data_source: str = "auto", data_dir=None, image_size: int = 64,
               max_images: Optional[int] = None, device="cpu",
               verbose: bool = True) -> InMemoryData:
    """Face images as uint8 (N, C, S, S) on `device`, from the best source available.

    CelebA when `<data_dir>/celeba/` holds it, else LFW (downloaded once, ~230 MB), else
    ("offline", or "auto" without a network) scikit-image's 100 tiny faces. A badly laid-out
    CelebA is an error for "full"; "auto" prints what is wrong and falls back.
    """
    image_size = check_image_size(image_size)
    max_images = check_max_images(max_images)
    source = resolve_data_source(data_source, verbose)
    why = " (GANKIT_OFFLINE=1)" if source == "offline" and data_source != "offline" else ""
    if source != "offline":
        data = _try_full_faces(Path(data_dir or default_data_dir()), image_size, max_images, source, verbose)
        if data is not None:
            return data.to(device)
        why = " (no usable CelebA, LFW not downloadable)"
    return load_lfw_offline(image_size, max_images, why).to(device)


def _try_full_faces(data_dir: Path, image_size: int, max_images: Optional[int], source: str,
                    verbose: bool) -> Optional[InMemoryData]:
    """CelebA, else LFW; None when "auto" has to fall back to the offline faces."""
    celeba_dir = data_dir / "celeba"
    if celeba_dir.is_dir():
        try:
            return load_celeba(celeba_dir, image_size, max_images, verbose)
        except CelebALayoutError as error:
            if source == "full":
                raise
            _say(verbose, f"{error} Falling back to LFW.")
    try:
        return load_lfw(str(data_dir), image_size, max_images,
                        timeout=AUTO_TIMEOUT_S if source == "auto" else FULL_TIMEOUT_S)
    except (ImportError, OSError) as error:   # no scikit-learn; URLError, timeouts, missing files
        hint = "pip install scikit-learn" if isinstance(error, ImportError) else "no network?"
        if source == "full":
            raise RuntimeError(f"could not load LFW faces into {data_dir / 'lfw_home'} "
                               f"({short_reason(error)}; {hint}): put CelebA in "
                               f"{data_dir / 'celeba'} (see data/README.md) or use "
                               f'data_source="offline"') from None
        _say(verbose, f"Could not load LFW ({short_reason(error)}; {hint}): using the 100 tiny "
                      f"offline faces scikit-image ships instead.")
        return None


def load_image_folder(path, image_size: int, max_images: Optional[int] = None) -> InMemoryData:
    """Any folder of .jpg/.png images, flat or one level of subfolders (torchvision's ImageFolder
    layout), prepared like CelebA: uint8 (N, 3, S, S), the first `max_images` in sorted order."""
    image_size = check_image_size(image_size)
    max_images = check_max_images(max_images)
    folder = Path(path)
    files = sorted(f for pattern in ("*", "*/*") for f in folder.glob(pattern)
                   if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)[:max_images]
    if not files:
        found = "does not exist" if not folder.is_dir() else "holds no .jpg or .png images"
        raise FileNotFoundError(f"{folder} {found} (looked in it and one level of subfolders): "
                                f"point data_dir at a folder of face images")
    return InMemoryData(decode_images(files, image_size),
                        source=f"Image folder {folder}: {len(files):,} images, resized and "
                               f"centre-cropped to {image_size}×{image_size}")
