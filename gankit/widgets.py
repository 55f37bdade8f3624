"""Interactive widgets: the `Panel` every notebook's widgets are built on, and the latent widgets
(interpolation, DCGAN Figure-7 arithmetic) that any image generator can use (03 MNIST, 04 faces).
Each lesson's own widgets live in its module in `gankit.lessons`.

Conventions (every widget here follows them; add new ones the same way, one factory per widget):

1. A widget is a factory `name(...) -> Panel`. It builds its controls and hands `Panel` a
   `render()` that returns a matplotlib Figure for the controls' current values. The drawing lives
   in the lesson's module (`gankit.lessons.inverse_cdf`, ...) or in `gankit.plots`, so a notebook
   or a test can draw the same picture without a widget.
2. Only ipywidgets APIs that exist in both 7.x (Colab) and 8.x: IntSlider, FloatSlider,
   SelectionSlider, Dropdown, ToggleButtons, Button, Output, HBox/VBox;
   `observe(callback, names="value")` and `Button.on_click`. Sliders redraw on release
   (`continuous_update=False`): a matplotlib figure takes a tenth of a second to draw.
3. The current state is drawn at creation, and every change redraws: the figure becomes a PNG
   that replaces the content of the panel's `Output`. No callback waits for a browser, so
   papermill and nbval run through.
4. A saved notebook keeps no widget state (the course strips `metadata.widgets`), so `Panel` also
   offers its current PNG as the cell's `image/png` output: GitHub and nbconvert show the
   default state's picture where no widget can run.
5. Tests run headless: set a control's `.value` (or call `.click()`) and assert on what changed,
   e.g. that `panel.png` is now the picture `render` gives for the new value.
"""
from __future__ import annotations

import base64
import io

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from .latent import check_neighbours, check_path, interpolate, lerp, slerp, vector_arithmetic
from .models import generate, latent_from_seed  # noqa: F401  (notebooks import it from here)
from .plots import image_grid, subplots


def figure_png(fig) -> bytes:
    """`fig` as PNG bytes (at its own dpi, <= 100 in gankit.plots), and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


class Panel(widgets.VBox):
    """Controls above, the current picture below (in an `Output`); `png` holds that picture.

    A change of any of `controls` (a click of a Button) redraws the picture. `shown`, when given,
    is what stands above the picture instead, in its order: the controls and widgets that are not
    controls (a message line, text boxes read only when a button is clicked)."""

    def __init__(self, controls, render, shown=None):
        self.out = widgets.Output()
        super().__init__(children=[*(controls if shown is None else shown), self.out])
        self._render = render
        self.png = b""
        for control in controls:
            if isinstance(control, widgets.Button):
                control.on_click(self.redraw)
            else:
                control.observe(self.redraw, names="value")
        self.redraw()

    def redraw(self, *_):
        """Draw the current state and put it in the Output (replacing the previous picture)."""
        self.png = figure_png(self._render())
        # Setting `outputs` is how ipywidgets' own Output.append_display_data works: it needs no
        # kernel message to capture, so it behaves the same in a browser, papermill and pytest.
        image = base64.b64encode(self.png).decode("ascii")
        self.out.outputs = ({"output_type": "display_data", "metadata": {},
                             "data": {"image/png": image, "text/plain": "a figure"}},)

    def _repr_png_(self) -> bytes:
        return self.png                    # the picture where no widget can run (see convention 4)


# ====================================================================== latent widgets: any generator
# ----------------------------------------------------------------------------- generating




def _image(ax, x, nrow=8, title=None):
    """Draw (N, C, H, W) images in [-1, 1] as one grid, grey for one channel, no ticks."""
    grid = image_grid(x, nrow)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return grid


# ----------------------------------------------------------------------------- interpolation
def _slerp_by(slerp_fn):
    """gankit's slerp, or `slerp_fn(z0, z1, t)` of one number t (notebook 03's exercise) applied
    t by t, both as (z0, z1, ts) -> (len(ts), d)."""
    if slerp_fn is None:
        return slerp
    return lambda z0, z1, ts: torch.stack([torch.as_tensor(slerp_fn(z0, z1, float(s)))
                                           for s in torch.as_tensor(ts).reshape(-1)])


def plot_interpolation(G, z0, z1, t=0.5, method="slerp", n_frames=8, y=None, slerp_fn=None):
    """G(z_t) large, |z_t| along both paths (the typical shell sqrt(d) marked), and a strip of
    n_frames frames from z0 to z1 along `method`; `slerp_fn` replaces gankit's slerp."""
    path = interpolate(z0, z1, n_frames, method)          # checks n_frames and method
    along = lerp if method == "lerp" else _slerp_by(slerp_fn)
    if method == "slerp" and slerp_fn is not None:        # the student's slerp draws the frames too
        path = along(z0, z1, torch.linspace(0, 1, n_frames))
    z_t = along(z0, z1, torch.tensor([float(t)]))[0]
    images = generate(G, torch.cat([z_t[None], path]), y)
    fig = subplots(figsize=(8.4, 4.6))[0]
    fig.clear()
    grid = fig.add_gridspec(2, 2, height_ratios=[2.2, 1], width_ratios=[1, 1.5])
    _image(fig.add_subplot(grid[0, 0]), images[:1], 1, f"G(z_t), t = {t:.2f} ({method})")
    _plot_norms(fig.add_subplot(grid[0, 1]), z0, z1, t, method, _slerp_by(slerp_fn))
    _image(fig.add_subplot(grid[1, :]), images[1:], n_frames,
           f"{n_frames} frames from z_a (left) to z_b (right) along {method}")
    return fig


