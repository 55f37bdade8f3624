"""Exact low-dimensional target distributions: the "data" of notebooks 01, 02 and 06.

Because their densities and CDFs are known in closed form, these targets let a notebook draw the
true p_data beside what a generator learned, compute the optimal discriminator
D* = p_data / (p_data + p_g) (Goodfellow et al. 2014, Prop. 1) and measure divergences exactly.

- 1D: `Gaussian1D`, `GaussianMixture1D`, `Exponential1D`, each with `pdf`, `cdf`, `icdf`
  (the inverse CDF F^-1), `sample`, `plot_range` and `describe`. Sampling *is* inverse-CDF
  sampling, X = F^-1(U) with U ~ Uniform(0, 1): the generator of notebook 01.
- `two_modes()`: the mixture notebooks 01 and 02 share.
- 2D: `Ring2D`, the ring of 8 Gaussians (radius 2, std 0.02) of the Unrolled GAN paper
  (Metz et al. 2017) and VEEGAN (Srivastava et al. 2017); the WGAN-GP toy experiments
  (Gulrajani et al. 2017) use the same ring scaled to radius sqrt(2).

`to_data` wraps samples as `gankit.data.InMemoryData`, so toy data trains with the same loop as
images. Arrays go in and out as NumPy (float64); samples come out as torch float32 tensors.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from scipy import stats

from gankit.data import InMemoryData
from gankit.validate import check_count, check_number


# ----------------------------------------------------------------------------- argument checks

def _positive(name: str, value) -> float:
    check_number(name, value)                 # a finite number > 0, else a one-line ValueError
    return float(value)


def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is not allowed: use a finite number (e.g. {name}=0.0)")
    return float(value)


def _count(name: str, value) -> int:
    check_count(name, value)                  # an integer >= 1, else a one-line ValueError
    return int(value)


def _generator(seed) -> torch.Generator | None:
    """None -> torch's global generator; an int -> a fresh generator seeded with it; a Generator
    -> itself (so a caller can draw several reproducible batches from one stream)."""
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} is not allowed: use None, an integer >= 0 "
                         f"or a torch.Generator")
    return torch.Generator().manual_seed(int(seed))


def _probabilities(u) -> np.ndarray:
    u = np.asarray(u, dtype=np.float64)
    if np.any((u < 0) | (u > 1)) or np.any(np.isnan(u)):
        raise ValueError(f"icdf needs probabilities u in [0, 1]; got values from "
                         f"{np.nanmin(u):.4g} to {np.nanmax(u):.4g}")
    return u


# ----------------------------------------------------------------------------- 1D targets

class _Distribution1D:
    """What every 1D target shares: inverse-CDF sampling, a plotting range and a grid."""

    kind = "?"

    def sample(self, n: int, seed=None) -> torch.Tensor:
        """n samples as a float32 tensor (n, 1), drawn as X = F^-1(U), U ~ Uniform(0, 1).

        `seed`: None (torch's global RNG, fixed by `seed_everything`), an integer (same seed,
        same samples) or a `torch.Generator`.
        """
        n = _count("n", n)
        u = torch.rand(n, generator=_generator(seed), dtype=torch.float64).numpy()
        u = np.clip(u, 1e-12, 1 - 1e-12)   # F^-1(0) = -inf for unbounded targets; rand may give 0
        return torch.from_numpy(self.icdf(u)).float().unsqueeze(1)      # (n, 1)

    def plot_range(self, mass: float = 0.999) -> tuple:
        """(lo, hi) holding the central `mass` of the distribution plus a 10% margin each side."""
        lo, hi = self.icdf(np.array([(1 - mass) / 2, (1 + mass) / 2]))
        pad = 0.1 * (hi - lo)
        return float(lo - pad), float(hi + pad)

    def grid(self, n: int = 1001) -> np.ndarray:
        """n evenly spaced points over `plot_range()`: the x on which notebooks integrate."""
        return np.linspace(*self.plot_range(), _count("n", n))


@dataclass
class Gaussian1D(_Distribution1D):
    """N(mean, std^2): pdf = exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi))."""

    mean: float = 0.0
    std: float = 1.0
    kind = "gaussian"

    def __post_init__(self):
        self.mean, self.std = _finite("mean", self.mean), _positive("std", self.std)

    def pdf(self, x) -> np.ndarray:
        return stats.norm.pdf(np.asarray(x, dtype=np.float64), self.mean, self.std)

    def cdf(self, x) -> np.ndarray:
        return stats.norm.cdf(np.asarray(x, dtype=np.float64), self.mean, self.std)

    def icdf(self, u) -> np.ndarray:
        """F^-1(u) = mean + std * Phi^-1(u) (scipy's `norm.ppf`)."""
        return stats.norm.ppf(_probabilities(u), self.mean, self.std)

    def describe(self) -> dict:
        return {"kind": self.kind, "means": [self.mean], "stds": [self.std], "weights": [1.0]}


@dataclass
class Exponential1D(_Distribution1D):
    """Exp(rate): pdf = rate exp(-rate x) and F(x) = 1 - exp(-rate x) for x >= 0, else 0."""

    rate: float = 1.0
    kind = "exponential"

    def __post_init__(self):
        self.rate = _positive("rate", self.rate)

    def pdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.where(x >= 0, self.rate * np.exp(-self.rate * np.maximum(x, 0)), 0.0)

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return -np.expm1(-self.rate * np.maximum(x, 0))      # 1 - exp(-rate x), exact near 0

    def icdf(self, u) -> np.ndarray:
        """Solve u = 1 - exp(-rate x) for x:  F^-1(u) = -log(1 - u) / rate."""
        return -np.log1p(-_probabilities(u)) / self.rate

    def describe(self) -> dict:
        """Mean and standard deviation of Exp(rate) are both 1 / rate."""
        return {"kind": self.kind, "means": [1 / self.rate], "stds": [1 / self.rate],
                "weights": [1.0]}


@dataclass
class GaussianMixture1D(_Distribution1D):
    """sum_k w_k N(mean_k, std_k^2). Weights are relative: [1, 3] is normalised to [0.25, 0.75].

    Its CDF has no closed-form inverse, so `icdf` inverts it numerically by bisection.
    """

    means: Sequence[float] = (-2.0, 2.0)
    stds: Sequence[float] = (0.5, 0.5)
    weights: Sequence[float] = (0.5, 0.5)
    kind = "mixture"

    def __post_init__(self):
        lengths = {"means": len(self.means), "stds": len(self.stds), "weights": len(self.weights)}
        if len(set(lengths.values())) != 1 or lengths["means"] == 0:
            raise ValueError(f"means, stds and weights must be non-empty and of equal length; "
                             f"got lengths {lengths}")
        self.means = tuple(_finite(f"means[{k}]", m) for k, m in enumerate(self.means))
        self.stds = tuple(_positive(f"stds[{k}]", s) for k, s in enumerate(self.stds))
        w = [_positive(f"weights[{k}]", w) for k, w in enumerate(self.weights)]
        self.weights = tuple(wk / sum(w) for wk in w)

    def _components(self, x):
        """x as a column, and the components' parameters as rows: broadcasting gives (..., K)."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        return x, np.array(self.means), np.array(self.stds), np.array(self.weights)

    def pdf(self, x) -> np.ndarray:
        x, m, s, w = self._components(x)
        return (w * stats.norm.pdf(x, m, s)).sum(-1)

    def cdf(self, x) -> np.ndarray:
        x, m, s, w = self._components(x)
        return (w * stats.norm.cdf(x, m, s)).sum(-1)

    def icdf(self, u, tol: float = 1e-12) -> np.ndarray:
        """F^-1(u) by vectorised bisection on F(x) = u, to within `tol` (relative to |x|).

        F is a weighted average of the components' CDFs, so F^-1(u) lies between the smallest
        and the largest component quantile. All u share one bracket, which makes bisection a
        binary search on one fixed grid: the result is exactly monotone in u. About 45
        halvings bring a bracket of width 20 below 1e-12.
        """
        u = _probabilities(u)
        inner = np.clip(u, 1e-300, 1 - 1e-16)       # u = 0 or 1 map to -inf / inf below
        quantiles = stats.norm.ppf(inner[..., None], np.array(self.means), np.array(self.stds))
        lo, hi = quantiles.min(initial=np.inf), quantiles.max(initial=-np.inf)
        width = tol * (1 + max(abs(lo), abs(hi)))   # float64 cannot resolve much less than this
        lo, hi = np.full(u.shape, lo), np.full(u.shape, hi)
        for _ in range(200):                        # a cap; the width test ends it long before
            if np.all(hi - lo <= width):
                break
            mid = (lo + hi) / 2
            below = self.cdf(mid) < inner
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        x = (lo + hi) / 2
        return np.where(u == 0, -np.inf, np.where(u == 1, np.inf, x))

    def describe(self) -> dict:
        return {"kind": self.kind, "means": list(self.means), "stds": list(self.stds),
                "weights": list(self.weights)}


def two_modes() -> GaussianMixture1D:
    """The two-mode target of notebooks 01 and 02, one mixture so that quantile matching (01) and
    the GAN (02) are compared like for like: ½ N(-1.5, 0.5²) + ½ N(1.5, 0.5²), its modes six
    standard deviations apart."""
    return GaussianMixture1D(means=(-1.5, 1.5), stds=(0.5, 0.5), weights=(0.5, 0.5))


# ----------------------------------------------------------------------------- 2D ring

@dataclass
class Ring2D:
    """Equal-weight mixture of `n_modes` isotropic Gaussians N(c_k, std^2 I) on a circle.

    c_k = radius (cos 2 pi k / n_modes, sin 2 pi k / n_modes). The defaults (8 modes, radius 2,
    std 0.02) are those of Metz et al. 2017 (Unrolled GAN) and Srivastava et al. 2017 (VEEGAN).
    """

    n_modes: int = 8
    radius: float = 2.0
    std: float = 0.02
    centers: np.ndarray = field(init=False, repr=False, compare=False)
    kind = "ring"

    def __post_init__(self):
        self.n_modes = _count("n_modes", self.n_modes)
        self.radius, self.std = _positive("radius", self.radius), _positive("std", self.std)
        angle = 2 * np.pi * np.arange(self.n_modes) / self.n_modes
        self.centers = self.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (K, 2)

    def pdf(self, xy) -> np.ndarray:
        """p(xy) = (1/K) sum_k exp(-|xy - c_k|^2 / (2 std^2)) / (2 pi std^2), for xy (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape[-1] != 2:
            raise ValueError(f"pdf needs points of shape (..., 2); got shape {xy.shape}")
        sq = ((xy[..., None, :] - self.centers) ** 2).sum(-1)             # (..., K)
        return np.exp(-sq / (2 * self.std ** 2)).mean(-1) / (2 * np.pi * self.std ** 2)

    def sample(self, n: int, seed=None) -> torch.Tensor:
        """n points (n, 2) float32: pick a mode uniformly, then add N(0, std^2 I) noise."""
        n, g = _count("n", n), _generator(seed)
        mode = torch.randint(self.n_modes, (n,), generator=g)
        noise = torch.randn(n, 2, generator=g, dtype=torch.float64)
        return (torch.from_numpy(self.centers)[mode] + self.std * noise).float()

    def plot_range(self) -> tuple:
        """(lo, hi) for both axes: the ring plus a margin of max(0.5, 5 std)."""
        edge = self.radius + max(0.5, 5 * self.std)
        return -edge, edge

    def describe(self) -> dict:
        return {"kind": self.kind, "n_modes": self.n_modes, "radius": self.radius,
                "std": self.std}


def to_data(dist, n: int, seed=0) -> InMemoryData:
    """n samples of `dist` as InMemoryData (float x of shape (n, d)), ready for the training loop."""
    x = dist.sample(n, seed)
    how = "a torch.Generator" if isinstance(seed, torch.Generator) else f"seed {seed}"
    return InMemoryData(x, source=f"{len(x)} samples of {dist!r}, drawn with {how}")
