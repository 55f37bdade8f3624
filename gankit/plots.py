"""Figures for the course: sample grids, training curves and the progress of G on a fixed z.

Every function reads what `train` returns — an object with `.log` (a dict of equal-length lists
keyed "step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_D", "grad_norm_G",
"wasserstein", "gp", ...), `.snapshots` (a list of `(step, G(fixed z))`) and `.loss_name` — or
just the log dict. The diagnostics are the ones of pytorch/examples' DCGAN (D(x), D(G(z))) and of
the WGAN paper (Arjovsky et al. 2017, Fig. 3: the critic's estimate of the Wasserstein distance).

Colours follow Figure 1 of Goodfellow et al. (2014) throughout: data black, the generator green,
the discriminator blue. Functions return the Figure and never show it; in a notebook use
`show(fig)`, which displays it once and closes it (so it is not drawn twice or kept in memory).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .losses import SPECS, loss_spec

FIG_DPI = 80  # every figure here; the course keeps notebooks small with dpi <= 100
ANIM_DPI = 72  # every animation frame is embedded in the notebook as an image, so smaller still
DATA, GEN, DISC = "black", "tab:green", "tab:blue"  # Goodfellow et al. (2014), Figure 1


def subplots(nrows=1, ncols=1, figsize=None, **kwargs):
    """`plt.subplots` at FIG_DPI with constrained layout, so labels and titles never overlap."""
    kwargs.setdefault("dpi", FIG_DPI)
    return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", **kwargs)


def show(fig):
    """Display `fig` once in a notebook and close it (an open pyplot figure would be drawn again)."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


# ---------------------------------------------------------------------------- images and points
def image_grid(x, nrow=8, padding=2) -> np.ndarray:
    """(N, C, H, W) images in [-1, 1] -> one grid in [0, 1]: (H', W') for C = 1, else (H', W', 3).

    `nrow` images per row, white gaps of `padding` pixels (torchvision's make_grid, without
    importing torchvision: that import costs a notebook ~100 MB and seconds on Binder)."""
    x = torch.as_tensor(x).detach().cpu().float()
    if x.dim() == 3:  # one image (C, H, W)
        x = x.unsqueeze(0)
    x = ((x + 1) / 2).clamp(0, 1)  # tanh range [-1, 1] -> pixel range [0, 1]
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = torch.ones(c, rows * (h + padding) + padding, cols * (w + padding) + padding)
    for i, image in enumerate(x):
        top, left = padding + (i // cols) * (h + padding), padding + (i % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = image
    return grid[0].numpy() if c == 1 else grid.permute(1, 2, 0).numpy()  # grey, or (H', W', 3)


def show_images(x, nrow=8, title=None, ax=None, figsize=None):
    """Draw a grid of (N, C, H, W) images in [-1, 1] (grey colormap for one channel); no ticks."""
    grid = image_grid(x, nrow)
    if ax is None:
        h, w = grid.shape[:2]
        figsize = figsize or (5 * w / max(h, w), 5 * h / max(h, w) + 0.4)  # + room for a title
        fig, ax = subplots(figsize=figsize)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def save_images(x, path, nrow=8) -> Path:
    """Write a grid of (N, C, H, W) images in [-1, 1] as a PNG, one pixel per pixel (e.g. samples.png)."""
    from PIL import Image

    from .io import atomic_write       # whole or absent, even when Ctrl-C comes mid-write

    grid = np.round(image_grid(x, nrow) * 255).astype(np.uint8)
    # 2-D -> greyscale PNG, (H, W, 3) -> RGB
    return atomic_write(path, lambda f: Image.fromarray(grid).save(f, format="PNG"))


def plot_points_2d(samples, centers=None, ax=None, title=None):
    """Scatter of 2-D samples (green), with the mode centres of the target marked (black x)."""
    if ax is None:
        fig, ax = subplots(figsize=(4.5, 4.5))
    p = _points(samples)
    ax.scatter(p[:, 0], p[:, 1], s=4, alpha=0.3, color=GEN, label="generated samples")
    if centers is not None:
        c = _points(centers)
        # open circles, so the samples sitting on a mode stay visible inside its circle
        ax.scatter(c[:, 0], c[:, 1], s=250, facecolors="none", edgecolors=DATA, linewidths=1.5, label="mode centres")
        legend = ax.legend(loc="upper right", fontsize="small")
        for handle in legend.legend_handles:
            handle.set_alpha(1)  # the legend's dot should be visible even though the points are faint
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "2-D samples")
    return ax.figure


