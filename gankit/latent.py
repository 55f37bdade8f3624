"""Walking and doing arithmetic in a generator's latent space z (notebooks 03 and 04).

- Interpolation: G(z_t) along a path from z0 to z1 shows whether G maps nearby z to nearby images
  (a smooth walk, not memorised jumps: Radford et al. 2016, "DCGAN", Sec. 6.1). The straight line
  (`lerp`) cuts through the middle of the Gaussian ball, where z ~ N(0, I) in d = 100 almost never
  lies (|z| concentrates near sqrt(d)); the great circle (`slerp`, Shoemake 1985, as proposed for
  GANs by White 2016, "Sampling Generative Networks") keeps |z| in that typical shell.
- Vector arithmetic (DCGAN, Fig. 7): average the z of three samples per concept (one sample's z is
  too noisy), combine mean(A) - mean(B) + mean(C), and show the result with small uniform noise
  around it, so the reader sees the effect is not one lucky point.
- An attribute direction: mean z of samples with an attribute minus mean z of those without.

Every function takes z as tensors of shape (d,) or (N, d) and works for any generator.
"""
from __future__ import annotations

import numbers

import torch

from .validate import check_count

METHODS = ("lerp", "slerp")
_PARALLEL_EPS = 1e-6     # below this sin(angle), z0 and z1 count as (anti)parallel


def _check_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if z0.ndim != 1 or z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must be two vectors of the same shape (d,); got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}")


def _as_t(t, like: torch.Tensor) -> tuple:
    """t as a 1D tensor of like's dtype/device, and whether it was a single number."""
    scalar = isinstance(t, numbers.Real) or (isinstance(t, torch.Tensor) and t.ndim == 0)
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1)
    return t, scalar


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """The straight line (1 - t) z0 + t z1: (d,) for a number t, (len(t), d) for a 1D tensor t."""
    _check_pair(z0, z1)
    t, scalar = _as_t(t, z0)
    out = z0 + t[:, None] * (z1 - z0)                              # (T, d)
    return out[0] if scalar else out


def _perpendicular(u: torch.Tensor) -> torch.Tensor:
    """A unit vector orthogonal to the unit vector u: the axis least aligned with u, made
    orthogonal (deterministic, so an antiparallel slerp always takes the same half circle)."""
    e = torch.zeros_like(u)
    e[u.abs().argmin()] = 1.0
    w = e - (e @ u) * u
    return w / w.norm()


def slerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Spherical interpolation along the great circle from z0 to z1:

        slerp(z0, z1; t) = sin((1 - t) Ω) / sin Ω · z0 + sin(t Ω) / sin Ω · z1,
        Ω = the angle between z0 and z1.

    With |z0| = |z1| = r every point has norm r. Parallel vectors (Ω = 0) give the straight line,
    its limit; antiparallel ones (Ω = π, no unique great circle) take the half circle through a
    fixed perpendicular direction, with the norm going linearly from |z0| to |z1|.
    """
    _check_pair(z0, z1)
    t, scalar = _as_t(t, z0)
    r0, r1 = z0.norm(), z1.norm()
    if r0 == 0 or r1 == 0:                        # no direction to rotate: the line is all there is
        return lerp(z0, z1, t[0] if scalar else t)
    u0, u1 = z0 / r0, z1 / r1
    cos = (u0 @ u1).clamp(-1.0, 1.0)
    sin = (u1 - cos * u0).norm()                  # |sin Ω|, accurate also for tiny angles
    omega = torch.atan2(sin, cos)
    if sin < _PARALLEL_EPS and cos > 0:
        out = z0 + t[:, None] * (z1 - z0)
    elif sin < _PARALLEL_EPS:                     # antiparallel
        w = _perpendicular(u0)
        angle = torch.pi * t[:, None]
        out = ((1 - t[:, None]) * r0 + t[:, None] * r1) * (torch.cos(angle) * u0 + torch.sin(angle) * w)
    else:
        out = (torch.sin((1 - t[:, None]) * omega) * z0 + torch.sin(t[:, None] * omega) * z1) / sin
    return out[0] if scalar else out


def check_path(n: int, method: str) -> None:
    """One-line errors for `interpolate`'s n and method (a widget checks them before drawing)."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not allowed: use 'lerp' or 'slerp'")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n={n!r} is not allowed: use an integer >= 2 (the two endpoints and "
                         f"the points between)")


