"""Notebook 02 (`notebooks/02_gan_1d.ipynb`): the 1D GAN made visible: Figure 1 of Goodfellow et al. (2014), live from training.

With one-dimensional data and a one-dimensional z, every object of the paper's theory can be
computed on a grid of x and drawn:
- p_g, the density of x = G(z), by the change of variables p_g(x) = sum_{z: G(z) = x} p_z(z) / |G'(z)|
  (`generator_density`);
- the learned D(x) and the optimal D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Prop. 1);
- V(D, G) (Eq. 1) and C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g) (Thm. 1), by quadrature
  in `gankit.metrics`.

`Figure1Recorder` is a `GANTrainer` callback that keeps a `Snapshot` of (G, D) every few steps;
`plot_figure1` draws one as the paper draws Figure 1 (p_data black dotted, p_g green, D blue
dashed; here D* too, as a wide pale blue band) with the mapping x = G(z) beneath.
`train_discriminator` runs the inner loop of Algorithm 1 to convergence with G frozen, the
assumption under which Prop. 1 gives D*. `plot_generator_losses` compares the minimax and the
non-saturating generator losses of `gankit.losses` where D confidently rejects the fakes (Sec. 3).
`figure1_scrubber` is the notebook's widget; `check_value_function`, `check_optimal_discriminator`
its exercise checkers.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import ipywidgets as widgets
from scipy import special, stats

from gankit.exercises import check
from gankit.losses import discriminator_loss, generator_loss
from gankit.metrics import jsd, optimal_discriminator, value_function, virtual_criterion
from gankit.models import eval_mode, sample_latent
from gankit.plots import DATA, DISC, GEN, subplots
from gankit.validate import check_count, check_number
from gankit.widgets import Panel

LOG4 = float(np.log(4.0))


# ----------------------------------------------------------------------------- G and D on a grid

def latent_grid(G, n: int) -> np.ndarray:
    """n + 1 values of z at the quantiles 0, 1/n, ..., 1 of p_z: n segments of probability 1/n each.

    p_z is U(0, 1) or N(0, 1), as `gankit.models.sample_latent` draws it; the normal's two
    infinite ends are cut at the quantiles 1e-7 and 1 - 1e-7.
    """
    u = np.arange(n + 1) / n
    return u if G.latent == "uniform" else stats.norm.ppf(np.clip(u, 1e-7, 1 - 1e-7))


@torch.no_grad()
def on_grid(model, t) -> np.ndarray:
    """A 1D model (G(z) -> x, or D(x) -> score) at the points t, in eval mode, as float64."""
    device = next(model.parameters()).device
    with eval_mode(model):
        out = model(torch.as_tensor(np.asarray(t), dtype=torch.float32, device=device)[:, None])
    return out.double().flatten().cpu().numpy()


def discriminator_curve(D, x) -> np.ndarray:
    """D(x) = sigmoid(score) on x, in float64 so that D < 1 strictly (log(1 - D) stays finite)."""
    return special.expit(on_grid(D, x))


def generator_density(G, x, n_z: int = 2000) -> np.ndarray:
    """p_g on the evenly spaced grid x, for a generator with a 1D latent z.

    Change of variables: p_g(x) = sum over the z with G(z) = x of p_z(z) / |G'(z)| (one term
    for a monotone G). We integrate it over the grid cell [x - dx/2, x + dx/2] of each point, so
    no mass is lost where G is nearly flat (a spike) or folds back: z is cut into n_z segments of
    equal probability, each segment's mass 1/n_z is spread evenly over the interval of x it is
    mapped to (exact for G linear on the segment and z uniform), and p_g(x) is the mass that falls
    in x's cell divided by dx.
    """
    if G.latent_dim != 1:
        raise ValueError(f"generator_density needs a 1D latent z; G has latent_dim={G.latent_dim}. "
                         "Use gankit.metrics.density_from_samples on G's samples instead")
    x = np.asarray(x, dtype=np.float64)
    dx = x[1] - x[0]
    if not np.allclose(np.diff(x), dx):
        raise ValueError("generator_density needs an evenly spaced grid x (e.g. np.linspace)")
    g = on_grid(G, latent_grid(G, n_z))                          # (n_z + 1,) the segments' ends
    lo, hi = np.minimum(g[:-1], g[1:]), np.maximum(g[:-1], g[1:])
    width = np.maximum(hi - lo, 1e-12)                           # a flat segment is a point mass
    edges = np.append(x - dx / 2, x[-1] + dx / 2)                # (len(x) + 1,) cell edges
    cdf = np.clip((edges - lo[:, None]) / width[:, None], 0, 1).mean(0)   # P[G(z) <= edge]
    return np.diff(cdf) / dx


def sampler(G):
    """n -> n samples G(z) (n, 1) with z ~ p_z, without gradients: G stays frozen."""
    @torch.no_grad()
    def sample(n: int) -> torch.Tensor:
        return G(sample_latent(G, n))
    return sample


def mode_masses(samples, means) -> np.ndarray:
    """The fraction of samples nearest to each mode's mean: a dropped mode gets (almost) 0."""
    s = np.asarray(torch.as_tensor(samples).detach().cpu().double()).ravel()
    nearest = np.abs(s[:, None] - np.asarray(means, dtype=np.float64)[None, :]).argmin(1)
    return np.bincount(nearest, minlength=len(means)) / len(s)


