"""Notebook 06 (`notebooks/06_wgan.ipynb`), the 8-Gaussian ring: three GANs with one seed and one budget, and what to watch.

Papers: Metz et al. 2017 (the ring; a vanilla GAN hopping between its modes), Srivastava et al.
2017 (VEEGAN: modes covered and the fraction of high-quality samples), Arjovsky, Chintala & Bottou
2017 (WGAN: weight clipping, RMSprop lr 5e-5, c = 0.01, n_critic = 5), Gulrajani et al. 2017
(WGAN-GP: Adam lr 1e-4, beta = (0, 0.9), lambda = 10, n_critic = 5; their Fig. 1 shows the
critic's value surface on toy data, the clipped critic's weights piling up at +-c, and why a
penalty on the gradient norm at interpolates does better).

- `ring_recipes(cfg)`: the three recipes as `GANTrainer` arguments.
- `train_ring(name, recipe, ring, data, ...)`: one run from the same initial weights and the same
  seed as every other run; returns a `RingRun` with G, D, the history and a `RingTracker`.
- `RingTracker`: a `GANTrainer` callback that records, at every logged step, the modes covered
  and the high-quality fraction of G on a fixed z, and the mean norm of grad_x D at interpolates;
  at a few steps also the samples with the critic's values on a grid (a contour map).
- Figures: `plot_target`, `plot_ring_maps`, `plot_coverage`, `plot_weight_histograms`,
  `plot_interpolate_grad_norms`, `plot_diagnosis` (the loss curves beside the one curve that
  reveals a failure), and for MNIST `plot_estimate_and_quality` (the critic's W1 estimate
  against the Fréchet distance).
- Exercise checkers: `check_critic_loss`, `check_weight_clipping`, `check_gradient_penalty`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from gankit.device import seed_everything
from gankit.exercises import check
from gankit.losses import input_grad_norms, interpolate
from gankit.metrics import ring_coverage
from gankit.models import MLPDiscriminator, MLPGenerator, generate_from_seed
from gankit.plots import DATA, GEN, running_mean, subplots
from gankit.train import GANTrainer

RUN_COLORS = {"vanilla": "tab:red", "wgan_clip": "tab:orange", "wgan_gp": "tab:purple"}
RUN_TITLES = {"vanilla": "vanilla GAN (non-saturating)", "wgan_clip": "WGAN, weight clipping",
              "wgan_gp": "WGAN-GP"}


def ring_recipes(cfg) -> dict:
    """The three runs as `GANTrainer` arguments, from a `WGANConfig`: the papers' values, except
    that the profiles give WGAN-GP's critic a larger learning rate (`cfg.lr_D`, measured)."""
    return {
        "vanilla": dict(loss="non-saturating", optimizer="adam", lr=cfg.lr_vanilla,
                        betas=(0.5, 0.999), n_critic=1),                 # DCGAN's Adam
        "wgan_clip": dict(loss="wasserstein", optimizer="rmsprop", lr=cfg.lr_clip,
                          clip_value=cfg.clip_value, n_critic=cfg.n_critic),   # WGAN, Alg. 1
        "wgan_gp": dict(loss="wasserstein-gp", optimizer="adam", lr=cfg.lr, lr_D=cfg.lr_D,
                        betas=(cfg.beta1, cfg.beta2), lambda_gp=cfg.lambda_gp,
                        n_critic=cfg.n_critic),                          # WGAN-GP, Alg. 1
    }


def ring_models(hidden: int = 128, layers: int = 3, latent_dim: int = 2):
    """G: z (N, latent_dim) -> points (N, 2); D: points -> one score. No dropout, no norm layers."""
    G = MLPGenerator(latent_dim=latent_dim, data_shape=(2,), hidden=(hidden,) * layers,
                     out="linear")
    D = MLPDiscriminator(data_shape=(2,), hidden=(hidden,) * layers, dropout=0)
    return G, D


