"""Measuring what a generator learned: exact 1D quantities, ring coverage, digit statistics.

- 1D, on a grid x with densities as arrays (notebook 02): the optimal discriminator D* and the
  value V(D, G) of Goodfellow et al. 2014 (Prop. 1, Eq. 1), the virtual training criterion
  C(G) = -log 4 + 2 JSD (Thm. 1), and the Wasserstein-1 distance to a known CDF; the exact W1
  between two equal-size samples in any dimension (optimal transport, notebook 06).
- The 8-Gaussian ring (notebook 06): modes covered and the fraction of high-quality samples, as
  counted by Srivastava et al. 2017 (VEEGAN) for the ring of Metz et al. 2017 (Unrolled GAN).
- The Fréchet distance between two feature sets, as in FID (Heusel et al. 2017); the digit
  classifier whose features it uses lives in `gankit.classifier`.
- Nearest training neighbours, to check a generator for memorisation (Goodfellow et al. 2014, Fig. 2).
"""
from __future__ import annotations


import numpy as np
import torch
from scipy import integrate, special, stats

from gankit.data import to_unit_range
from gankit.validate import check_count, check_number


def _numpy(a) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().double().numpy()
    return np.asarray(a, dtype=np.float64)


def _on_grid(x, **curves) -> list:
    """Check that x is an increasing 1D grid and every curve has one value per grid point."""
    x = _numpy(x)
    if x.ndim != 1 or len(x) < 2 or np.any(np.diff(x) <= 0):
        raise ValueError(f"x must be an increasing 1D grid of >= 2 points; got shape {x.shape}")
    out = [x]
    for name, c in curves.items():
        c = _numpy(c)
        if c.shape != x.shape:
            raise ValueError(f"{name} has shape {c.shape} but the grid x has {x.shape}: "
                             f"evaluate it on x")
        out.append(c)
    return out


# ----------------------------------------------------------------------------- 1D, on a grid