def density_check(G, p_g, x, n: int = 200_000, every: int = 20, seed: int = 0) -> float:
    """p_g by change of variables against G's samples: the total variation distance
    1/2 sum_bins |P_hist(bin) - P_g(bin)| between the histogram of n samples G(z) and the mass
    p_g (on the evenly spaced grid x) gives the same bins (`every` grid cells each, coarse enough
    that sampling noise stays near 0.005 for n = 200,000). 0 when the two agree; a p_g of
    another G, or samples off the grid, make it large."""
    x = np.asarray(x, dtype=np.float64)
    dx = x[1] - x[0]
    edges = np.append(x - dx / 2, x[-1] + dx / 2)[::every]                # coarse bin edges
    mass = np.concatenate([[0.0], np.cumsum(np.asarray(p_g) * dx)])[::every]
    torch.manual_seed(seed)
    samples = sampler(G)(n).double().flatten().cpu().numpy()
    counts, _ = np.histogram(samples, edges)
    return float(0.5 * np.abs(counts / n - np.diff(mass)).sum())


def plot_density_ratio(x, p_data, p_g, logit, floor: float = 1e-3, ax=None):
    """D's logit f(x) beside log p_data(x)/p_g(x), where both densities exceed `floor` times
    their peak: since D* = p_data/(p_data + p_g) = sigmoid(log p_data/p_g), an optimal D's logit
    *is* the log density ratio (the density-ratio view of a GAN's D)."""
    if ax is None:
        _, ax = subplots(figsize=(5.5, 3.6))
    both = (p_data > floor * p_data.max()) & (p_g > floor * p_g.max())
    ratio = np.where(both, np.log(np.where(both, p_data, 1) / np.where(both, p_g, 1)), np.nan)
    ax.plot(x, ratio, color=DATA, linewidth=2, label="log p_data(x) / p_g(x)")
    ax.plot(x, np.where(both, logit, np.nan), color=DISC, linestyle="--", label="D's logit f(x)")
    ax.set(xlabel="x", ylabel="log-odds",
           title="an optimal D's logit is log p_data(x)/p_g(x)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax.figure


# ----------------------------------------------------------------------------- D with G frozen

def train_discriminator(D, sample_real, sample_fake, steps: int = 2000, batch_size: int = 1024,
                        lr: float = 1e-3, value=None) -> list:
    """Algorithm 1's inner loop run to convergence with G frozen (the premise of Prop. 1).

    Each step ascends V = mean log D(x) + mean log(1 - D(G(z))) on fresh minibatches from
    `sample_real(n)` and `sample_fake(n)` (Adam on -V, the loss of `gankit.losses`). The learning
    rate falls linearly to 0, so the last steps average out the minibatch noise and D settles
    near D* instead of jittering around it. Returns V on each step's minibatch, computed by
    `value(D(x) probabilities, D(G(z)) probabilities)` when given (notebook 02 passes the student's
    V), else as minus gankit's loss.
    """
    check_count("steps", steps)
    check_count("batch_size", batch_size)
    check_number("lr", lr)
    device = next(D.parameters()).device
    opt_D = torch.optim.Adam(D.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt_D, lambda t: 1 - t / steps)
    values = []
    for _ in range(steps):
        x_real = sample_real(batch_size).to(device)
        x_fake = sample_fake(batch_size).to(device)
        f_real, f_fake = D(x_real), D(x_fake)                           # logits
        loss = discriminator_loss("minimax", f_real, f_fake)             # = -V(D, G) on the batch
        opt_D.zero_grad(set_to_none=True)
        loss.backward()
        opt_D.step()
        schedule.step()
        with torch.no_grad():
            values.append(-loss.item() if value is None else
                          float(value(torch.sigmoid(f_real), torch.sigmoid(f_fake))))
    return values


# ----------------------------------------------------------------------------- snapshots

@dataclass
class Snapshot:
    """(G, D) at one training step, seen on the recorder's grid x."""

    step: int
    p_g: np.ndarray          # density of G(z) on x (change of variables)
    D: np.ndarray            # the learned D(x)
    D_star: np.ndarray       # p_data / (p_data + p_g): the best D against this G (Prop. 1)
    latent: str              # p_z: "uniform" (U(0, 1)) or "normal" (N(0, 1))
    z_lines: np.ndarray      # the z of the mapping lines, at evenly spaced quantiles of p_z
    x_lines: np.ndarray      # G(z) at those z
    V: float                 # V(D, G) for the learned D (Eq. 1, by quadrature)
    C: float                 # C(G) = V(D*, G) = -log 4 + 2 JSD (Thm. 1)
    jsd: float               # JSD(p_data || p_g), natural log
    gap: float               # max |D - D*| where the data lives
    G_state: dict            # copies of the weights: load_state_dict rebuilds G and D here
    D_state: dict


class Figure1Recorder:
    """A GANTrainer callback: a `Snapshot` of (G, D) at every step that is a multiple of `every`.

    The trainer calls callbacks every `log_every` steps, so make `every` a multiple of it. Call
    `record(G, D, step)` yourself for a picture before training or of a G you froze.
    `support` is where max |D - D*| is measured: p_data >= support * max p_data.
    """

    def __init__(self, target, x=None, every: int = 100, n_lines: int = 24,
                 support: float = 0.01):
        check_count("every", every)
        check_count("n_lines", n_lines)
        self.target, self.every = target, every
        self.x = target.grid() if x is None else np.asarray(x, dtype=np.float64)
        self.p_data = target.pdf(self.x)
        self.support = self.p_data >= support * self.p_data.max()
        self.n_lines = n_lines
        self.snapshots: list = []

    def __call__(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self.record(trainer.G, trainer.D, trainer.step)

    def record(self, G, D, step: int) -> Snapshot:
        if self.snapshots and self.snapshots[-1].step == step:
            return self.snapshots[-1]
        x, p_data = self.x, self.p_data
        p_g, d = generator_density(G, x), discriminator_curve(D, x)
        d_star = optimal_discriminator(p_data, p_g)
        u = (np.arange(self.n_lines) + 0.5) / self.n_lines            # equal probability apart
        z_lines = u if G.latent == "uniform" else stats.norm.ppf(u)
        snap = Snapshot(step=step, p_g=p_g, D=d, D_star=d_star, latent=G.latent, z_lines=z_lines,
                        x_lines=on_grid(G, z_lines), V=value_function(d, p_data, p_g, x),
                        C=virtual_criterion(p_data, p_g, x), jsd=jsd(p_data, p_g, x),
                        gap=float(np.abs(d - d_star)[self.support].max()),
                        G_state=copy.deepcopy(G.state_dict()), D_state=copy.deepcopy(D.state_dict()))
        self.snapshots.append(snap)
        return snap

    def trajectory(self, name: str) -> tuple:
        """(steps, values) of one Snapshot number ("V", "C", "jsd", "gap") over training."""
        return (np.array([s.step for s in self.snapshots]),
                np.array([getattr(s, name) for s in self.snapshots]))


# ----------------------------------------------------------------------------- pictures

def plot_discriminator(x, p_data, p_g, D, ax=None, title=None, legend=True, bottom=0.0,
                       d_star=optimal_discriminator):
    """p_data (black dotted), p_g (green), the learned D (blue dashed) and the optimal
    D* = p_data / (p_data + p_g) (a wide pale blue band: D lies on it when D is optimal).

    D* is drawn only where p_data + p_g > 0.1% of its peak: elsewhere no sample ever arrives,
    nothing constrains D, and D* is a ratio of two negligible numbers. `bottom` leaves room
    below the axis (for the mapping lines of `plot_figure1`). `d_star(p_data, p_g)` computes D*
    (notebook 02 passes the student's).
    """
    if ax is None:
        _, ax = subplots(figsize=(5.2, 3.2))
    x, p_data, p_g = np.asarray(x), np.asarray(p_data), np.asarray(p_g)
    top = max(1.05, 1.1 * float(np.max(p_data)))
    seen = (p_data + p_g) > 1e-3 * np.max(p_data + p_g)
    ax.plot(x, np.where(seen, d_star(p_data, p_g), np.nan), color=DISC, alpha=0.25,
            linewidth=6, label="D* = p_data/(p_data+p_g)")
    ax.plot(x, p_data, color=DATA, linestyle=":", linewidth=2, label="p_data")
    ax.plot(x, np.minimum(p_g, top), color=GEN, linewidth=1.5, label="p_g")
    ax.plot(x, D, color=DISC, linestyle="--", linewidth=1.5, label="D (learned)")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(bottom, top)
    ax.set_yticks([0, 0.5, 1.0])
    ax.set_xlabel("x")
    ax.set_ylabel("density, or D(x)")
    ax.set_title(title or "", fontsize="medium")
    if legend:                                   # below the panel: it never hides a curve
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                  frameon=False)
    return ax.figure


def plot_figure1(snapshot: Snapshot, x, p_data, ax=None, title=None, legend=True):
    """One panel of Goodfellow et al. 2014, Figure 1, from a snapshot: `plot_discriminator`'s
    curves above the axis and, beneath, the z line (U(0, 1) stretched to the panel's width, or
    N(0, 1) with +-3 at its edges) with arrows from z to x = G(z). The z are equally probable, so
    arrows bunch up where p_z is high (on the z line) and where G packs probability (on the x
    line): that is where p_g is high.
    """
    if ax is None:
        _, ax = subplots(figsize=(5.2, 3.6))
    x = np.asarray(x)
    top = max(1.05, 1.1 * float(np.max(p_data)))
    y_x, y_z = -0.08 * top, -0.45 * top                     # the x line and the z line
    title = title or f"step {snapshot.step}: C(G) = {snapshot.C:.3f}, JSD = {snapshot.jsd:.3f}"
    plot_discriminator(x, p_data, snapshot.p_g, snapshot.D, ax=ax, title=title, legend=legend,
                       bottom=y_z - 0.05 * top)
    lo, hi = x[0], x[-1]
    ax.hlines([y_x, y_z], lo, hi, color="grey", linewidth=1)
    if snapshot.latent == "uniform":
        z_on_line = lo + snapshot.z_lines * (hi - lo)
    else:
        z_on_line = (lo + hi) / 2 + snapshot.z_lines * (hi - lo) / 6
    for z_start, x_end in zip(z_on_line, snapshot.x_lines):
        ax.annotate("", xy=(np.clip(x_end, lo, hi), y_x), xytext=(z_start, y_z),
                    arrowprops=dict(arrowstyle="->", color="grey", linewidth=0.7, shrinkA=0,
                                    shrinkB=0))
    ax.text(lo, y_z, "z ", ha="right", va="center")
    ax.text(lo, y_x, "x ", ha="right", va="center")
    return ax.figure


def plot_figure1_panels(recorder: Figure1Recorder, indices, titles=None):
    """Figure 1's row of panels: the recorder's snapshots at `indices`, side by side."""
    snaps = [recorder.snapshots[i] for i in indices]
    fig, axes = subplots(1, len(snaps), figsize=(4.2 * len(snaps), 3.6), squeeze=False)
    for k, (ax, snap) in enumerate(zip(axes[0], snaps)):
        title = titles[k] if titles else None
        plot_figure1(snap, recorder.x, recorder.p_data, ax=ax, title=title, legend=False)
        if k:
            ax.set_ylabel("")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=4,
               fontsize="small", frameon=False)
    return fig


