"""Notebook 04's attribute widget, headless: move the slider, click 'new faces', check the picture."""
import base64

import pytest
import torch

import gankit
from gankit.lessons.dcgan_faces import plot_attribute_shift
from gankit.lessons.dcgan_faces import attribute_widget
from gankit.widgets import arithmetic_widget, interpolation_widget
from gankit.models import sample_latent
from gankit.widgets import figure_png


def shown(panel):
    (output,) = panel.out.outputs
    return base64.b64decode(output["data"]["image/png"])


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=3, ngf=8).eval()


def faces(G, seed, n=4):
    return sample_latent(G, n, "cpu", torch.Generator().manual_seed(seed))


def test_attribute_widget_draws_at_creation_and_follows_the_slider(G):
    direction = torch.ones(8)
    panel = attribute_widget(G, direction, "Smiling", n_faces=4, seed=5, strength=1.0)
    slider, button = panel.children[:2]
    assert panel.png.startswith(b"\x89PNG") and shown(panel) == panel.png
    assert panel.png == figure_png(plot_attribute_shift(G, faces(G, 5), direction, 1.0, "Smiling"))
    slider.value = -2.0
    assert panel.png == shown(panel) == figure_png(
        plot_attribute_shift(G, faces(G, 5), direction, -2.0, "Smiling"))
    button.click()                                    # new faces: the next seed, same strength
    assert panel.png == figure_png(plot_attribute_shift(G, faces(G, 6), direction, -2.0, "Smiling"))


def test_attribute_shift_moves_the_faces_and_zero_leaves_them():
    G = gankit.DCGANGenerator(latent_dim=8, image_size=16, channels=3, ngf=8).eval()
    z, d = faces(G, 1), torch.randn(8)
    assert figure_png(plot_attribute_shift(G, z, d, 0.0)) != figure_png(plot_attribute_shift(G, z, d, 2.0))


def test_attribute_widget_refuses_bad_input(G):
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        attribute_widget(G, torch.ones(5))
    with pytest.raises(ValueError, match="strength=5"):
        attribute_widget(G, torch.ones(8), strength=5.0)
    with pytest.raises(ValueError, match="n_faces=0"):
        attribute_widget(G, torch.ones(8), n_faces=0)


def test_latent_widgets_work_on_colour_faces(G):
    """gankit.widgets' latent widgets are shared with notebook 03; here: it draws 3-channel DCGAN faces."""
    panel = interpolation_widget(G, 0, 1, n_frames=5)
    before = panel.png
    panel.children[3].value = 0.9
    assert panel.png != before and shown(panel) == panel.png
    arith = arithmetic_widget(G, n_samples=9, seed=0)
    before = arith.png
    arith.boxes[0].value = "3, 4, 8"
    arith.button.click()
    assert arith.png != before and shown(arith) == arith.png