@torch.no_grad()
def critic_on_grid(D, lim: tuple, n: int = 60) -> tuple:
    """D's raw score f(x) on an n × n grid over [lim[0], lim[1]]²: (xs (n,), ys (n,), f (n, n)),
    where f[i, j] is the score at (xs[j], ys[i]), as `contourf(xs, ys, f)` expects."""
    device = next(D.parameters()).device
    xs = torch.linspace(lim[0], lim[1], n)
    gx, gy = torch.meshgrid(xs, xs, indexing="xy")                       # (n, n) each
    points = torch.stack([gx.flatten(), gy.flatten()], 1).to(device)     # (n², 2)
    f = D(points).float().cpu().view(n, n)
    return xs.numpy(), xs.numpy(), f.numpy()


def interpolate_grad_norms(D, x_real, x_fake, eps) -> torch.Tensor:
    """||grad_x D(x̂)||_2 per sample at x̂ = eps·x_real + (1 - eps)·x_fake: what WGAN-GP's
    penalty pushes towards 1 (here without create_graph: a measurement, not a loss)."""
    return input_grad_norms(D, interpolate(x_real, x_fake, eps)).detach()    # (N,)


class RingTracker:
    """A `GANTrainer` callback: what G and D do on the ring, measured on fixed samples.

    Every logged step: `modes` covered and `hq` (high-quality fraction) of G on `n_samples` fixed
    z (VEEGAN's count, `gankit.metrics.ring_coverage`), and `grad_norm` (mean ||grad_x D|| at
    interpolates between fixed real points and G's samples). At the first logged step past each
    of `map_steps`: `maps` gets (step, samples, critic on a grid) for the contour pictures.
    """

    def __init__(self, ring, n_samples: int = 2500, map_steps=(), grid: int = 60, seed: int = 0):
        g = torch.Generator().manual_seed(seed + 1)
        self.ring, self.grid, self.n_samples = ring, grid, n_samples
        self.x_real = ring.sample(n_samples, seed=g)                      # (n, 2), fixed
        self.eps = torch.rand(n_samples, 1, generator=g)                  # fixed eps per point
        self._z_seed = seed + 2
        self.map_steps = sorted(map_steps)
        self.steps, self.modes, self.hq, self.grad_norm, self.maps = [], [], [], [], []

    def samples(self, G) -> torch.Tensor:
        """G on the tracker's fixed z (the same z at every step), on the CPU."""
        return generate_from_seed(getattr(G, "module", G), self.n_samples, self._z_seed)

    def __call__(self, trainer) -> None:
        self.measure(trainer.G, trainer.D, trainer.step)

    def measure(self, G, D, step: int, force_map: bool = False) -> None:
        x = self.samples(G)
        cov = ring_coverage(x, self.ring.centers, self.ring.std)
        device = next(D.parameters()).device
        norms = interpolate_grad_norms(D, self.x_real.to(device), x.to(device), self.eps.to(device))
        self.steps.append(step)
        self.modes.append(cov["modes_covered"])
        self.hq.append(cov["high_quality_fraction"])
        self.grad_norm.append(float(norms.mean()))
        last_map = self.maps[-1][0] if self.maps else -1
        if force_map or any(last_map < s <= step for s in self.map_steps):
            self.maps.append((step, x[:500], critic_on_grid(D, self.ring.plot_range(), self.grid)))


@dataclass
class RingRun:
    """One training run on the ring: its recipe, models, history and tracker."""

    name: str
    recipe: dict
    G: torch.nn.Module
    D: torch.nn.Module
    history: object
    tracker: RingTracker
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)


