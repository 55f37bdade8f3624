"""The latent widgets, headless, on tiny untrained generators (1-channel MLP, 3-channel DCGAN)."""
import base64

import pytest
import torch

from gankit.widgets import (arithmetic_widget, interpolation_widget, latent_from_seed,
                                   parse_indices, plot_interpolation)
from gankit.latent import lerp, slerp
from gankit.models import DCGANGenerator, MLPGenerator
from gankit.widgets import figure_png


def shown(panel):
    (output,) = panel.out.outputs
    return base64.b64decode(output["data"]["image/png"])


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=8, hidden=(16,))


def test_interpolation_widget_draws_at_creation_and_on_every_change(mlp):
    panel = interpolation_widget(mlp, seed_a=0, seed_b=1, n_frames=5)
    seed_a, seed_b, how, t = panel.children[:4]
    z0, z1 = latent_from_seed(mlp, 0)[0], latent_from_seed(mlp, 1)[0]
    assert panel.png.startswith(b"\x89PNG") and shown(panel) == panel.png
    assert panel.png == figure_png(plot_interpolation(mlp, z0, z1, 0.5, "slerp", 5))
    for control, value in ((t, 0.9), (how, "lerp"), (seed_b, 7)):
        before = panel.png
        control.value = value
        assert panel.png != before and shown(panel) == panel.png
    z7 = latent_from_seed(mlp, 7)[0]
    assert panel.png == figure_png(plot_interpolation(mlp, z0, z7, 0.9, "lerp", 5))


def test_interpolation_widget_on_a_colour_dcgan_and_a_conditional_mlp():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=8, image_size=16, channels=3, ngf=4)
    G.train()
    panel = interpolation_widget(G, n_frames=3)
    assert panel.png.startswith(b"\x89PNG") and G.training          # mode restored after drawing
    cond = MLPGenerator(latent_dim=8, hidden=(16,), num_classes=10)
    before = interpolation_widget(cond, y=3).png
    assert interpolation_widget(cond, y=4).png != before
    with pytest.raises(ValueError, match="method='cubic'"):
        interpolation_widget(cond, method="cubic", y=1)


def test_arithmetic_widget_combines_on_click_and_reports_bad_indices(mlp):
    panel = arithmetic_widget(mlp, n_samples=16, per_concept=2)
    a, b, c = panel.boxes
    assert (a.value, b.value, c.value) == ("0, 1", "2, 3", "4, 5")
    assert panel.png.startswith(b"\x89PNG") and panel.message.value == ""
    first = panel.png
    a.value = "7, 8, 9"
    assert panel.png == first                       # typing does not redraw; "combine" does
    panel.button.click()
    assert panel.png != first and shown(panel) == panel.png
    c.value = "3, 16"
    panel.button.click()                            # a message in the widget, not an exception
    assert "not in the grid" in panel.message.value and "0..15" in panel.message.value
    c.value = "three"
    panel.button.click()
    assert "separated by commas" in panel.message.value
    c.value = "4"
    panel.button.click()
    assert panel.message.value == ""


def test_parse_indices_and_bad_widget_arguments(mlp):
    assert parse_indices("0, 4 7", 8, "A") == [0, 4, 7]
    with pytest.raises(ValueError, match="A: type sample numbers"):
        parse_indices("", 8, "A")
    with pytest.raises(ValueError, match="per_concept=5"):
        arithmetic_widget(mlp, n_samples=9, per_concept=5)
    with pytest.raises(ValueError, match="noise=-0.1"):
        arithmetic_widget(mlp, noise=-0.1)


def test_interpolation_widget_draws_with_a_students_slerp(mlp):
    """Notebook 03 hands the student's slerp (one number t at a time) to the widget: it draws the
    path and the frames, and a wrong slerp gives another picture."""
    calls = []

    def my_slerp(z0, z1, t):
        calls.append(t)
        return slerp(z0, z1, t)
    mine = interpolation_widget(mlp, seed_a=0, seed_b=1, n_frames=5, slerp_fn=my_slerp)
    assert len(calls) >= 5 + 1 + 101                       # frames, z_t and the |z_t| curve
    wrong = interpolation_widget(mlp, seed_a=0, seed_b=1, n_frames=5, slerp_fn=lambda a, b, t: lerp(a, b, t))
    assert wrong.png != mine.png
