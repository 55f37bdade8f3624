"""Notebook 04's own widget: move new faces along a CelebA attribute direction.

Built like `gankit.widgets` (a factory returning a `Panel`, ipywidgets 7.x/8.x APIs only, the
default state drawn at creation); the picture is `gankit.dcgan.plot_attribute_shift`. Latent
interpolation and Figure-7 arithmetic live in `gankit.latent_widgets`.
"""
from __future__ import annotations

import ipywidgets as widgets
import torch

from .dcgan import plot_attribute_shift
from .models import sample_latent
from .validate import check_count, check_number
from .widgets import Panel


def attribute_widget(G, direction, name: str = "attribute", n_faces: int = 6, seed: int = 0,
                     strength: float = 1.5, max_strength: float = 3.0) -> Panel:
    """A strength slider in [−max_strength, max_strength] and a 'new faces' button; the picture
    shows n_faces of G (top) and the same z moved by strength × `direction` (bottom).

    `direction` is a (latent_dim,) vector, e.g. `gankit.latent.attribute_direction(z, has)`.
    """
    check_count("n_faces", n_faces)
    check_number("max_strength", max_strength)
    direction = torch.as_tensor(direction).float().cpu()
    if direction.shape != (G.latent_dim,):
        raise ValueError(f"direction has shape {tuple(direction.shape)}: it must be one vector "
                         f"of G's latent_dim, shape ({G.latent_dim},)")
    if abs(strength) > max_strength:
        raise ValueError(f"strength={strength!r} is not allowed: use a value in "
                         f"[-{max_strength}, {max_strength}]")
    slider = widgets.FloatSlider(value=strength, min=-max_strength, max=max_strength, step=0.25,
                                 description="strength", continuous_update=False)
    button = widgets.Button(description="new faces")
    state = {"seed": seed}

    def faces():
        return sample_latent(G, n_faces, "cpu", torch.Generator().manual_seed(state["seed"]))

    def new_faces(_):
        state["seed"] += 1                                 # before Panel redraws (see below)

    button.on_click(new_faces)                             # registered first, so it runs first
    return Panel([slider, button],
                 lambda: plot_attribute_shift(G, faces(), direction, slider.value, name))