def plot_snapshot(recorder: Figure1Recorder, index: int):
    """Snapshot `index` as a Figure-1 panel with its numbers, beside C(G) over training (the
    step marked): the picture the notebook's scrubber redraws."""
    snap = recorder.snapshots[index]
    fig, (ax_f, ax_c) = subplots(1, 2, figsize=(10.5, 3.8), width_ratios=(1.5, 1))
    plot_figure1(snap, recorder.x, recorder.p_data, ax=ax_f,
                 title=f"step {snap.step}: V(D, G) = {snap.V:.3f}, C(G) = {snap.C:.3f}, "
                       f"max |D − D*| = {snap.gap:.2f}")
    steps, C = recorder.trajectory("C")
    ax_c.plot(steps, C, color=GEN, label="C(G)")
    ax_c.axhline(-LOG4, color=DATA, linestyle=":", label="−log 4")
    ax_c.plot([snap.step], [snap.C], "o", color=GEN)
    ax_c.set_xlabel("generator step")
    ax_c.set_ylabel("C(G) = −log 4 + 2·JSD")
    ax_c.set_title(f"JSD(p_data ‖ p_g) = {snap.jsd:.4f}", fontsize="medium")
    ax_c.legend(fontsize="small")
    ax_c.grid(alpha=0.3)
    return fig