def interpolate(z0: torch.Tensor, z1: torch.Tensor, n: int, method: str = "slerp") -> torch.Tensor:
    """n evenly spaced points (n, d) from z0 to z1 along `method` ("lerp" or "slerp"); the first
    and last rows are exactly z0 and z1."""
    check_path(n, method)
    path = (lerp if method == "lerp" else slerp)(z0, z1, torch.linspace(0, 1, n))
    path[0], path[-1] = z0, z1                    # exact, whatever the rounding of sin and cos
    return path


def _check_indices(z: torch.Tensor, indices, name: str = "indices") -> torch.Tensor:
    idx = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
    if idx.numel() == 0:
        raise ValueError(f"{name} is empty: give at least one row number of z")
    bad = idx[(idx < 0) | (idx >= len(z))]
    if bad.numel():
        raise ValueError(f"{name} holds {bad.tolist()}: row numbers of z must be in 0..{len(z) - 1}")
    return idx


def concept_mean(z: torch.Tensor, indices, name: str = "indices") -> torch.Tensor:
    """The mean (d,) of the rows z[indices]: a concept's latent code, averaged over a few
    exemplars (DCGAN, Fig. 7 uses three) because a single sample's z is noisy."""
    if z.ndim != 2:
        raise ValueError(f"z must have shape (N, d); got {tuple(z.shape)}")
    return z[_check_indices(z, indices, name).to(z.device)].mean(0)


def check_neighbours(n_neighbours: int, noise: float) -> None:
    """One-line errors for `vector_arithmetic`'s n_neighbours and noise."""
    check_count("n_neighbours", n_neighbours, allow_zero=True)
    if not isinstance(noise, numbers.Real) or noise < 0:
        raise ValueError(f"noise={noise!r} is not allowed: use a number >= 0, e.g. 0.25")


def vector_arithmetic(z: torch.Tensor, a, b, c, n_neighbours: int = 8, noise: float = 0.25,
                      generator: torch.Generator | None = None, combine_fn=None) -> torch.Tensor:
    """DCGAN Fig. 7: rows (1 + n_neighbours, d). Row 0 is mean(z[a]) - mean(z[b]) + mean(z[c]),
    or `combine_fn(z, a, b, c)` when given (notebook 04's exercise); the others add uniform noise
    in [-noise, noise] to every coordinate of it."""
    check_neighbours(n_neighbours, noise)
    if combine_fn is None:
        centre = concept_mean(z, a, "a") - concept_mean(z, b, "b") + concept_mean(z, c, "c")
    else:
        centre = torch.as_tensor(combine_fn(z, a, b, c)).to(z)
        if centre.shape != z.shape[1:]:
            raise ValueError(f"combine_fn gave shape {tuple(centre.shape)}: it must return one "
                             f"vector of z's width, shape ({z.shape[1]},)")
    u = torch.rand(n_neighbours, len(centre), generator=generator, dtype=centre.dtype,
                   device=generator.device if generator is not None else centre.device)
    return torch.cat([centre[None], centre + (2 * u.to(centre.device) - 1) * noise])


def attribute_direction(z: torch.Tensor, has_attribute) -> torch.Tensor:
    """mean z of the samples with the attribute - mean z of those without, shape (d,)."""
    has = torch.as_tensor(has_attribute, device=z.device)
    if z.ndim != 2 or has.dtype != torch.bool or has.shape != (len(z),):
        raise ValueError(f"need z (N, d) and a bool tensor has_attribute (N,); got "
                         f"{tuple(z.shape)} and {has.dtype} {tuple(has.shape)}")
    if has.all() or not has.any():
        side = "without" if has.all() else "with"
        raise ValueError(f"has_attribute has no sample {side} the attribute: both sides need >= 1")
    return z[has].mean(0) - z[~has].mean(0)