def train_ring(name: str, recipe: dict, ring, data, *, steps: int, batch_size: int = 256,
               hidden: int = 128, latent_dim: int = 2, seed: int = 0, max_seconds=None,
               n_maps: int = 4, log_points: int = 50, progress: bool = True) -> RingRun:
    """Train one GAN on the ring for `steps` generator steps (or `max_seconds`, if sooner).

    Every run with the same `seed` starts from the same G and D weights and draws the same z and
    data order, so runs differ only in their recipe (the loss, optimiser and n_critic).
    """
    seed_everything(seed)
    G, D = ring_models(hidden, latent_dim=latent_dim)                     # same init for every run
    map_steps = [round(steps * (k + 1) / n_maps) for k in range(n_maps)] if n_maps else []
    tracker = RingTracker(ring, map_steps=map_steps, seed=seed)
    trainer = GANTrainer(G, D, seed=seed, log_every=max(1, steps // log_points),
                         progress=progress, callbacks=[tracker], **recipe)
    tracker.measure(trainer.G, trainer.D, 0, force_map=n_maps > 0)       # the start
    start = time.perf_counter()
    history = trainer.fit(data, batch_size=batch_size, steps=steps, max_seconds=max_seconds)
    seconds = time.perf_counter() - start
    if tracker.steps[-1] != trainer.step:                                # the end, if not logged
        tracker.measure(trainer.G, trainer.D, trainer.step, force_map=n_maps > 0)
    elif n_maps and tracker.maps[-1][0] != trainer.step:
        tracker.maps.append((trainer.step, tracker.samples(trainer.G)[:500],
                             critic_on_grid(trainer.D, ring.plot_range(), tracker.grid)))
    summary = dict(modes_covered=tracker.modes[-1], high_quality_fraction=round(tracker.hq[-1], 4),
                   steps=trainer.step, seconds=round(seconds, 1),
                   stopped_early=bool(history.stop_reason) or trainer.step < steps)
    return RingRun(name, recipe, trainer.G, trainer.D, history, tracker, seconds, summary)


# ------------------------------------------------------------------------------------ figures
def _ring_axes(ax, ring):
    lo, hi = ring.plot_range()
    ax.scatter(*ring.centers.T, marker="x", color=DATA, s=30, label="mode centres")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_target(ring, x):
    """Samples of the ring (black) with a circle of radius 3·std round each mode: a generated
    point inside a circle counts as high quality."""
    fig, ax = subplots(figsize=(4.4, 4.4))
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.3, color=DATA, label="samples of p_data")
    angle = np.linspace(0, 2 * np.pi, 60)
    for k, (cx, cy) in enumerate(ring.centers):
        ax.plot(cx + 3 * ring.std * np.cos(angle), cy + 3 * ring.std * np.sin(angle),
                color="tab:red", linewidth=1, label="3σ: 'high quality'" if k == 0 else None)
    _ring_axes(ax, ring)
    ax.set_title(f"the ring: {ring.n_modes} Gaussians, radius {ring.radius:g}, std {ring.std:g}",
                 fontsize=10)
    ax.legend(fontsize="small", loc="center")
    return fig