def plot_criterion(recorder: Figure1Recorder):
    """Left: C(G) and V(D, G) over training, with the minimum -log 4. Right, log scale: JSD, and
    two distances of D from D*: the largest |D - D*| where the data live, and
    C(G) - V(D, G) = integral of (p_data + p_g) KL(Bernoulli(D*) || Bernoulli(D)), the same gap
    weighted by where samples land (a narrow jump of D* barely counts)."""
    fig, (ax_c, ax_j) = subplots(1, 2, figsize=(10, 3.6))
    steps, C = recorder.trajectory("C")
    ax_c.plot(steps, C, color=GEN, label="C(G) = max_D V(D, G) = −log 4 + 2·JSD")
    ax_c.plot(*recorder.trajectory("V"), color=DISC, linestyle="--", label="V(D, G), learned D")
    ax_c.axhline(-LOG4, color=DATA, linestyle=":", label="−log 4: p_g = p_data")
    ax_c.set_xlabel("generator step")
    ax_c.set_ylabel("value")
    ax_c.set_title("C(G) falls toward −log 4 (Theorem 1)")
    ax_c.legend(fontsize="small")
    ax_j.semilogy(*recorder.trajectory("jsd"), color=GEN, label="JSD(p_data ‖ p_g)")
    ax_j.semilogy(*recorder.trajectory("gap"), color=DISC, linestyle="--",
                  label="max |D − D*| on the data's support")
    steps, V = recorder.trajectory("V")
    ax_j.semilogy(steps, np.maximum(C - V, 1e-6), color=DISC, linestyle=":",   # C >= V: C is max V
                  label="C(G) − V(D, G): what D leaves unclaimed")
    ax_j.set_xlabel("generator step")
    ax_j.set_ylabel("log scale")
    ax_j.set_title("JSD, and how far the learned D is from D*")
    ax_j.legend(fontsize="small")
    for ax in (ax_c, ax_j):
        ax.grid(alpha=0.3)
    return fig