def compare_real_fake(real, fake, nrow=8):
    """Real and generated samples side by side: image grids, or histograms / scatters for points."""
    fig, axes = subplots(1, 2, figsize=(8, 4.4))
    lims = _limits([real, fake])  # same axes for both, so the eye compares like with like
    for ax, x, title in zip(axes, (real, fake), ("real", "generated")):
        _draw(ax, x, nrow, lims, color=DATA if title == "real" else GEN)
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------- training curves
def plot_losses(history, smooth=True):
    """Left: D's and G's losses. Right: what the loss's D outputs mean (`LossSpec.logs`): mean D(x)
    and D(G(z)); for a Wasserstein loss the critic's estimate mean f(x_real) - mean f(x_fake); for
    hinge the mean raw scores f(x) and f(G(z)) against the margins ±1. All against the G step.

    With `smooth`, each curve is drawn faint as logged and bold as a running mean over ~1/50 of
    the run, because GAN losses are noisy from batch to batch.
    """
    log, spec = _log(history), _spec(history)
    step = log["step"]
    fig, (ax_loss, ax_d) = subplots(1, 2, figsize=(10, 3.8))

    d_name = "critic" if spec.wasserstein else "D"
    _curve(ax_loss, step, log["d_loss"], f"{d_name} loss", DISC, smooth)
    _curve(ax_loss, step, log["g_loss"], "G loss", GEN, smooth)
    _label(ax_loss, "loss", f"{d_name} and G losses ({spec.name})")

    if spec.wasserstein:
        # WGAN paper, Fig. 3: this estimate should fall as the samples improve
        _curve(ax_d, step, log["wasserstein"], "mean f(x_real) − mean f(x_fake)", DISC, smooth)
        _label(ax_d, "Wasserstein estimate", "critic's estimate of the Wasserstein distance")
    elif not spec.probabilities:
        # hinge (Lim & Ye 2017): D's raw scores; its loss is zero once f(x) > 1 and f(G(z)) < -1
        _curve(ax_d, step, log["f_real"], "mean f(x), real data", DATA, smooth)
        _curve(ax_d, step, log["f_fake"], "mean f(G(z)), generated", GEN, smooth)
        for margin in (1, -1):
            ax_d.axhline(margin, color="grey", linestyle=":")
        ax_d.plot([], [], color="grey", linestyle=":", label="±1: the hinge's margins")
        _label(ax_d, "mean raw score f", "D's mean raw score on real and generated data")
    else:
        _curve(ax_d, step, log["d_real"], "D(x), real data", DATA, smooth)
        _curve(ax_d, step, log["d_fake"], "D(G(z)), generated", GEN, smooth)
        ax_d.axhline(0.5, color="grey", linestyle=":", label="½: D cannot tell them apart")
        ax_d.set_ylim(0, 1)
        _label(ax_d, "mean D output (probability 'real')", "D's mean output on real and generated data")
    return fig


def plot_grad_norms(history, smooth=True):
    """‖∇D‖ and ‖∇G‖ (gradient norms over all parameters) against the generator step, log scale."""
    log = _log(history)
    fig, ax = subplots(figsize=(6, 3.8))
    _curve(ax, log["step"], log["grad_norm_D"], "‖∇D‖", DISC, smooth)
    _curve(ax, log["step"], log["grad_norm_G"], "‖∇G‖", GEN, smooth)
    ax.set_yscale("log")  # the two norms can differ by orders of magnitude
    _label(ax, "gradient norm (log scale)", "gradient norms of D and G")
    return fig


# ---------------------------------------------------------------------------- G's progress
def show_snapshots(snapshots, n=6, nrow=8):
    """A row of up to `n` snapshots of G(fixed z) — first, last and evenly between — titled by step.

    `snapshots` is `history.snapshots` (or the history): images become grids, (N, 1) points
    histograms and (N, 2) points scatter plots, on the same axes in every panel.
    """
    snaps = _select(_snapshots(snapshots), n)
    fig, axes = subplots(1, len(snaps), figsize=(2.6 * len(snaps), 2.9), squeeze=False)
    lims = _limits([x for _, x in snaps])
    for ax, (step, x) in zip(axes[0], snaps):
        _draw(ax, x, nrow, lims)
        ax.set_title(f"step {step}")
    return fig