def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x))   (Goodfellow et al. 2014, Prop. 1).

    Where both densities are 0 no sample ever arrives and any D is optimal; we take 1/2.
    """
    p_data, p_g = _numpy(p_data), _numpy(p_g)
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def value_function(D, p_data, p_g, x) -> float:
    """V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx   (Goodfellow et al. 2014, Eq. 1,
    written as an integral over x as in the proof of Prop. 1), by the trapezoid rule on x.

    0 · log 0 counts as 0 (`scipy.special.xlogy`): D = 0 costs nothing where no data lies.
    """
    x, D, p_data, p_g = _on_grid(x, D=D, p_data=p_data, p_g=p_g)
    integrand = special.xlogy(p_data, D) + special.xlogy(p_g, 1.0 - D)
    return float(integrate.trapezoid(integrand, x))


def virtual_criterion(p_data, p_g, x) -> float:
    """C(G) = max_D V(D, G) = V(D*, G) = -log 4 + 2 JSD(p_data || p_g)   (Thm. 1).

    Its global minimum, -log 4, is reached exactly when p_g = p_data.
    """
    return value_function(optimal_discriminator(p_data, p_g), p_data, p_g, x)


def jsd(p, q, x) -> float:
    """Jensen-Shannon divergence, natural log, by the trapezoid rule on x:

    JSD(p || q) = ½ KL(p || m) + ½ KL(q || m),  m = (p + q) / 2,  KL(p || m) = ∫ p log(p / m) dx.
    For densities that integrate to 1 on x, 0 <= JSD <= log 2 (equal; disjoint supports).
    """
    x, p, q = _on_grid(x, p=p, q=q)
    m = (p + q) / 2
    safe_m = np.where(m > 0, m, 1.0)                 # where m = 0, p = q = 0 and the term is 0
    kl_pm = special.xlogy(p, p / safe_m)
    kl_qm = special.xlogy(q, q / safe_m)
    return float(integrate.trapezoid(0.5 * kl_pm + 0.5 * kl_qm, x))


def density_from_samples(samples, x, bw_method=None) -> np.ndarray:
    """A smooth density estimate of 1D samples evaluated on x (scipy's Gaussian KDE, Scott's rule
    unless `bw_method` says otherwise): the p_g curve drawn from a generator's samples.

    All samples equal (a generator collapsed to one point) has no spread to estimate; the answer
    is then a normal bump one grid step wide at that point, so the curve still plots.
    """
    s, x = _numpy(samples).ravel(), _numpy(x)
    if s.size < 2 or np.ptp(s) == 0:
        return stats.norm.pdf(x, s.mean(), np.min(np.diff(x)) if x.size > 1 else 1.0)
    return stats.gaussian_kde(s, bw_method=bw_method)(x)


def w1_1d(samples, cdf, x) -> float:
    """Wasserstein-1 distance between the samples' empirical distribution and a target CDF F
    (a function such as `Gaussian1D().cdf`, or its values on x).

    In 1D, W1 is the area between the two CDFs (Vallender 1974; the distance WGAN estimates):
    W1 = ∫ |F_n(x) - F(x)| dx, with F_n(x) = (number of samples <= x) / n, by the trapezoid rule
    on x. x must cover the samples and the target's mass; the error shrinks with the grid step.
    """
    s = np.sort(_numpy(samples).ravel())
    x, F = _on_grid(x, cdf=cdf(x) if callable(cdf) else cdf)
    if s[0] < x[0] or s[-1] > x[-1]:
        raise ValueError(f"samples span [{s[0]:.3g}, {s[-1]:.3g}] but the grid x only "
                         f"[{x[0]:.3g}, {x[-1]:.3g}]: widen x to cover them")
    F_n = np.searchsorted(s, x, side="right") / len(s)
    return float(integrate.trapezoid(np.abs(F_n - F), x))


def w1_exact(a, b) -> float:
    """The exact Wasserstein-1 distance between two samples of equal size n, in any dimension:
    the primal side of Kantorovich-Rubinstein, which a WGAN critic estimates from the dual side.

    Between two empirical distributions of n points each, an optimal transport plan can be taken
    to be a permutation (Birkhoff-von Neumann), so W1 = min over pairings of the mean Euclidean
    distance between paired points: an assignment problem (`scipy.optimize.linear_sum_assignment`,
    O(n³); n = 1,000 takes well under a second). In 1D the sorted pairing is optimal.
    """
    from scipy.optimize import linear_sum_assignment
    a, b = _numpy(a), _numpy(b)
    a, b = (v.reshape(-1, 1) if v.ndim == 1 else v for v in (a, b))
    if a.ndim != 2 or a.shape != b.shape or len(a) == 0:
        raise ValueError(f"w1_exact needs two samples of equal shape (n, d); got {a.shape} and "
                         f"{b.shape}: draw as many points from each")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("w1_exact got NaN or infinite points: W1 of a diverged generator is "
                         "undefined; check the run's stop_reason")
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)        # (n, n) distances
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


# ----------------------------------------------------------------------------- the 2D ring

def ring_coverage(samples, centers, std, n_sigma: float = 3.0, min_count=None) -> dict:
    """Mode coverage on a mixture of Gaussians, as VEEGAN counts it (Srivastava et al. 2017, who
    score 2,500 samples on the ring of Metz et al. 2017).

    A sample is *high quality* when it lies within n_sigma·std of its nearest centre (in 2D,
    3σ holds 98.9% of a mode's own samples: 1 - exp(-9/2)). A mode is *covered* when at least
    `min_count` high-quality samples are nearest to it. VEEGAN counts a mode with a single sample
    (min_count=1); by default we ask for 10% of the mode's fair share, 0.1·n / n_modes (at least 1),
    so that a few stray points do not make a dropped mode look covered.

    Returns {"modes_covered", "high_quality_fraction", "counts" (per mode), "min_count"}.
    """
    x, c = _numpy(samples), _numpy(centers)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples (n, d) and centers (n_modes, d) must share d; got shapes "
                         f"{x.shape} and {c.shape}")
    check_number("std", std)
    check_number("n_sigma", n_sigma)
    distance = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=-1)     # (n, n_modes)
    nearest, good = distance.argmin(1), distance.min(1) <= n_sigma * std
    counts = np.bincount(nearest[good], minlength=len(c))
    if min_count is None:
        min_count = max(1.0, 0.1 * len(x) / len(c))
    return {"modes_covered": int((counts >= min_count).sum()),
            "high_quality_fraction": float(good.mean()),
            "counts": counts.tolist(), "min_count": float(min_count)}


def frechet_distance(feat_a, feat_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, d): FID's recipe
    (Heusel et al. 2017) with sample means and covariances; see `gaussian_frechet_distance`.
    Like FID, the number reported is the squared distance d²."""
    a, b = _numpy(feat_a), _numpy(feat_b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two feature sets (n >= 2, d) of equal d; got {a.shape}, {b.shape}")
    return gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                     b.mean(0), np.cov(b, rowvar=False))


def gaussian_frechet_distance(mu_a, cov_a, mu_b, cov_b) -> float:
    """Fréchet (2-Wasserstein) distance² between N(μ_a, Σ_a) and N(μ_b, Σ_b) (Heusel et al. 2017,
    after Dowson & Landau 1982):  d² = ||μ_a - μ_b||² + Tr(Σ_a + Σ_b - 2 (Σ_a Σ_b)^½).

    Computed in float64 without a general matrix square root: Σ_a Σ_b has the same eigenvalues
    as the symmetric PSD matrix S = Σ_a^½ Σ_b Σ_a^½, so Tr((Σ_a Σ_b)^½) = Σ_i sqrt(λ_i(S)).
    """
    mu_a, mu_b = np.atleast_1d(_numpy(mu_a)), np.atleast_1d(_numpy(mu_b))
    cov_a, cov_b = np.atleast_2d(_numpy(cov_a)), np.atleast_2d(_numpy(cov_b))
    w, v = np.linalg.eigh(cov_a)
    sqrt_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T                    # Σ_a^½
    eig = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    tr_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()                       # clip: rounding below 0
    mean_term = ((mu_a - mu_b) ** 2).sum()
    d2 = mean_term + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt
    return float(max(d2, 0.0))        # >= 0 in exact arithmetic; rounding can dip just below


@torch.no_grad()
def nearest_neighbours(queries, reference, k: int = 1, batch_size: int = 256,
                       reference_chunk: int = 10_000) -> tuple:
    """The k nearest reference images of each query in pixel space (L2 over flattened pixels in
    [-1, 1]; uint8 inputs are converted), as (distances (Q, k), indices (Q, k)) on the CPU.

    `torch.cdist` runs on blocks of batch_size × reference_chunk, so 5,000 × 60,000 fits in memory;
    the k winners' distances are then recomputed directly, exact to float32.
    """
    check_count("k", k)
    if k > len(reference) or tuple(queries.shape[1:]) != tuple(reference.shape[1:]):
        raise ValueError(f"need k <= {len(reference)} and queries shaped like the reference "
                         f"{tuple(reference.shape[1:])}; got k={k}, {tuple(queries.shape[1:])}")
    device = reference.device
    all_d, all_i = [], []
    for q in queries.split(batch_size):
        q = to_unit_range(q.to(device)).float().flatten(1)                 # (B, P)
        best_d = torch.full((len(q), 0), float("inf"), device=device)
        best_i = torch.zeros((len(q), 0), dtype=torch.long, device=device)
        for start in range(0, len(reference), reference_chunk):
            r = to_unit_range(reference[start:start + reference_chunk]).float().flatten(1)
            d = torch.cat([best_d, torch.cdist(q, r)], 1)                 # (B, k + chunk)
            i = torch.cat([best_i, torch.arange(start, start + len(r), device=device)
                           .expand(len(q), -1)], 1)
            best_d, pick = d.topk(min(k, d.shape[1]), dim=1, largest=False)
            best_i = i.gather(1, pick)
        nearest = to_unit_range(reference[best_i.flatten()]).float().flatten(1)
        exact = (q.repeat_interleave(k, 0) - nearest).norm(dim=1).view(-1, k)
        order = exact.argsort(1)                                           # exact sorting too
        all_d.append(exact.gather(1, order).cpu())
        all_i.append(best_i.gather(1, order).cpu())
    return torch.cat(all_d), torch.cat(all_i)
