"""Notebook 01 (`notebooks/01_inverse_cdf.ipynb`): a generator is a function that pushes noise to data, X = F^-1(U).

If U ~ U(0, 1) and G is increasing, then F_X(x) = P[G(U) <= x] = P[U <= G^-1(x)] = G^-1(x), so
X = G(U) has the CDF F exactly when G = F^-1 (the inverse-transform method; e.g. Devroye 1986,
Non-Uniform Random Variate Generation, Thm. 2.1). The targets with their F and F^-1 live in
`gankit.toy`; this module draws the pictures and holds the bridge to notebook 02:

- `plot_mapping`: the uniform line on top, the target density below, grey lines from z to F^-1(z);
- `plot_inverse_cdf`: F with one z traced across to the curve and down to x = F^-1(z), beside
  the mapping (what the notebook's widget redraws);
- `plot_samples_vs_pdf`: a histogram of samples over the density;
- `quantile_pairs`, `MonotoneMLP`, `fit_monotone`: in 1D, sorting n samples gives points
  (u_i, x_(i)) on F^-1 (the empirical quantile function); an increasing network fitted to them is a
  generator learned from data alone, without F;
- `inverse_cdf_explorer`: the notebook's widget; `check_exponential_icdf`, `check_bisection`:
  its exercise checkers.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
import ipywidgets as widgets
from torch import nn

from gankit.exercises import check
from gankit.plots import DATA, GEN, subplots
from gankit.validate import check_count, check_number
from gankit.widgets import Panel

HIGHLIGHT = "tab:orange"     # the one z the widget moves


def _mapping_lines(icdf, n_lines: int) -> tuple:
    u = (np.arange(n_lines) + 0.5) / n_lines                 # evenly spaced z in (0, 1)
    return u, icdf(u)


def plot_mapping(dist, n_lines: int = 25, z=None, ax=None, title=None, icdf=None):
    """The uniform line on top, the target density below, grey lines joining z to x = F^-1(z).

    The z are evenly spaced, so each band between two lines carries the same probability; the
    lines bunch together where the density is high. `z` adds one highlighted line. `icdf` maps
    an array of u to x (default `dist.icdf`; notebook 01 passes the student's own F^-1).
    """
    icdf = icdf or dist.icdf
    if ax is None:
        _, ax = subplots(figsize=(5.5, 3.6))
    lo, hi = dist.plot_range()
    x = np.linspace(lo, hi, 1001)
    pdf = dist.pdf(x)
    top = 1.6 * pdf.max()                                    # height of the z line
    ax.fill_between(x, pdf, color=DATA, alpha=0.08)
    ax.plot(x, pdf, color=DATA, linewidth=1.5)
    ax.hlines(top, lo, hi, color="grey", linewidth=1.5)
    to_line = lambda u: lo + u * (hi - lo)                   # noqa: E731  z in [0, 1] -> the line
    for u, x_u in zip(*_mapping_lines(icdf, n_lines)):
        ax.plot([to_line(u), x_u], [top, 0], color="grey", linewidth=0.7)
    if z is not None:
        x_z = float(icdf(np.array([z]))[0])
        ax.plot([to_line(z), x_z], [top, 0], color=HIGHLIGHT, linewidth=2.5)
        title = title or f"z = {z:.2f} → x = F⁻¹(z) = {x_z:.2f}"
    for u in (0, 0.5, 1):
        ax.text(to_line(u), top * 1.03, f"{u:g}", ha="center", va="bottom", fontsize="small")
    ax.text(to_line(0.25), top * 1.03, "z ~ U(0, 1)", ha="center", va="bottom")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, top * 1.2)
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= 1.05 * pdf.max()])  # density axis only
    ax.set_xlabel("x = F⁻¹(z)")
    ax.set_ylabel("target density p(x)")
    ax.set_title(title or "pushing uniform noise through F⁻¹", fontsize="medium")
    return ax.figure


def plot_inverse_cdf(dist, z: float, name: str = "target"):
    """Left: the CDF F, with z traced across to the curve and down to x = F^-1(z).
    Right: the same z on the mapping picture."""
    if not 0 < z < 1:
        raise ValueError(f"z={z!r} is not allowed: use a number strictly between 0 and 1")
    x_z = float(dist.icdf(np.array([z]))[0])
    fig, (ax_f, ax_m) = subplots(1, 2, figsize=(10, 3.6))
    x = np.linspace(*dist.plot_range(), 1001)
    ax_f.plot(x, dist.cdf(x), color=DATA, linewidth=1.5, label="F(x) = P[X ≤ x]")
    ax_f.annotate("", xy=(x_z, z), xytext=(x[0], z),
                  arrowprops=dict(arrowstyle="->", color=HIGHLIGHT, linewidth=2))
    ax_f.annotate("", xy=(x_z, 0), xytext=(x_z, z),
                  arrowprops=dict(arrowstyle="->", color=HIGHLIGHT, linewidth=2))
    ax_f.plot([x_z], [0], "o", color=HIGHLIGHT, label=f"x = F⁻¹({z:.2f}) = {x_z:.3f}")
    ax_f.set_xlim(x[0], x[-1])
    ax_f.set_ylim(0, 1.02)
    ax_f.set_xlabel("x")
    ax_f.set_ylabel("F(x)")
    ax_f.set_title(f"{name}: read F backwards", fontsize="medium")
    ax_f.legend(fontsize="small", loc="lower right")
    ax_f.grid(alpha=0.3)
    plot_mapping(dist, z=z, ax=ax_m, title=f"{name}: the same z on the mapping picture")
    return fig


def plot_samples_vs_pdf(dist, samples, ax=None, title=None, label="samples X = F⁻¹(U)"):
    """A density histogram of `samples` (green) under the target density (black dotted)."""
    if ax is None:
        _, ax = subplots(figsize=(4.5, 3.4))
    s = np.asarray(torch.as_tensor(samples).detach().cpu().double()).ravel()
    lo, hi = dist.plot_range()
    x = np.linspace(lo, hi, 1001)
    ax.hist(s, bins=60, range=(lo, hi), density=True, color=GEN, alpha=0.55, label=label)
    ax.plot(x, dist.pdf(x), color=DATA, linestyle=":", linewidth=2, label="target p(x)")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title(title or "samples against the density", fontsize="medium")
    ax.legend(fontsize="small")
    return ax.figure


# ----------------------------------------------------------------------------- the bridge

def quantile_pairs(samples) -> tuple:
    """Sorted samples as points on the empirical inverse CDF: (u_i, x_(i)), u_i = (i - 1/2) / n.

    The i-th smallest of n samples sits near the (i - 1/2)/n quantile, so these n points trace
    F^-1 without knowing F: quantile matching, the 1D way to learn a generator from data.
    """
    x = np.sort(np.asarray(torch.as_tensor(samples).detach().cpu().double()).ravel())
    return (np.arange(1, len(x) + 1) - 0.5) / len(x), x


def _inverse_softplus(y: float) -> float:
    """The v with softplus(v) = log(1 + e^v) = y > 0."""
    return y + math.log(-math.expm1(-y))


class MonotoneMLP(nn.Module):
    """An increasing network u -> x: a sum of smooth steps, all going up.

        G(u) = b + sum_j softplus(a_j) * sigmoid(softplus(w_j) * (u - c_j))

    Each hidden unit j is a step at c_j of height softplus(a_j) > 0 and steepness
    softplus(w_j) > 0, so dG/du > 0 for every setting of the weights: G is always invertible,
    like an inverse CDF. It starts as a straight ramp from `low` to `high`.
    """

    def __init__(self, hidden: int = 16, low: float = -1.0, high: float = 1.0):
        super().__init__()
        check_count("hidden", hidden)
        if not high > low:
            raise ValueError(f"low={low!r}, high={high!r}: need low < high (the range of x)")
        steepness = 2.0 * hidden              # neighbouring steps overlap: a smooth ramp
        self.c = nn.Parameter((torch.arange(hidden) + 0.5) / hidden)              # step centres
        self.w = nn.Parameter(torch.full((hidden,), _inverse_softplus(steepness)))
        ramp = torch.sigmoid(steepness * (torch.tensor([[0.0], [1.0]]) - self.c.detach())).sum(1)
        # float(): `low` and `high` are often numpy float64 (a sorted sample's ends); a float64
        # parameter makes the output float64, which the CPU promotes silently and CUDA's backward
        # refuses ("Found dtype Float but expected Double").
        low, high = float(low), float(high)
        height = (high - low) / float(ramp[1] - ramp[0])   # so that G(0) = low and G(1) = high
        self.a = nn.Parameter(torch.full((hidden,), _inverse_softplus(height)))
        self.b = nn.Parameter(torch.tensor([low - height * float(ramp[0])]))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        steps = torch.sigmoid(F.softplus(self.w) * (u - self.c))     # (N, 1) -> (N, hidden)
        return self.b + steps @ F.softplus(self.a)[:, None]           # (N, 1)


def fit_monotone(net: nn.Module, u, x, epochs: int, batch_size: int, lr: float,
                 seed: int = 0, max_seconds=None) -> list:
    """Least squares on the pairs (u_i, x_i): Adam on minibatches, `epochs` passes (fewer if
    `max_seconds` run out first), the learning rate falling linearly to 0 over the `epochs`.
    Returns the mean squared error of each epoch."""
    check_count("epochs", epochs)
    check_count("batch_size", batch_size)
    check_number("lr", lr)
    if max_seconds is not None:
        check_number("max_seconds", max_seconds)
    start = time.perf_counter()
    u = torch.as_tensor(np.asarray(u), dtype=torch.float32)[:, None]          # (n, 1)
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)[:, None]          # (n, 1)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 - e / epochs)
    errors = []
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(u), generator=g).split(batch_size):
            loss = F.mse_loss(net(u[idx]), x[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        schedule.step()
        errors.append(total / len(u))
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    return errors


@torch.no_grad()
def ks_distance_of_monotone(net: nn.Module, cdf, n: int = 100_001) -> float:
    """sup_u |F(G(u)) - u| on a fine grid of u: the Kolmogorov-Smirnov distance between the law of
    G(U) and the target, exact for an increasing G (then P[G(U) <= G(u)] = u). 0 iff G = F^-1."""
    u = np.linspace(0, 1, n)[1:-1]
    g = net(torch.as_tensor(u, dtype=torch.float32)[:, None]).double().flatten().numpy()
    return float(np.max(np.abs(cdf(g) - u)))


def plot_learned_inverse(dist, u, x, net, n_dots: int = 400):
    """Left: the sorted samples (u_i, x_(i)) (grey dots, a subset), the true F^-1 (black dotted)
    and the fitted network (green). Right: samples of the network, G(U), against the density."""
    fig, (ax_q, ax_s) = subplots(1, 2, figsize=(10, 3.6))
    every = max(1, len(u) // n_dots)
    ax_q.plot(u[::every], x[::every], ".", color="grey", markersize=3,
              label="sorted samples (u_i, x_(i))")
    grid = np.linspace(0.001, 0.999, 999)
    ax_q.plot(grid, dist.icdf(grid), color=DATA, linestyle=":", linewidth=2, label="true F⁻¹")
    with torch.no_grad():
        learned = net(torch.as_tensor(grid, dtype=torch.float32)[:, None]).flatten().numpy()
        fake = net(torch.rand(len(x), 1)).flatten().numpy()
    ax_q.plot(grid, learned, color=GEN, linewidth=1.5, label="monotone network G(u)")
    ax_q.set_xlabel("u")
    ax_q.set_ylabel("x")
    ax_q.set_title("learned from sorted samples alone", fontsize="medium")
    ax_q.legend(fontsize="small")
    ax_q.grid(alpha=0.3)
    plot_samples_vs_pdf(dist, fake, ax=ax_s, label="samples G(U) of the network",
                        title="the network as a generator")
    return fig


# ------------------------------------------------------------ exercise checkers (01)
def reference_exponential_icdf(u, rate):
    """gankit's answer to exercise 1: F^-1 of Exp(rate)."""
    from gankit.toy import Exponential1D
    return Exponential1D(rate).icdf(u)


def reference_bisection_icdf(cdf, u, lo, hi):
    """gankit's answer to exercise 2, by scipy's root finder (an independent second method)."""
    from scipy import optimize
    return optimize.brentq(lambda x: cdf(x) - u, lo, hi, xtol=1e-12)


def check_exponential_icdf(student):
    """01: `student(u, rate)` should be F^-1 of Exp(rate), x with u = 1 - exp(-rate x), to a
    relative 1e-9 on inputs down to u = 1e-12, where log(1 - u) has lost most of its digits."""
    inputs = [(np.array([0.1, 0.5, 0.9]), 1.0), (np.array([0.01, 0.25, 0.75, 0.99]), 2.5),
              (np.array(0.5), 0.5), (np.linspace(0.001, 0.999, 7), 4.0),
              (np.array([1e-12, 1e-9, 1e-6]), 1.0)]            # where 1 - u rounds away digits
    mistakes = {"it computes log(1 − u), which loses digits for tiny u (u = 1e-12 is off by 1e-4 "
                "relative)": lambda u, rate: -np.log(1 - u) / rate,
                "it multiplies by rate where it should divide": lambda u, rate: -np.log1p(-u) * rate}
    return check(student, reference_exponential_icdf, inputs,
                 "exponential F⁻¹", atol=0, rtol=1e-9, mistakes=mistakes,
                 hint="solve u = 1 − exp(−rate·x) for x; np.log1p(−u) is log(1 − u), accurate for "
                      "small u")


def _bisection_swapped(cdf, u, lo, hi):
    """The typical slip: the two branches swapped, so the interval walks away from the root."""
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if cdf(mid) < u else (mid, hi)
    return (lo + hi) / 2


def check_bisection(student):
    """01: `student(cdf, u, lo, hi)` should return the x in [lo, hi] with cdf(x) = u to within
    1e-6, for an increasing cdf with cdf(lo) < u < cdf(hi): F^-1 where no closed form exists."""
    from gankit.exercises import wrong
    from gankit.toy import Exponential1D, Gaussian1D, GaussianMixture1D
    mixture = GaussianMixture1D()
    inputs = [(mixture.cdf, 0.3, -10.0, 10.0), (mixture.cdf, 0.5, -10.0, 10.0),
              (mixture.cdf, 0.97, -10.0, 10.0), (Gaussian1D(1.0, 2.0).cdf, 0.1, -20.0, 20.0),
              (Exponential1D(2.0).cdf, 0.8, 0.0, 10.0)]
    name = "F⁻¹ by bisection"
    hint = ("keep cdf(lo) < u <= cdf(hi); test the midpoint m: if cdf(m) < u the answer lies right "
            "of m, so lo = m, else hi = m; stop when hi − lo < 1e-9 (about 35 halvings from width 20)")
    mistakes = {"it moves the wrong end: the interval walks away from the answer (the two branches "
                "are swapped)": _bisection_swapped}
    verdict = check(student, reference_bisection_icdf, inputs, name, hint, atol=1e-6, rtol=0, mistakes=mistakes)
    if verdict.status == "wrong" and check(student, reference_bisection_icdf, inputs, name, atol=1e-2, rtol=0):
        return wrong(name, "it is within 1e-2 of the answer but not within 1e-6: it stops halving "
                     "too early", hint)
    return verdict


# ------------------------------------------------------------ widget (01)
def inverse_cdf_explorer(targets: dict, z: float = 0.3) -> Panel:
    """01: pick a target, move z, and see x = F^-1(z) traced on the CDF and on the mapping picture.

    `targets` maps names to `gankit.toy` distributions, e.g. {"normal": Gaussian1D(), ...}.
    """
    if not targets:
        raise ValueError("inverse_cdf_explorer needs at least one target, e.g. "
                         "{'normal': gankit.toy.Gaussian1D()}")
    target = widgets.Dropdown(options=list(targets), description="target")
    z_slider = widgets.FloatSlider(value=z, min=0.01, max=0.99, step=0.01, description="z",
                                   continuous_update=False)
    return Panel([target, z_slider],
                 lambda: plot_inverse_cdf(targets[target.value], z_slider.value, target.value))
