"""Notebook 05's widgets: play with a conditional generator G(z, y).

Built like `gankit.widgets` (read its conventions): a factory returns a `Panel` whose `render()`
draws a matplotlib figure from the controls' current values; the default state is drawn at
creation; only ipywidgets APIs present in both 7.x and 8.x (IntSlider, ToggleButtons, Text, HTML).

- `digit_picker`: choose a digit y and a style z (a seed, and a walk along one latent direction):
  the same z drawn as every digit below the chosen one, so you see what z does and what y does;
- `number_writer`: type a number, get its digits written side by side in one style (one shared z).
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from .conditional import (NUM_CLASSES, generate, latent_for_seeds, parse_digits, plot_message,
                          plot_number)
from .plots import image_grid
from .widgets import Panel


def _z_along_direction(G, seed: int, step: float, direction_seed: int = 12345) -> torch.Tensor:
    """z(seed) + step · u, u a fixed random unit direction in z-space: a straight walk in style."""
    u = latent_for_seeds(G, [direction_seed])[0]
    return latent_for_seeds(G, [seed])[0] + step * u / u.norm()


def draw_digit_choice(G, digit: int, seed: int, step: float = 0.0):
    """The chosen digit large on the left; the same z as all ten digits on the right."""
    z = _z_along_direction(G, seed, step)
    all_digits = generate(G, z.repeat(NUM_CLASSES, 1), torch.arange(NUM_CLASSES))
    fig, (ax_big, ax_row) = plt.subplots(1, 2, figsize=(8.0, 2.0), dpi=80,
                                         gridspec_kw=dict(width_ratios=[1, 5]))
    ax_big.imshow(all_digits[digit, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
    ax_big.set_title(f"G(z, y={digit})", fontsize=10)
    ax_row.imshow(image_grid(all_digits, nrow=NUM_CLASSES), cmap="gray", vmin=0, vmax=1)
    ax_row.set_title(f"the same z (seed {seed}, step {step:+.1f}) for y = 0 ... 9", fontsize=10)
    for ax in (ax_big, ax_row):
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def digit_picker(G, digit: int = 0, seed: int = 0, max_seed: int = 99) -> Panel:
    """Pick a digit (y), a style (the seed of z) and walk z along one direction (the step slider)."""
    if digit not in range(NUM_CLASSES):
        raise ValueError(f"digit={digit!r} is not allowed: use one of 0-9")
    digit_buttons = widgets.ToggleButtons(options=list(range(NUM_CLASSES)), value=digit,
                                          description="digit y")
    seed_slider = widgets.IntSlider(value=seed, min=0, max=max_seed, description="seed of z",
                                    continuous_update=False)
    step_slider = widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25,
                                      description="step along u", continuous_update=False)
    return Panel([digit_buttons, seed_slider, step_slider],
                 lambda: draw_digit_choice(G, digit_buttons.value, seed_slider.value,
                                           step_slider.value))


def number_writer(G, text: str = "2026", seed: int = 0, max_seed: int = 99) -> Panel:
    """Type digits; G writes them side by side with one shared z (from the seed): one hand.

    Input that is not digits is answered by a message (in `panel.message` and drawn in the
    picture), never by an exception in the callback.
    """
    text_box = widgets.Text(value=text, description="number", placeholder="type digits, e.g. 2026")
    seed_slider = widgets.IntSlider(value=seed, min=0, max=max_seed, description="style (seed)",
                                    continuous_update=False)
    message = widgets.HTML(value="")

    def render():
        try:
            digits = parse_digits(text_box.value)
        except ValueError as error:
            message.value = f"<span style='color:#b00'>{html.escape(str(error), quote=False)}</span>"
            return plot_message(str(error))
        message.value = ""
        z = latent_for_seeds(G, [seed_slider.value]).repeat(len(digits), 1)    # one shared z
        return plot_number(generate(G, z, digits),
                           f"“{''.join(map(str, digits))}” in style {seed_slider.value}")

    panel = Panel([text_box, seed_slider], render)
    panel.children = (text_box, seed_slider, message, panel.out)
    panel.message = message
    return panel
