"""Differentiable augmentation for GANs trained on few images (DiffAugment).

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training"
(Sec. 3, Fig. 4): with 100 training images, D learns them by heart and G stops improving. The
remedy is to show D only augmented images — the *same* random transformation family T applied
to real and to fake images, in D's update *and* in G's:

    D ascends  log D(T(x)) + log(1 − D(T(G(z))))        G descends  −log D(T(G(z)))

Augmenting only the real images would teach G to produce augmented images; augmenting only in D's
step would leave G optimising against a D that never saw what G is scored on. Every operation is
built from additions, products and indexing, so gradients reach G through T.

The three policies follow the authors' reference code (mit-han-lab/data-efficient-gans,
DiffAugment_pytorch.py), for images in [−1, 1], one random draw per image:
- "color": brightness + U(−0.5, 0.5); saturation × U(0, 2) around the pixel's channel mean;
  contrast × U(0.5, 1.5) around the image mean;
- "translation": a shift of up to 1/8 of the side in each direction, zero (grey) fill;
- "cutout": a zero square of half the side at a random centre, cropped by the border.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _uniform(x, generator, low=0.0, high=1.0):
    """One U(low, high) number per image, shaped (N, 1, 1, 1) to broadcast over its pixels."""
    u = torch.rand(len(x), 1, 1, 1, generator=generator, device=x.device, dtype=x.dtype)
    return low + (high - low) * u


def _randint(x, low, high, generator):
    """One integer in [low, high) per image, shaped (N, 1, 1)."""
    return torch.randint(low, high, (len(x), 1, 1), generator=generator, device=x.device)


def color(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Brightness, then saturation, then contrast, each with its own draw per image."""
    x = x + _uniform(x, generator, -0.5, 0.5)                                   # brightness
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * _uniform(x, generator, 0.0, 2.0) + mean                    # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, generator, 0.5, 1.5) + mean                 # contrast


def translation(x: torch.Tensor, ratio: float = 0.125, generator=None) -> torch.Tensor:
    """Shift each image by up to ratio·side pixels per axis; what moves in is zero."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio), int(w * ratio)
    rows = torch.arange(h, device=x.device)[None, :, None] + _randint(x, -sh, sh + 1, generator)
    cols = torch.arange(w, device=x.device)[None, None, :] + _randint(x, -sw, sw + 1, generator)
    # A one-pixel zero frame: indices that leave the image are clamped onto it.
    padded = F.pad(x, [1, 1, 1, 1])                                             # (N, C, h+2, w+2)
    rows, cols = (rows + 1).clamp(0, h + 1), (cols + 1).clamp(0, w + 1)         # (N, h, 1), (N, 1, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, :, rows, cols].permute(0, 3, 1, 2)                    # (N, h, w, C) -> NCHW


def cutout(x: torch.Tensor, ratio: float = 0.5, generator=None) -> torch.Tensor:
    """Zero one square of ratio·side per image, centred anywhere (cropped by the border)."""
    _, _, h, w = x.shape
    ch, cw = int(h * ratio), int(w * ratio)
    top = _randint(x, 0, h + 1 - ch % 2, generator) - ch // 2                   # (N, 1, 1)
    left = _randint(x, 0, w + 1 - cw % 2, generator) - cw // 2
    r = torch.arange(h, device=x.device)[None, :, None]
    c = torch.arange(w, device=x.device)[None, None, :]
    hole = (r >= top) & (r < top + ch) & (c >= left) & (c < left + cw)          # (N, h, w)
    return x * (~hole).to(x.dtype)[:, None]


_OPS = dict(color=color, translation=translation, cutout=cutout)


def check_policy(policy: str, name: str = "policy") -> tuple:
    """"color,translation" -> ("color", "translation"); an unknown part is one clear error that
    names the parameter (`name`)."""
    if not isinstance(policy, str):
        raise ValueError(f"{name}={policy!r} is not allowed: use a string such as "
                         f"'color,translation,cutout' ('' for none)")
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in names if p not in _OPS]
    if unknown:
        raise ValueError(f"{name}={policy!r} has unknown part(s) {unknown}: use a comma-separated "
                         f"subset of {', '.join(POLICIES)}, e.g. 'color,translation,cutout'")
    return names


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout",
                 generator=None) -> torch.Tensor:
    """Apply the policy's operations in order, each with fresh random draws per image.
    An empty policy returns x itself."""
    for name in check_policy(policy):
        x = _OPS[name](x, generator=generator)
    return x


class DiffAugment:
    """`GANTrainer(..., augment=DiffAugment("color,translation,cutout", seed=0))`: a callable
    the trainer applies to every image D sees, real or fake, in both updates. It draws from its
    own seeded generator (on the images' device), so a run is reproducible."""

    def __init__(self, policy: str = "color,translation,cutout", seed: int = 0):
        self.policy, self.names, self.seed = policy, check_policy(policy), seed
        self.generator = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.generator is None or self.generator.device != x.device:
            self.generator = torch.Generator(x.device).manual_seed(self.seed)
        return diff_augment(x, self.policy, self.generator)

    def __repr__(self):
        return f"DiffAugment({self.policy!r}, seed={self.seed})"