def generator_loss_curves(d_fake) -> dict:
    """G's loss and its gradient with respect to D's score f (where D(G(z)) = sigmoid(f)), at each
    value of D(G(z)) in `d_fake`, for "minimax" and "non-saturating", by autograd through
    `gankit.losses.generator_loss`. Closed forms: minimax  d/df log(1 - sigmoid(f)) = -D(G(z)),
    non-saturating  d/df -log sigmoid(f) = -(1 - D(G(z))).
    """
    curves = {}
    for name in ("minimax", "non-saturating"):
        f = torch.logit(torch.as_tensor(d_fake, dtype=torch.float64)).requires_grad_(True)
        per_sample = len(f) * generator_loss(name, f)    # the loss is a mean: undo the 1/N
        (grad,) = torch.autograd.grad(per_sample, f)
        with torch.no_grad():
            loss = torch.stack([generator_loss(name, fi[None]) for fi in f])
        curves[name] = dict(loss=loss.numpy(), grad=grad.numpy())
    return curves


def plot_generator_losses(d_fake=None):
    """The two generator losses against D(G(z)) (left) and the size of the gradient each sends
    back through D's score (right, log-log): minimax's vanishes as D(G(z)) -> 0, exactly when
    D confidently rejects the fakes; the non-saturating loss's stays near 1 (Sec. 3)."""
    d = np.logspace(-4, np.log10(0.999), 400) if d_fake is None else np.asarray(d_fake)
    curves = generator_loss_curves(d)
    fig, (ax_l, ax_g) = subplots(1, 2, figsize=(10, 3.6))
    styles = {"minimax": dict(color="tab:red", label="minimax: log(1 − D(G(z)))"),
              "non-saturating": dict(color=GEN, label="non-saturating: −log D(G(z))")}
    for name, c in curves.items():
        ax_l.plot(d, c["loss"], **styles[name])
        ax_g.loglog(d, np.abs(c["grad"]), **styles[name])
    ax_l.set_xlabel("D(G(z))")
    ax_l.set_ylabel("G's loss (G descends it)")
    ax_l.set_title("the two generator losses")
    ax_g.axvspan(d[0], 0.01, color="grey", alpha=0.15, label="D confidently rejects the fakes")
    ax_g.set_xlabel("D(G(z)) (log scale)")
    ax_g.set_ylabel("|∂ loss / ∂ score|")
    ax_g.set_title("the gradient G receives through D")
    for ax in (ax_l, ax_g):
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------ exercise checkers (02)
def reference_value_function(d_real, d_fake):
    """gankit's answer to exercise 1: Eq. 1 on a minibatch, mean log D(x) + mean log(1 − D(G(z)))."""
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()