def plot_ring_maps(runs, ring):
    """One row per run, one column per recorded step: G's samples (green) over the critic's
    contour map (blue: darker = higher score), with the modes covered in each title."""
    n_cols = max(len(r.tracker.maps) for r in runs)
    fig, axes = subplots(len(runs), n_cols, figsize=(2.1 * n_cols, 2.3 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs):
        for ax in row:
            ax.set_axis_off()
        for k, (ax, (step, x, (xs, ys, f))) in enumerate(zip(row, run.tracker.maps)):
            ax.set_axis_on()
            ax.contourf(xs, ys, f, levels=12, cmap="Blues")
            ax.scatter(x[:, 0], x[:, 1], s=3, alpha=0.6, color=GEN)
            _ring_axes(ax, ring)
            modes = run.tracker.modes[run.tracker.steps.index(step)]
            ax.set_title(f"step {step}: {modes}/{ring.n_modes} modes", fontsize=9)
            if k == 0:
                ax.set_ylabel(RUN_TITLES.get(run.name, run.name), fontsize=9)
    fig.suptitle("G's samples (green) over the critic's / D's score (blue, darker = higher); "
                 "× = the 8 modes", fontsize=10)
    return fig


def plot_coverage(runs, n_modes: int = 8):
    """Modes covered and the high-quality fraction against the generator step, one line per run."""
    fig, (ax_m, ax_q) = subplots(1, 2, figsize=(10, 3.6))
    for run in runs:
        t = run.tracker
        style = dict(color=RUN_COLORS.get(run.name), label=RUN_TITLES.get(run.name, run.name))
        ax_m.plot(t.steps, t.modes, drawstyle="steps-post", **style)
        ax_q.plot(t.steps, t.hq, **style)
    ax_m.set_ylim(-0.3, n_modes + 0.5)
    ax_m.set_yticks(range(0, n_modes + 1))
    ax_q.set_ylim(0, 1)
    for ax, ylabel, title in ((ax_m, "modes covered", "modes covered (of 8)"),
                              (ax_q, "fraction within 3σ of a mode", "high-quality samples")):
        ax.set_xlabel("generator step")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def critic_weights(D) -> np.ndarray:
    """Every weight of D's linear layers (not the biases), flattened."""
    return torch.cat([m.weight.detach().flatten().cpu() for m in D.modules()
                      if isinstance(m, torch.nn.Linear)]).numpy()


def plot_weight_histograms(critics: dict, clip_value: float):
    """A histogram of each critic's weights; dotted lines at ±c, where clipping holds them."""
    fig, axes = subplots(1, len(critics), figsize=(4.6 * len(critics), 3.4), squeeze=False)
    for ax, (name, D) in zip(axes[0], critics.items()):
        w = critic_weights(D)
        ax.hist(w, bins=80, color=RUN_COLORS.get(name, "tab:blue"))
        for s in (-clip_value, clip_value):
            ax.axvline(s, color="k", linestyle=":", linewidth=1)
        if np.abs(w).max() <= clip_value * (1 + 1e-6):            # a clipped critic
            at_edge = np.mean(np.abs(w) >= 0.999 * clip_value)
            note = f"{at_edge:.0%} of weights at ±c = ±{clip_value:g}"
            ax.set_xticks(np.linspace(-clip_value, clip_value, 5))
        else:
            biggest = np.abs(w).max()
            note = f"unclipped: weights up to ±{biggest:.2g} (dotted: ±c = ±{clip_value:g})"
        ax.set_xlabel("weight value")
        ax.set_ylabel("number of weights")
        ax.set_title(f"{RUN_TITLES.get(name, name)}\n{note}", fontsize=10)
    return fig


def plot_interpolate_grad_norms(runs):
    """Mean ||grad_x D|| at interpolates between real and generated points, over training."""
    fig, ax = subplots(figsize=(6.4, 3.6))
    for run in runs:
        ax.plot(run.tracker.steps, run.tracker.grad_norm, color=RUN_COLORS.get(run.name),
                label=RUN_TITLES.get(run.name, run.name))
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="1: the penalty's target")
    ax.set_yscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel("mean ‖∇ₓ D(x̂)‖ (log scale)")
    ax.set_title("the critic's gradient norm at interpolates x̂")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return fig


def _series(run, what, max_step=None):
    steps, values = ((run.tracker.steps, run.tracker.modes) if what == "modes"
                     else (run.history.log["step"], run.history.log[what]))
    keep = [i for i, s in enumerate(steps) if max_step is None or s <= max_step]
    return [steps[i] for i in keep], [values[i] for i in keep]


