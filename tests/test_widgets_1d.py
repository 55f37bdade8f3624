"""The widgets of notebooks 01 and 02, headless: set a control's value, check the picture changed."""
import base64

import numpy as np
import pytest
import torch

from gankit.lessons.gan_1d import Figure1Recorder, plot_snapshot
from gankit.lessons.inverse_cdf import plot_inverse_cdf
from gankit.toy import Exponential1D, Gaussian1D, GaussianMixture1D
from gankit.lessons.gan_1d import figure1_scrubber
from gankit.lessons.inverse_cdf import inverse_cdf_explorer
from gankit.widgets import Panel, figure_png

from conftest import toy_pair

TARGETS = {"normal": Gaussian1D(), "exponential": Exponential1D(), "mixture": GaussianMixture1D()}


def shown(panel):
    """The PNG the panel's Output holds now."""
    (output,) = panel.out.outputs
    return base64.b64decode(output["data"]["image/png"])


def test_inverse_cdf_explorer_draws_at_creation_and_on_every_change():
    panel = inverse_cdf_explorer(TARGETS, z=0.3)
    target, z = panel.children[:2]
    assert panel.png.startswith(b"\x89PNG") and shown(panel) == panel.png
    assert panel.png == figure_png(plot_inverse_cdf(TARGETS["normal"], 0.3, "normal"))
    z.value = 0.8
    assert panel.png == figure_png(plot_inverse_cdf(TARGETS["normal"], 0.8, "normal"))
    target.value = "mixture"
    assert panel.png == shown(panel) == figure_png(plot_inverse_cdf(TARGETS["mixture"], 0.8, "mixture"))
    assert panel._repr_png_() == panel.png          # what a saved notebook shows without widgets


def test_inverse_cdf_explorer_refuses_no_targets_and_a_bad_z():
    with pytest.raises(ValueError, match="at least one target"):
        inverse_cdf_explorer({})
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        plot_inverse_cdf(Gaussian1D(), 1.0)


def test_figure1_scrubber_moves_through_the_snapshots():
    torch.manual_seed(0)
    G, D = toy_pair()
    recorder = Figure1Recorder(GaussianMixture1D(), n_lines=6)
    for step in (0, 50, 100):
        recorder.record(G, D, step)
        with torch.no_grad():
            G.net[-1].bias += 1.0                   # move G between snapshots
    panel = figure1_scrubber(recorder)
    (slider,) = panel.children[:1]
    assert slider.value == 2 and [label for label, _ in slider.options] == ["0", "50", "100"]
    assert panel.png == figure_png(plot_snapshot(recorder, 2))
    last = panel.png
    slider.value = 0
    assert panel.png != last and shown(panel) == figure_png(plot_snapshot(recorder, 0))


def test_figure1_scrubber_needs_snapshots():
    with pytest.raises(ValueError, match="no snapshots"):
        figure1_scrubber(Figure1Recorder(Gaussian1D()))


def test_a_panel_redraws_on_a_button_click():
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    clicks = []

    def render():
        clicks.append(1)
        fig, ax = plt.subplots(dpi=50)
        ax.plot(np.arange(len(clicks)))
        return fig
    button = widgets.Button(description="again")
    panel = Panel([button], render)
    button.click()
    assert len(clicks) == 2 and shown(panel) == panel.png