def progress_animation(snapshots, nrow=8, interval=400, max_frames=30):
    """An animation of G(fixed z) over training, as HTML for a notebook (`interval` ms per frame).

    At most `max_frames` snapshots are used, evenly spaced and always the first and the last: every
    frame is stored in the notebook as a PNG, and the course keeps each notebook under 3 MB.
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    snaps = _select(_snapshots(snapshots), max_frames)
    fig, ax = subplots(figsize=(3.6, 3.8), dpi=ANIM_DPI)
    lims = _limits([x for _, x in snaps])

    def draw_frame(i):
        ax.clear()
        step, x = snaps[i]
        _draw(ax, x, nrow, lims)
        ax.set_title(f"step {step}")

    anim = FuncAnimation(fig, draw_frame, frames=len(snaps), interval=interval)
    # JPEG frames for images: a grid of noisy early samples is ~3x larger as PNG (measured: 30
    # frames of 64 MNIST samples, 3.6 MB as PNG, 1.0 MB as JPEG); points on white stay PNG
    frame_format = "jpeg" if _is_image(snaps[0][1]) else "png"
    with plt.rc_context({"animation.frame_format": frame_format}):
        html = anim.to_jshtml()
    plt.close(fig)  # the HTML holds the frames; an open figure would also be drawn below it
    return HTML(html)


# ---------------------------------------------------------------------------- helpers
def _log(history) -> dict:
    return history.log if hasattr(history, "log") else history


def _spec(history):
    """The history's losses.LossSpec; for a bare log, the first loss whose D-output keys it logged."""
    name = getattr(history, "loss_name", None)
    if name is None and isinstance(history, dict):
        name = history.get("loss_name")
    if name is not None:
        return loss_spec(name)
    log = _log(history)

    def logged(key):
        return np.isfinite(np.asarray(log.get(key, []), float)).any()

    return next((spec for spec in SPECS.values() if all(logged(k) for k in spec.logs)),
                SPECS["non-saturating"])


def _snapshots(snapshots) -> list:
    snaps = list(getattr(snapshots, "snapshots", snapshots))
    if not snaps:
        raise ValueError("no snapshots to show: train with snapshots enabled (a fixed z sampled every few steps)")
    return snaps


def _select(items, k):
    """At most k items, evenly spaced, always including the first and the last."""
    idx = np.unique(np.linspace(0, len(items) - 1, min(k, len(items))).round().astype(int))
    return [items[i] for i in idx]


def _points(x) -> np.ndarray:
    """A batch of points (N,) or (N, d) as a float32 array (N, d)."""
    x = torch.as_tensor(x).detach().cpu().float()
    return x.reshape(len(x), -1).numpy()  # (N,) -> (N, 1); (N, d) unchanged


def _is_image(x) -> bool:
    return torch.as_tensor(x).dim() >= 3


def _limits(xs):
    """Shared (low, high) per coordinate of point batches, with a 5 % margin; None for images."""
    if any(_is_image(x) for x in xs):
        return None
    p = np.concatenate([_points(x) for x in xs])
    low, high = np.nanmin(p, axis=0), np.nanmax(p, axis=0)
    pad = 0.05 * np.maximum(high - low, 1e-6)
    return list(zip(low - pad, high + pad))


def _draw(ax, x, nrow=8, lims=None, color=GEN):
    """One batch on `ax`: (N, C, H, W) -> image grid, (N, 1) -> histogram, (N, 2) -> scatter."""
    if _is_image(x):
        show_images(x, nrow, ax=ax)
        return
    p = _points(x)
    if p.shape[1] == 1:
        ax.hist(p[:, 0], bins=40, range=lims[0] if lims else None, density=True, color=color, alpha=0.7)
        ax.set_xlabel("x")
        ax.set_ylabel("density")
    elif p.shape[1] == 2:
        ax.scatter(p[:, 0], p[:, 1], s=3, alpha=0.3, color=color)
        if lims:
            ax.set_xlim(*lims[0])
            ax.set_ylim(*lims[1])
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    else:
        raise ValueError(f"cannot draw samples of shape {tuple(p.shape)}: expected images or 1-D/2-D points")


def _curve(ax, x, y, label, color, smooth):
    """Plot y against x; if smoothing, faint as logged plus a bold running mean."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = len(y) // 50 if smooth else 1
    if w < 3:
        marker = "o" if len(y) < 10 else None  # a run of one or two logs would otherwise draw nothing
        ax.plot(x, y, color=color, label=label, linewidth=1.2, marker=marker, markersize=4)
        return
    ax.plot(x, y, color=color, alpha=0.25, linewidth=0.8)
    ax.plot(x[w - 1 :], running_mean(y, w), color=color, label=label, linewidth=1.6)


def running_mean(y, w: int) -> np.ndarray:
    """The mean of each w consecutive values of y: len(y) - w + 1 of them (one noisy batch at a
    time is hard to read; every curve of the course smooths with this)."""
    y = np.asarray(y, float)
    return np.convolve(y, np.ones(w) / w, mode="valid")


def _label(ax, ylabel, title):
    ax.set_xlabel("generator step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    # below the axes, so it never hides a curve wherever the curves go
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    ax.grid(alpha=0.3)