def _plot_norms(ax, z0, z1, t, method, slerp_path=slerp):
    ts = torch.linspace(0, 1, 101)
    for name, fn, style in (("lerp", lerp, "--"), ("slerp", slerp_path, "-")):
        ax.plot(ts.numpy(), fn(z0, z1, ts).norm(dim=1).numpy(), style, label=name,
                lw=2.5 if name == method else 1.2)
    ax.axhline(math.sqrt(len(z0)), color="grey", ls=":", label="√d: where N(0, I) samples lie")
    ax.axvline(t, color="black", lw=0.8)
    ax.set_xlabel("t")
    ax.set_ylabel("|z_t|")
    ax.set_ylim(0, None)
    ax.set_title("length of z along the path", fontsize=9)
    ax.legend(fontsize=7, loc="lower center")


def interpolation_widget(G, seed_a: int = 0, seed_b: int = 1, method: str = "slerp",
                         n_frames: int = 8, y=None, slerp_fn=None) -> Panel:
    """Two seeds give z_a and z_b; lerp/slerp buttons and a slider t in [0, 1] show G(z_t) large,
    beside the strip of n_frames frames along the path. `y`: the fixed label of a conditional G;
    `slerp_fn(z0, z1, t)`: a slerp of one number t to use instead of gankit's (notebook 03)."""
    check_path(n_frames, method)                                       # one-line errors up front
    a = widgets.IntText(value=seed_a, description="seed a")
    b = widgets.IntText(value=seed_b, description="seed b")
    how = widgets.ToggleButtons(options=["lerp", "slerp"], value=method, description="path")
    t = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t",
                            continuous_update=False)

    def render():
        z0, z1 = latent_from_seed(G, a.value)[0], latent_from_seed(G, b.value)[0]
        return plot_interpolation(G, z0, z1, t.value, how.value, n_frames, y, slerp_fn)
    return Panel([a, b, how, t], render)


# ----------------------------------------------------------------------------- arithmetic
def parse_indices(text: str, n: int, name: str) -> list:
    """"0, 4 7" -> [0, 4, 7]; a one-line ValueError for anything that is not 1+ numbers in 0..n-1."""
    parts = text.replace(",", " ").split()
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"{name}: type sample numbers separated by commas, e.g. 0, 4, 7 "
                         f"(got {text!r})")
    numbers = [int(p) for p in parts]
    bad = [k for k in numbers if k >= n]
    if bad:
        raise ValueError(f"{name}: {bad} not in the grid: the samples are numbered 0..{n - 1}")
    return numbers