def plot_diagnosis(runs: dict, reveal: str, ylabel: str, title: str, log: bool = False,
                   max_step=None):
    """Left: the losses a student would watch. Right: the curve that reveals the failure.

    `runs` maps a label to a `RingRun`; `reveal` is a history key ("grad_norm_G", "d_fake") or
    "modes" (the tracker's modes covered). `max_step` trims longer runs to a common range.
    """
    fig, (ax_l, ax_r) = subplots(1, 2, figsize=(10, 3.6))
    colors = ["tab:red", "tab:blue", "tab:purple", "tab:orange"]
    for color, (label, run) in zip(colors, runs.items()):
        ax_l.plot(*_series(run, "d_loss", max_step), color=color, label=f"D loss, {label}")
        ax_l.plot(*_series(run, "g_loss", max_step), color=color, linestyle="--",
                  label=f"G loss, {label}")
        ax_r.plot(*_series(run, reveal, max_step), color=color, label=label,
                  drawstyle="steps-post" if reveal == "modes" else "default")
    ax_l.set_title("what the loss curves show")
    ax_l.set_ylabel("loss")
    ax_r.set_title(title)
    ax_r.set_ylabel(ylabel)
    if log:
        ax_r.set_yscale("log")
    for ax in (ax_l, ax_r):
        ax.set_xlabel("generator step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


# ------------------------------------------------- Kantorovich-Rubinstein, visible (section 1)
def shifted_uniforms(d: float, n: int = 1000, seed: int = 0) -> tuple:
    """n points of p = U(0, 1) and n of q_d = U(d, d + 1), as (n, 1) tensors: WGAN's Example 1
    in one dimension (two distributions that stop overlapping once d >= 1). Exact values:
    W1(p, q_d) = |d| (every unit of mass moves by d) and JSD(p, q_d) = min(|d|, 1)·log 2."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, generator=g), d + torch.rand(n, 1, generator=g)


def train_gp_critic(x_real, x_fake, *, lambda_gp: float = 10.0, steps: int = 400,
                    batch_size: int = 256, hidden: int = 64, lr: float = 1e-3, seed: int = 0):
    """A fresh critic trained on two fixed samples alone (no generator): it ascends
    mean f(x_real) - mean f(x_fake) - lambda·GP, Adam beta = (0, 0.9) as in WGAN-GP.
    Returns (critic, its W1 estimate mean f(x_real) - mean f(x_fake) over all the points)."""
    from gankit.losses import discriminator_loss, gradient_penalty
    torch.manual_seed(seed)
    D = MLPDiscriminator(data_shape=tuple(x_real.shape[1:]), hidden=(hidden, hidden), dropout=0)
    with torch.no_grad():            # start at f = 0: the data, not the initial weights, choose
        D.net[-1].weight.zero_()     # f's direction (from a wrong-signed start, reaching the other
        D.net[-1].bias.zero_()       # slope means crossing |f'| = 0, where the penalty is largest)
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.9))
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        i = torch.randint(len(x_real), (batch_size,), generator=g)
        j = torch.randint(len(x_fake), (batch_size,), generator=g)
        loss = discriminator_loss("wasserstein", D(x_real[i]), D(x_fake[j]))
        loss = loss + lambda_gp * gradient_penalty(D, x_real[i], x_fake[j], generator=g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        estimate = float(D(x_real).mean() - D(x_fake).mean())
    return D, estimate


def kr_duality_1d(distances, *, lambda_gp: float = 10.0, n: int = 1000, steps: int = 300,
                  seed: int = 0) -> list:
    """For each distance d: the exact W1 of the two samples (optimal transport,
    `gankit.metrics.w1_exact`), a gradient-penalty critic's estimate (the dual side), and the
    JSD of the two densities (`gankit.metrics.jsd` on a grid). Returns a list of dicts
    {"distance", "w1_exact", "w1_critic", "jsd"}."""
    from gankit.metrics import jsd, w1_exact
    rows = []
    for d in distances:
        x_real, x_fake = shifted_uniforms(d, n, seed)
        _, estimate = train_gp_critic(x_real, x_fake, lambda_gp=lambda_gp, steps=steps, seed=seed)
        x = np.linspace(min(0, d) - 0.5, max(1, d + 1) + 0.5, 20_001)
        p = ((x >= 0) & (x <= 1)).astype(float)
        q = ((x >= d) & (x <= d + 1)).astype(float)
        rows.append(dict(distance=float(d), w1_exact=round(w1_exact(x_real, x_fake), 4),
                         w1_critic=round(estimate, 4), jsd=round(jsd(p, q, x), 4)))
    return rows


def plot_kr_duality(rows):
    """Exact W1, the critic's estimate and the JSD against the distance d (WGAN, Example 1)."""
    d = [r["distance"] for r in rows]
    fig, ax = subplots(figsize=(6.4, 3.8))
    ax.plot(d, [r["w1_exact"] for r in rows], "k-", label="exact W₁ (optimal transport)")
    ax.plot(d, [r["w1_critic"] for r in rows], "o--", color="tab:purple",
            label="GP critic: mean f(p) − mean f(q)")
    ax.plot(d, [r["jsd"] for r in rows], "s-", color="tab:red", label="JSD(p, q)")
    ax.axhline(np.log(2), color="tab:red", linestyle=":", linewidth=1, label="log 2")
    ax.set(xlabel="distance d between p = U(0, 1) and q = U(d, d + 1)", ylabel="value",
           title="JSD saturates at log 2; W₁ keeps growing, and a critic recovers it")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


@torch.no_grad()
def ring_w1(run, ring, n: int = 1000, seed: int = 0) -> dict:
    """The exact W1 between n of G's samples and n points of the ring (optimal transport), the
    run's critic's estimate mean f(x_real) - mean f(G(z)) on those same points, and the floor:
    the exact W1 between two independent n-point samples of the ring itself."""
    from gankit.metrics import w1_exact
    g = torch.Generator().manual_seed(seed + 3)
    x_real, x_other = ring.sample(n, seed=g), ring.sample(n, seed=g)
    x_fake = run.tracker.samples(run.G)[:n]
    device = next(run.D.parameters()).device
    f = lambda x: run.D(x.to(device)).float().mean().item()               # noqa: E731
    sig = lambda v: float(f"{v:.4g}")                  # noqa: E731  4 significant digits: the
    return dict(exact=sig(w1_exact(x_real, x_fake)),   # clipped critic's estimate is ~1e-4
                critic=sig(f(x_real) - f(x_fake)),
                floor=sig(w1_exact(x_real, x_other)))


# ------------------------------------------------------------- beyond the ring: MNIST in section 5
def plot_estimate_and_quality(history, quality, floor=None):
    """Left: the critic's W1 estimate over training (as logged, and a running mean) with the
    Fréchet distance at checkpoints on a second axis. Right: FD against the estimate, one point
    per checkpoint.

    `quality` is a list of (step, W1 estimate, Fréchet distance); `floor` the FD of real vs real.
    """
    steps, w = np.asarray(history.log["step"], float), np.asarray(history.log["wasserstein"], float)
    q_step, q_w, q_fd = (np.asarray(v, float) for v in zip(*quality))
    fig, (ax_w, ax_s) = subplots(1, 2, figsize=(10.5, 3.9))
    ax_w.plot(steps, w, color="tab:blue", alpha=0.3, linewidth=0.8)
    k = max(1, len(w) // 15)
    if k > 1:
        ax_w.plot(steps[k - 1:], running_mean(w, k), color="tab:blue",
                  linewidth=1.8, label="critic's W₁ estimate (running mean)")
    ax_w.set(xlabel="generator step", ylabel="mean f(x_real) − mean f(G(z))",
             title="W₁ estimate (blue) and Fréchet distance (green)")
    ax_f = ax_w.twinx()
    ax_f.plot(q_step, q_fd, "o-", color=GEN, label="Fréchet distance (right axis)")
    if floor is not None:
        ax_f.axhline(floor, color=GEN, linestyle=":", label="FD of real vs real digits")
    ax_f.set(ylabel="Fréchet distance (log scale)", yscale="log")
    handles = ax_w.get_legend_handles_labels()[0] + ax_f.get_legend_handles_labels()[0]
    ax_w.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.17),
                ncol=2, frameon=False)
    points = ax_s.scatter(q_w, q_fd, c=q_step, cmap="viridis")
    fig.colorbar(points, ax=ax_s, label="generator step")
    ax_s.set(xlabel="critic's W₁ estimate at the checkpoint", ylabel="Fréchet distance",
             title="one point per checkpoint")
    ax_s.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------ exercise checkers (06)
