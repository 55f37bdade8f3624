"""gankit.plots: shapes and ranges of image grids, and that every figure says what it plots."""
import math
import re
import types

import matplotlib

matplotlib.use("Agg")  # headless: CI and papermill have no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from gankit import plots  # noqa: E402
from gankit.losses import loss_spec  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fake_history(loss_name="non-saturating", n=40, images=True):
    """What `train` returns, with made-up numbers: a log of n entries and 12 snapshots."""
    spec = loss_spec(loss_name)
    nan = [math.nan] * n
    t = np.linspace(0, 1, n)
    log = {
        "step": list(range(0, 10 * n, 10)),
        "epoch": [i // 10 for i in range(n)],
        "seconds": list(t * 5),
        "d_loss": list(1.2 - 0.3 * t),
        "g_loss": list(0.8 + 0.3 * t),
        "d_real": list(0.9 - 0.3 * t) if spec.probabilities else nan,
        "d_fake": list(0.1 + 0.3 * t) if spec.probabilities else nan,
        "f_real": list(1.5 - t) if "f_real" in spec.logs else nan,
        "f_fake": list(t - 1.5) if "f_fake" in spec.logs else nan,
        "grad_norm_D": list(1 + t),
        "grad_norm_G": list(0.01 + t),
        "wasserstein": list(2 - t) if spec.wasserstein else nan,
        "gp": list(0.1 * t) if loss_name == "wasserstein-gp" else nan,
    }
    shape = (8, 1, 8, 8) if images else (50, 2)
    snapshots = [(100 * i, torch.rand(shape) * 2 - 1) for i in range(12)]
    return types.SimpleNamespace(log=log, snapshots=snapshots, loss_name=loss_name)


def n_frames(html):
    return len(re.findall(r'frames\[\d+\] = "data:image/', html.data))


# ---------------------------------------------------------------------------- image grids
def test_image_grid_one_channel_is_grey_in_unit_range():
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    x[0, 0, 0, 0], x[0, 0, 0, 1] = -1.0, 1.0
    grid = plots.image_grid(x, nrow=8, padding=2)
    assert grid.shape == (2 * 30 + 2, 8 * 30 + 2)  # 2 rows x 8 columns of 28 px + 2 px gaps
    assert grid.min() >= 0 and grid.max() <= 1
    assert grid[2, 2] == 0.0 and grid[2, 3] == 1.0  # -1 -> black, +1 -> white (after the padding)


def test_image_grid_three_channels_and_clamping():
    x = torch.rand(5, 3, 16, 16) * 4 - 2  # out of range on purpose: clamped, not rescaled
    grid = plots.image_grid(x, nrow=4, padding=2)
    assert grid.shape == (2 * 18 + 2, 4 * 18 + 2, 3)
    assert grid.min() >= 0 and grid.max() <= 1


def test_save_images_writes_png_of_grid_size(tmp_path):
    path = plots.save_images(torch.rand(16, 1, 28, 28) * 2 - 1, tmp_path / "run" / "samples.png", nrow=8)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (242, 62) and im.mode == "L"
    with Image.open(plots.save_images(torch.zeros(4, 3, 8, 8), tmp_path / "rgb.png", nrow=2)) as im:
        assert im.size == (22, 22) and im.mode == "RGB"


def test_show_images_has_title_and_no_ticks():
    fig = plots.show_images(torch.zeros(4, 1, 8, 8), nrow=2, title="samples")
    (ax,) = fig.axes
    assert isinstance(fig, Figure) and ax.get_title() == "samples" and not ax.axison
    fig2, axes = plt.subplots(1, 2)
    assert plots.show_images(torch.zeros(4, 3, 8, 8), ax=axes[1]) is fig2  # draws where told


# ---------------------------------------------------------------------------- training curves
def assert_labelled(ax):
    assert ax.get_xlabel() == "generator step"
    assert ax.get_ylabel() and ax.get_title()
    assert ax.get_legend() is not None


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_losses_probability_panel():
    fig = plots.plot_losses(fake_history("minimax"))
    left, right = fig.axes
    assert_labelled(left)
    assert_labelled(right)
    assert "minimax" in left.get_title()
    assert right.get_ylim() == (0, 1)
    assert any("D(x)" in t for t in legend_texts(right)) and any("D(G(z))" in t for t in legend_texts(right))
    half = [ln for ln in right.get_lines() if ln.get_linestyle() == ":"]
    assert len(half) == 1 and list(half[0].get_ydata()) == [0.5, 0.5]


def both_panels(loss_name):
    """plot_losses' two panels, drawn from a history and from its bare log dict (whose loss is
    recognised by which D-output keys are finite), each checked for labels."""
    history = fake_history(loss_name)
    for h in (history, history.log):
        left, right = plots.plot_losses(h).axes
        assert_labelled(left)
        assert_labelled(right)
        yield history, left, right


def test_plot_losses_wasserstein_shows_critic_estimate():
    for history, left, right in both_panels("wasserstein-gp"):
        assert "Wasserstein" in right.get_title() and "critic loss" in legend_texts(left)
        (line,) = right.get_lines()
        np.testing.assert_allclose(line.get_ydata(), history.log["wasserstein"])
        assert right.get_ylim() != (0, 1)


def test_plot_losses_hinge_shows_raw_scores_and_margins():
    for history, left, right in both_panels("hinge"):
        assert "raw score" in right.get_title()
        assert any("f(x)" in t for t in legend_texts(right))
        assert any("f(G(z))" in t for t in legend_texts(right))
        margins = [ln for ln in right.get_lines() if ln.get_linestyle() == ":" and len(ln.get_ydata())]
        assert sorted(ln.get_ydata()[0] for ln in margins) == [-1, 1]


def test_plot_losses_smooths_long_runs():
    fig = plots.plot_losses(fake_history(n=400))  # 400 logs -> a running mean over 8
    left = fig.axes[0]
    assert len(left.get_lines()) == 4  # D and G, each faint as logged and bold as running mean
    assert len(left.get_legend().get_texts()) == 2
    assert len(plots.plot_losses(fake_history(n=400), smooth=False).axes[0].get_lines()) == 2


def test_plot_grad_norms_log_scale():
    fig = plots.plot_grad_norms(fake_history())
    (ax,) = fig.axes
    assert_labelled(ax)
    assert ax.get_yscale() == "log" and legend_texts(ax) == ["‖∇D‖", "‖∇G‖"]


# ---------------------------------------------------------------------------- G's progress
def test_progress_animation_embeds_frames_and_closes_its_figure():
    history = fake_history()
    html = plots.progress_animation(history.snapshots, nrow=4, interval=200)
    assert n_frames(html) == 12 and "data:image/jpeg" in html.data
    assert plt.get_fignums() == []  # closed after rendering: not drawn a second time
    assert n_frames(plots.progress_animation(history, max_frames=5)) == 5
    assert n_frames(plots.progress_animation(fake_history(images=False), max_frames=3)) == 3


def test_select_keeps_first_and_last_evenly():
    assert plots._select(list(range(12)), 4) == [0, 4, 7, 11]
    assert plots._select([7], 6) == [7]


@pytest.mark.parametrize("points", [None, (200, 1), (200, 2)])
def test_show_snapshots_titles_by_step(points):
    snaps = fake_history().snapshots
    if points:
        snaps = [(step, torch.randn(points)) for step, _ in snaps]
    fig = plots.show_snapshots(snaps, n=4)
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 400", "step 700", "step 1100"]
    if points:
        assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_plot_points_2d_marks_centres():
    angles = torch.arange(8) * math.pi / 4
    centers = 2 * torch.stack([angles.cos(), angles.sin()], 1)
    fig = plots.plot_points_2d(torch.randn(100, 2), centers, title="8 Gaussians")
    (ax,) = fig.axes
    assert ax.get_title() == "8 Gaussians" and ax.get_xlabel() and ax.get_ylabel()
    assert legend_texts(ax) == ["generated samples", "mode centres"]


def test_compare_real_fake_titles():
    fig = plots.compare_real_fake(torch.zeros(4, 1, 8, 8), torch.ones(4, 1, 8, 8), nrow=2)
    assert [ax.get_title() for ax in fig.axes] == ["real", "generated"]
    fig = plots.compare_real_fake(torch.randn(100, 2), torch.randn(100, 2))
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()  # same axes, so they compare


def test_every_figure_at_most_100_dpi():
    h, x = fake_history(), torch.zeros(4, 1, 8, 8)
    figures = [
        plots.show_images(x), plots.plot_losses(h), plots.plot_grad_norms(h),
        plots.show_snapshots(h), plots.plot_points_2d(torch.randn(10, 2)), plots.compare_real_fake(x, x),
    ]
    assert all(isinstance(f, Figure) and f.dpi <= 100 for f in figures)
    assert plots.FIG_DPI <= 100 and plots.ANIM_DPI <= 80


@pytest.mark.parametrize("n, channels, nrow", [(10, 1, 4), (6, 3, 3), (5, 3, 8)])
def test_image_grid_matches_torchvision_make_grid(n, channels, nrow):
    from torchvision.utils import make_grid
    x = torch.rand(n, channels, 7, 5) * 2 - 1
    expected = make_grid((x + 1) / 2, nrow=nrow, padding=2, pad_value=1.0)
    expected = expected[0] if channels == 1 else expected.permute(1, 2, 0)
    np.testing.assert_allclose(plots.image_grid(x, nrow=nrow, padding=2), expected.numpy(), atol=1e-6)
