"""Interactive widgets for the notebooks: small factories that wire ipywidgets controls to a picture.

Conventions (every widget here follows them; add new ones the same way, one factory per widget):

1. A widget is a factory `name(...) -> Panel`. It builds its controls and hands `Panel` a
   `render()` that returns a matplotlib Figure for the controls' current values. The drawing lives
   in the topic's module (`gankit.inverse_cdf`, `gankit.gan1d`, `gankit.plots`, ...), so a notebook
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

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .gan1d import Figure1Recorder, plot_snapshot
from .inverse_cdf import plot_inverse_cdf


def figure_png(fig) -> bytes:
    """`fig` as PNG bytes (at its own dpi, <= 100 in gankit.plots), and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


class Panel(widgets.VBox):
    """Controls above, the current picture below (in an `Output`); `png` holds that picture."""

    def __init__(self, controls, render):
        self.out = widgets.Output()
        super().__init__(children=[*controls, self.out])
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


# ----------------------------------------------------------------------------- 01

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


# ----------------------------------------------------------------------------- 02

def figure1_scrubber(recorder: Figure1Recorder, index: int = -1) -> Panel:
    """02: a slider over the recorded training steps; each position draws that step's Figure-1
    panel (p_data, p_g, D, D*, z -> x) beside the trajectory of C(G), with the step marked."""
    if not recorder.snapshots:
        raise ValueError("the recorder holds no snapshots yet: train with it as a callback first")
    options = [(str(snap.step), i) for i, snap in enumerate(recorder.snapshots)]
    slider = widgets.SelectionSlider(options=options, value=range(len(options))[index],
                                     description="step", continuous_update=False)
    return Panel([slider], lambda: plot_snapshot(recorder, slider.value))