def _critic_scores(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(16, generator=g) + 1.0, torch.randn(16, generator=g) - 1.0


def reference_critic_loss(f_real, f_fake):
    """gankit's answer to exercise 1: the loss the critic descends."""
    from gankit.losses import discriminator_loss
    return discriminator_loss("wasserstein", f_real, f_fake)


def check_critic_loss(critic_loss):
    """06: critic_loss(f_real, f_fake) -> the loss the critic descends (WGAN, Algorithm 1), to
    within 1e-6."""
    from gankit.losses import discriminator_loss
    inputs = [(torch.tensor([2.0, 1.0, 0.5]), torch.tensor([-1.0, 0.0, 0.5])),
              _critic_scores(0), (torch.tensor([0.3]), torch.tensor([0.3]))]
    mistakes = {"this is the critic's W₁ estimate, mean f(x) − mean f(G(z)): the critic ascends it, "
                "so it descends its negative": lambda r, f: r.mean() - f.mean(),
                "this is a GAN discriminator's loss (log sigmoid): a critic's scores are raw":
                lambda r, f: discriminator_loss("minimax", r, f)}
    return check(critic_loss, reference_critic_loss, inputs, "critic loss", mistakes=mistakes,
                 hint="the critic descends mean f(G(z)) − mean f(x): raw scores, no log, no sigmoid")


def _toy_critic(seed: int, data_shape=(2,)):
    """A small MLP critic whose weights and biases reach well beyond ±0.5."""
    from gankit.models import MLPDiscriminator
    with torch.random.fork_rng(devices=[]):     # the constructor draws from the global RNG
        D = MLPDiscriminator(data_shape=data_shape, hidden=(8, 8), dropout=0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in D.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return D


@torch.no_grad()
def _clip_weights_only(D, c):
    for name, p in D.named_parameters():
        if name.endswith("weight"):
            p.clamp_(-c, c)


def check_weight_clipping(clip_weights):
    """06: clip_weights(D, c) clamps every parameter of D to [-c, c] in place (WGAN, Alg. 1
    line 7); all of them must equal gankit's to within 1e-6."""
    from gankit.losses import clip_weights as reference

    def clipped(fn):
        def run(c):
            D = _toy_critic(seed=6)
            fn(D, c)
            return torch.cat([p.detach().flatten() for p in D.parameters()])   # weights and biases
        return run

    mistakes = {"it changed no parameter: clamp in place (p.clamp_), so the critic keeps the "
                "clipped values": clipped(lambda D, c: None),
                "it clips the weights but not the biases": clipped(_clip_weights_only)}
    return check(clipped(clip_weights), clipped(reference), [(0.01,), (0.5,), (2.0,)],
                 "weight clipping", mistakes=mistakes,
                 hint="clamp every parameter (weights and biases) to [-c, c] in place, e.g. "
                      "p.clamp_(-c, c) for p in D.parameters() under torch.no_grad()")


def _penalty_inputs():
    g = torch.Generator().manual_seed(7)
    points = (_toy_critic(1), torch.randn(32, 2, generator=g), torch.randn(32, 2, generator=g), 0)
    images = (_toy_critic(2, (1, 4, 4)), torch.randn(16, 1, 4, 4, generator=g),
              torch.randn(16, 1, 4, 4, generator=g), 1)
    return [points, images]


def _eps_for(x, seed):                    # one eps per sample, drawn exactly as gankit draws it
    return torch.rand(len(x), *[1] * (x.dim() - 1), generator=torch.Generator().manual_seed(seed))


def reference_gradient_penalty(D, x_real, x_fake, eps):
    """gankit's penalty with the exercise's signature: E[(||grad D(x̂)||₂ − 1)²], x̂ given by eps."""
    from gankit.losses import input_grad_norms, interpolate
    norms = input_grad_norms(D, interpolate(x_real, x_fake, eps), create_graph=True)
    return ((norms - 1) ** 2).mean()


def trainer_penalty(penalty):
    """The exercise's `penalty(D, x_real, x_fake, eps)` as GANTrainer's `gradient_penalty`: eps is
    drawn from the trainer's generator exactly as `gankit.losses.gradient_penalty` draws it."""
    def run(D, x_real, x_fake, y=None, generator=None):
        if y is not None:
            raise ValueError("the exercise's penalty takes no labels: use it with an "
                             "unconditional critic")
        eps = torch.rand(len(x_real), *[1] * (x_real.dim() - 1), device=x_real.device,
                         generator=generator)
        return penalty(D, x_real, x_fake, eps)
    return run


def _one_sided_penalty(D, x_real, x_fake, eps):
    from gankit.losses import input_grad_norms, interpolate
    norms = input_grad_norms(D, interpolate(x_real, x_fake, eps), create_graph=True)
    return (torch.relu(norms - 1) ** 2).mean()


def _penalty_per_row(D, x_real, x_fake, eps):
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=-1) - 1) ** 2).mean()