def check_value_function(student):
    """02: `student(d_real, d_fake)`, given D's probabilities (tensors) on m real and m generated
    samples, should return V(D, G) = mean log D(x) + mean log(1 - D(G(z))) (Eq. 1 on a
    minibatch), to within 1e-5, including outputs of D as close to 0 and 1 as 1e-6."""
    g = torch.Generator().manual_seed(0)
    inputs = [(torch.tensor([0.9, 0.8]), torch.tensor([0.1, 0.3])),
              (torch.tensor([0.5]), torch.tensor([0.5])),
              (torch.rand(64, generator=g).double() * 0.98 + 0.01,
               torch.rand(64, generator=g).double() * 0.98 + 0.01),
              (torch.tensor([1 - 1e-6, 1e-6], dtype=torch.float64),
               torch.tensor([1e-6, 0.5], dtype=torch.float64))]
    mistakes = {"it uses log D(G(z)) where V has log(1 − D(G(z)))":
                lambda r, f: torch.log(r).mean() + torch.log(f).mean(),
                "it sums over the minibatch where V takes the mean":
                lambda r, f: torch.log(r).sum() + torch.log1p(-f).sum()}
    return check(student, reference_value_function, inputs, "V(D, G)", atol=1e-5, mistakes=mistakes,
                 hint="V = mean log D(x) + mean log(1 − D(G(z))); it is −log 4 ≈ −1.386 when "
                 "every D output is ½. F.binary_cross_entropy(d, target) is −mean log of the "
                 "probability given to the target")


def check_optimal_discriminator(student):
    """02: `student(p_data, p_g)`, two density arrays on a grid, should return
    D*(x) = p_data / (p_data + p_g) (Prop. 1) to within 1e-6, and 1/2 where both densities are 0."""
    from gankit.metrics import optimal_discriminator
    x = np.linspace(-4, 4, 9)

    def gauss(mean, std):
        return np.exp(-(x - mean) ** 2 / (2 * std ** 2)) / (std * np.sqrt(2 * np.pi))
    inputs = [(gauss(0, 1), gauss(1, 1)), (gauss(0, 1), gauss(0, 1)),
              (np.array([0.2, 0.0, 0.3]), np.array([0.0, 0.4, 0.1])),
              (np.array([0.0, 0.5]), np.array([0.0, 0.5]))]
    mistakes = {"it returns p_g / (p_data + p_g), which is 1 − D*":
                lambda p_data, p_g: 1 - optimal_discriminator(p_data, p_g)}
    with np.errstate(divide="ignore", invalid="ignore"):       # 0/0 is reported, not warned
        return check(student, optimal_discriminator, inputs, "D*", mistakes=mistakes,
                     hint="D* = p_data / (p_data + p_g); where both are 0 no sample ever lands, "
                          "0/0 is undefined, and the convention is ½ (np.where)")


# ------------------------------------------------------------ widget (02)
def figure1_scrubber(recorder: Figure1Recorder, index: int = -1) -> Panel:
    """02: a slider over the recorded training steps; each position draws that step's Figure-1
    panel (p_data, p_g, D, D*, z -> x) beside the trajectory of C(G), with the step marked."""
    if not recorder.snapshots:
        raise ValueError("the recorder holds no snapshots yet: train with it as a callback first")
    options = [(str(snap.step), i) for i, snap in enumerate(recorder.snapshots)]
    slider = widgets.SelectionSlider(options=options, value=range(len(options))[index],
                                     description="step", continuous_update=False)
    return Panel([slider], lambda: plot_snapshot(recorder, slider.value))
