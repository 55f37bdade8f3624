"""gankit.lessons.conditional_gan's widgets, headless: set a control's value, assert the picture (or message) changed."""
import pytest
import torch

from gankit.lessons.conditional_gan import digit_picker, number_writer
from gankit.models import MLPGenerator


@pytest.fixture
def G():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=8, hidden=(16,), num_classes=10).eval()


def test_digit_picker_draws_at_creation_and_redraws(G):
    panel = digit_picker(G, digit=3, seed=1)
    digit, seed, step = panel.children[:3]
    assert panel.png and panel.out.outputs[0]["data"]["image/png"]
    pictures = {panel.png}
    for control, value in ((digit, 7), (seed, 5), (step, 1.5)):
        control.value = value
        assert panel.png not in pictures, f"setting {control.description} did not redraw"
        pictures.add(panel.png)


def test_digit_picker_rejects_a_bad_digit(G):
    with pytest.raises(ValueError, match="digit=10"):
        digit_picker(G, digit=10)


def test_number_writer_writes_and_answers_bad_input(G):
    panel = number_writer(G, text="2026")
    text, seed = panel.children[:2]
    first = panel.png
    assert first and panel.message.value == ""
    text.value = "42"
    assert panel.png != first and panel.message.value == ""
    written = panel.png
    seed.value = 9                                   # another style, same digits
    assert panel.png != written
    text.value = "4a2"                               # letters: a message, not an exception
    assert "'a'" in panel.message.value and "digits 0-9" in panel.message.value
    assert panel.png not in (first, written)
    text.value = "7"                                 # back to digits: the message goes away
    assert panel.message.value == ""