def check_gradient_penalty(gradient_penalty):
    """06: gradient_penalty(D, x_real, x_fake, eps) -> E[(||grad D(x̂)||₂ − 1)²] (WGAN-GP, Eq. 3),
    with x̂ = eps·x_real + (1 − eps)·x_fake; eps has shape (N, 1, ...), one number per sample.
    Checked against gankit's with the same eps on points and on small images, to within 1e-6 in
    value and 1e-5 in its gradient with respect to D's weights (which the critic's optimiser needs)."""
    from gankit.exercises import correct, wrong

    def with_eps(fn):
        return lambda D, x_real, x_fake, seed: fn(D, x_real, x_fake, _eps_for(x_real, seed))

    def weight_grad(fn):
        def run(D, x_real, x_fake, seed):
            penalty = fn(D, x_real, x_fake, seed)
            if not (isinstance(penalty, torch.Tensor) and penalty.requires_grad):
                return torch.tensor([float("nan")])
            return torch.autograd.grad(penalty, D.net[0].weight)[0]
        return run

    name, inputs = "gradient penalty", _penalty_inputs()
    student, want = with_eps(gradient_penalty), with_eps(reference_gradient_penalty)
    mistakes = {"this penalty is one-sided, relu(‖∇‖ − 1)²: WGAN-GP's is two-sided, (‖∇‖ − 1)²":
                with_eps(_one_sided_penalty),
                "the norm runs over the last axis only: take it over all of a sample's values "
                "(grad.flatten(1).norm(dim=1))": with_eps(_penalty_per_row)}
    verdict = check(student, want, inputs, name, mistakes=mistakes,
                    hint="x̂ = eps·x_real + (1 − eps)·x_fake with requires_grad; torch.autograd.grad("
                         "D(x̂).sum(), x̂, create_graph=True); the norm over all of a sample's values "
                         "(flatten(1)); mean of (norm − 1)²")
    if not verdict:
        return verdict
    verdict = check(weight_grad(student), weight_grad(want), inputs, name, atol=1e-5)
    if not verdict:
        return wrong(name, "the value is right, but the critic's optimiser cannot descend it: its "
                     "gradient with respect to D's weights is missing or wrong", "pass "
                     "create_graph=True to torch.autograd.grad")
    return correct(name, f"correct on {len(inputs)} inputs (value and gradient with respect to "
                         f"D's weights)")