def plot_arithmetic(G, z, a, b, c, noise=0.25, n_neighbours=8, seed=0, message="",
                    combine_fn=None):
    """The numbered sample grid (left), G(mean z) of each concept, and A - B + C in the centre of
    its noisy neighbours (right), as in DCGAN's Fig. 7. With `message`, the grid and the message.
    `combine_fn(z, a, b, c)` replaces gankit's A - B + C (notebook 04's exercise)."""
    fig = subplots(figsize=(10, 5))[0]
    fig.clear()
    grid = fig.add_gridspec(2, 4, width_ratios=[2.6, 1, 1, 1], height_ratios=[1, 1.7])
    _numbered_grid(fig.add_subplot(grid[:, 0]), generate(G, z))
    if message:
        fig.suptitle(message, color="tab:red", fontsize=10)
        return fig
    result = vector_arithmetic(z, a, b, c, n_neighbours, noise, torch.Generator().manual_seed(seed),
                               combine_fn)
    means = torch.stack([z[a].mean(0), z[b].mean(0), z[c].mean(0)])
    on_shell = getattr(G, "latent", "normal") == "normal"
    if on_shell:       # a mean of k z ~ N(0, I) has |z| ~ sqrt(d/k); G was trained near sqrt(d)
        means = means * math.sqrt(z.shape[1]) / means.norm(dim=1, keepdim=True)
    images = generate(G, torch.cat([means, result]))
    for k, (name, idx) in enumerate((("A", a), ("B", b), ("C", c))):
        _image(fig.add_subplot(grid[0, 1 + k]), images[k:k + 1], 1,
               f"{name}: mean z of\n#{', #'.join(map(str, idx))}" + (", |z| = √d" * on_shell))
    _image(fig.add_subplot(grid[1, 1:]), _centre_first(images[3:]), _side(len(images) - 3),
           "A − B + C (centre), with noise ±{:g} around it".format(noise))
    return fig


def _side(n: int) -> int:
    """Columns of a square-ish grid of n images."""
    return math.ceil(math.sqrt(n))


def _centre_first(images: torch.Tensor) -> torch.Tensor:
    """Put row 0 (the result) in the middle of a square grid of the rows (3×3 for 1 + 8)."""
    n = len(images)
    side = math.isqrt(n)
    if side * side != n or side % 2 == 0:
        return images                              # no single centre: keep the order
    order = list(range(1, n))
    order.insert(n // 2, 0)
    return images[order]


def _numbered_grid(ax, images: torch.Tensor):
    """The samples in a square-ish grid, each with its number in the top-left corner."""
    nrow = math.ceil(math.sqrt(len(images)))
    _image(ax, images, nrow, "samples: type their numbers as A, B, C")
    h, w = images.shape[-2:]
    for k in range(len(images)):
        row, col = divmod(k, nrow)
        ax.text(col * (w + 2) + 2, row * (h + 2) + 2, str(k), fontsize=8 if nrow > 8 else 9,
                va="top", color="black", bbox=dict(facecolor="yellow", alpha=0.6, pad=0.3, lw=0))


def arithmetic_widget(G, n_samples: int = 36, seed: int = 0, per_concept: int = 3,
                      noise: float = 0.25, n_neighbours: int = 8, concepts=None,
                      combine_fn=None) -> Panel:
    """DCGAN Fig. 7 on any G: a numbered grid of n_samples; the student types the numbers of the
    exemplars of concepts A, B and C and clicks "combine" to see A - B + C with its noisy
    neighbours. `concepts`: the preset (a, b, c) lists; default the first 3 × per_concept samples.
    `combine_fn(z, a, b, c)`: the combination to use instead of gankit's (notebook 04's exercise).
    Bad numbers give a message in the widget, not an exception."""
    check_neighbours(n_neighbours, noise)                                      # errors up front
    if n_samples < 3 or per_concept < 1 or 3 * per_concept > n_samples:
        raise ValueError(f"n_samples={n_samples!r}, per_concept={per_concept!r} are not allowed: "
                         f"need 1 <= per_concept and 3 * per_concept <= n_samples")
    z = latent_from_seed(G, seed, n_samples)
    if concepts is None:
        concepts = [list(range(k * per_concept, (k + 1) * per_concept)) for k in range(3)]
    boxes = [widgets.Text(value=", ".join(map(str, idx)), description=name)
             for name, idx in zip(("A", "B", "C"), concepts)]
    message = widgets.HTML(value="")
    button = widgets.Button(description="combine A − B + C")

    def render():
        try:
            a, b, c = (parse_indices(box.value, n_samples, box.description) for box in boxes)
            message.value = ""
        except ValueError as error:
            message.value = f"<span style='color:#c00'>{error}</span>"
            return plot_arithmetic(G, z, None, None, None, message=str(error))
        return plot_arithmetic(G, z, a, b, c, noise, n_neighbours, seed, combine_fn=combine_fn)

    panel = Panel([button], render, shown=[widgets.HBox(boxes), button, message])
    panel.z, panel.boxes, panel.button, panel.message = z, boxes, button, message
    return panel
