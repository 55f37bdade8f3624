"""Notebook 05 (`notebooks/05_conditional_gan.ipynb`): the conditional GAN on MNIST digits, G(z, y) and D(x, y).

Papers: Mirza & Osindero 2014 (conditional GAN: the label y is an extra input of both G and D, and
Algorithm 1 is unchanged: min_G max_D E[log D(x|y)] + E[log(1 - D(G(z|y)|y))]);
Miyato & Koyama 2018 (the projection discriminator: D(x, y) = w·φ(x) + b + embed(y)·φ(x)).

The recipe (measured on the 5,000 offline digits, see notebook 05's table):
- G is gankit's `MLPGenerator` with the one-hot code of y appended to z, so it is saved and loaded by
  `gankit.save_generator` / `load_generator` and called as G(z, y) with integer labels;
- D is a `ProjectionDiscriminator`: an MLP φ(x) whose score has a term embed(y)·φ(x). Appending
  the one-hot y to D's 784 pixels (the MLP D of `gankit.models`) gave D a label signal it learned to
  use slowly: the best such run drew the digit asked for in 53% of its samples after 1,500 steps,
  against 86% with the projection (notebook 05, section 5);
- an exponential moving average (EMA) of G's weights is what we sample from (Yazıcı et al. 2019),
  kept by `gankit.callbacks.GeneratorEMA` (as in notebook 03): it averages out the last steps' oscillation
  and lifts class accuracy, by more early in training than late (notebook 05 prints both).

Widgets: `digit_picker`, `number_writer`. Exercise checkers: `check_label_maps` (the answer draws
`plot_label_channels`), `check_projection_score` (the answer is D's score: `build_conditional_gan(cfg,
score_fn=...)`).
"""
from __future__ import annotations

import html
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import nn

from gankit import models
from gankit.classifier import classify, digit_metrics
from gankit.exercises import check
from gankit.models import MLPDiscriminator, MLPGenerator, generate, latent_from_seed
from gankit.plots import image_grid
from gankit.validate import check_count
from gankit.widgets import Panel

NUM_CLASSES = 10


def reference_projection_score(phi, w, b, embed, y):
    """The projection score, D(x, y) = φ(x)·w + b + embed[y]·φ(x): phi (N, K), w (K,), b a number,
    embed (num_classes, K), y (N,) -> (N,). gankit's answer to notebook 05's exercise 2, and what
    `ProjectionDiscriminator` computes unless it is given another `score_fn`."""
    return phi @ w + b + (embed[y] * phi).sum(1)


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = w·φ(x) + b + embed(y)·φ(x) (Miyato & Koyama 2018), φ an MLP with LeakyReLU.

    The inner product rewards an image whose features match its label's embedding, so D must check
    the label against the image, not only the image: that is the conditional part of D's job.
    Returns one raw score (a logit) per sample, shape (N,), like every gankit discriminator.
    `score_fn(phi, w, b, embed, y)` computes the score from D's weights (notebook 05 passes the
    student's `projection_score`); the default is gankit's `reference_projection_score`.
    """

    def __init__(self, data_shape=(1, 28, 28), hidden=(512, 256), num_classes=NUM_CLASSES,
                 score_fn=reference_projection_score):
        super().__init__()
        for i, width in enumerate(hidden):
            check_count(f"hidden[{i}]", width)
        check_count("num_classes", num_classes)
        if not callable(score_fn):
            raise ValueError(f"score_fn={score_fn!r} is not callable: pass a function "
                             "(phi, w, b, embed, y) -> scores, e.g. reference_projection_score")
        self.num_classes, self.score_fn = num_classes, score_fn
        sizes = [math.prod(data_shape), *hidden]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        self.phi = nn.Sequential(*layers)                           # (N, hidden[-1])
        self.score = nn.Linear(sizes[-1], 1)                        # holds w and b
        self.embed = nn.Embedding(num_classes, sizes[-1])           # holds one vector e_y per class
        # small embeddings: at the start the label term is about as large as w·φ(x)
        nn.init.normal_(self.embed.weight, 0.0, 1.0 / math.sqrt(sizes[-1]))

    def forward(self, x, y):
        phi = self.phi(x.flatten(1))                                # (N, K), K = hidden[-1]
        # w (K,), b (), embed (num_classes, K): the score's formula lives in score_fn alone
        return self.score_fn(phi, self.score.weight[0], self.score.bias[0], self.embed.weight, y)  # (N,)


def build_conditional_gan(cfg, score_fn=None) -> tuple:
    """(G, D) for a `ConditionalMnistConfig`: G(z, y) an MLPGenerator; D(x, y) a projection D whose
    score is `score_fn` (None: `reference_projection_score`), or with cfg.label_input = "one-hot"
    the MLP D with y's one-hot code appended to the pixels (it has no projection: score_fn unused)."""
    G = MLPGenerator(latent_dim=cfg.latent_dim, data_shape=(1, 28, 28), hidden=cfg.hidden_G,
                     num_classes=NUM_CLASSES)
    if cfg.label_input == "one-hot":
        return G, MLPDiscriminator(hidden=cfg.hidden_D, num_classes=NUM_CLASSES)
    return G, ProjectionDiscriminator(hidden=cfg.hidden_D,
                                      score_fn=reference_projection_score if score_fn is None else score_fn)


# --------------------------------------------------------------------------- sampling and pictures
def digit_grid(G: nn.Module, n_styles: int = 10, seed: int = 0) -> torch.Tensor:
    """The 10×n_styles grid: row d holds digit d, column j the same z_j for every row, so a column
    shows one handwriting style across all digits. Returns (10·n_styles, 1, 28, 28), row by row."""
    check_count("n_styles", n_styles)
    z = latent_from_seed(G, range(seed, seed + n_styles))            # (n_styles, latent_dim)
    y = torch.arange(NUM_CLASSES).repeat_interleave(n_styles)        # 0,0,...,1,1,...
    return generate(G, z.repeat(NUM_CLASSES, 1), y)


def plot_digit_grid(images: torch.Tensor, n_styles: int = 10, title: str = "", size: float = 0.55):
    """Draw `digit_grid`'s output with the digit of each row on the left and z_j above each column."""
    fig, ax = plt.subplots(figsize=(size * n_styles + 0.8, size * NUM_CLASSES + 0.6), dpi=80)
    ax.imshow(image_grid(images, nrow=n_styles, padding=2), cmap="gray", vmin=0, vmax=1)  # grid in [0, 1]
    side = 28 + 2
    ax.set_yticks([2 + side * d + 14 for d in range(NUM_CLASSES)], [f"y={d}" for d in range(NUM_CLASSES)])
    ax.set_xticks([2 + side * j + 14 for j in range(n_styles)], [f"z{j}" for j in range(n_styles)],
                  fontsize=7)
    ax.tick_params(length=0)
    ax.set_xlabel("column: one fixed z (a style)")
    ax.set_ylabel("row: the label y given to G")
    ax.set_title(title or "G(z, y): rows = digits, columns = fixed z")
    fig.tight_layout()
    return fig


def plot_label_channels(d_input: torch.Tensor, y, title: str = ""):
    """What a conditional DCGAN's D reads (Reed et al. 2016, Sec. 3.1): one row per image, its
    image channel beside its label maps, d_input = torch.cat([x, label_maps(y, 10, H, W)], 1) of
    shape (N, 1 + 10, H, W), x in [-1, 1]. All channels share one grey scale (-1 black, 0 grey,
    1 white); the map of each row's label y is framed in green."""
    n, channels = d_input.shape[:2]
    y = torch.as_tensor(y).tolist()
    fig, axes = plt.subplots(n, channels, figsize=(0.62 * channels + 1.4, 0.68 * n + 0.9), dpi=80,
                             squeeze=False, layout="constrained")
    for i in range(n):
        for c in range(channels):
            ax = axes[i, c]
            shown = ax.imshow(d_input[i, c].detach().cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("x" if c == 0 else f"map {c - 1}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"y = {y[i]}", fontsize=9)
            if c == y[i] + 1:                                   # the map that says "this is digit y"
                for side in ax.spines.values():
                    side.set(color="tab:green", linewidth=2.5)
    fig.supxlabel("channel of D's input: the image x, then one label map per class 0-9", fontsize=9)
    fig.supylabel("real digits", fontsize=9)
    fig.suptitle(title or f"a conditional DCGAN's D reads {tuple(d_input.shape)}", fontsize=10)
    fig.colorbar(shown, ax=axes, shrink=0.9, aspect=12, label="value D reads")
    return fig


# -------------------------------------------------------------------------------------- evaluation
def label_checks(metrics: dict, min_accuracy: float, worst_digit: float) -> dict:
    """Section 4's self-checks on an `evaluate_labels` report, as {name: (value, threshold, passed)}:
    the class accuracy overall (>= min_accuracy) and of the worst digit (>= worst_digit). A G that
    ignores y scores about 0.1; a collapsed G, 0.1 overall and 0 on nine digits."""
    accuracy, worst = metrics["class_accuracy"], min(metrics["per_digit_accuracy"])
    return {"class_accuracy": (accuracy, min_accuracy, accuracy >= min_accuracy),
            "worst_digit": (worst, worst_digit, worst >= worst_digit)}


def evaluate_labels(G: nn.Module, classifier, real=None, n_per_digit: int = 100, seed: int = 0) -> dict:
    """What the digit classifier makes of a conditional G: n_per_digit samples of each digit asked
    for (not `mnist_mlp_gan.evaluate_digits`, which counts the digits an unconditional G draws).

    Returns class_accuracy (share classified as the digit asked for), per_digit_accuracy (10 values),
    class_histogram, and frechet_distance to `real` (in the classifier's feature space) when given.
    """
    check_count("n_per_digit", n_per_digit)
    y = torch.arange(NUM_CLASSES).repeat_interleave(n_per_digit)
    fake = generate(G, latent_from_seed(G, seed, len(y)), y)
    metrics = digit_metrics(classifier, fake, labels=y, real=real)
    correct = (classify(classifier, fake) == y).double()
    metrics["per_digit_accuracy"] = correct.view(NUM_CLASSES, n_per_digit).mean(1).tolist()
    return metrics


def plot_per_digit_accuracy(per_digit, target: float | None = None, title: str = ""):
    """A bar per digit: the share of G's samples of that digit the classifier labels correctly."""
    fig, ax = plt.subplots(figsize=(6.5, 3.0), dpi=80)
    bars = ax.bar(range(NUM_CLASSES), per_digit, color="tab:green")
    # inside the bars: above them a value near the target line was drawn through by it
    ax.bar_label(bars, [f"{a:.2f}" for a in per_digit], label_type="center", color="white", fontsize=8)
    if target is not None:
        ax.axhline(target, color="black", linestyle=":", label=f"target {target:.2f}")
        ax.legend(loc="lower right")
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("digit y asked of G")
    ax.set_ylabel("classified as y")
    ax.set_title(title or "class accuracy per digit")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------- writing a number
def parse_digits(text: str) -> list:
    """"2026" -> [2, 0, 2, 6]; spaces are ignored. Anything but the digits 0-9 is a ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"text={text!r} is not allowed: give a string of digits such as '2026'")
    digits = text.replace(" ", "")
    if not digits:
        raise ValueError("text is empty: type one or more digits 0-9, e.g. 2026")
    bad = sorted({c for c in digits if c not in "0123456789"})
    if bad:
        raise ValueError(f"text={text!r} contains {', '.join(repr(c) for c in bad)}: "
                         "type only the digits 0-9, e.g. 2026")
    if len(digits) > 20:
        raise ValueError(f"text has {len(digits)} digits: type at most 20")
    return [int(c) for c in digits]


def render_number(G: nn.Module, text: str, seed: int = 0) -> torch.Tensor:
    """The digits of `text` written by G in one style: one shared z (from `seed`) for every digit.
    Returns (len(digits), 1, 28, 28)."""
    digits = parse_digits(text)
    z = latent_from_seed(G, [seed]).repeat(len(digits), 1)           # one z, shared
    return generate(G, z, digits)


def plot_number(images: torch.Tensor, title: str = ""):
    """The digits side by side, touching, as one written number."""
    n = len(images)
    fig, ax = plt.subplots(figsize=(max(2.0, 0.9 * n), 1.4), dpi=80)
    ax.imshow(torch.cat(list(images[:, 0]), dim=1).numpy(), cmap="gray", vmin=-1, vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_message(message: str):
    """A small figure holding only `message`: what a widget shows for input it cannot draw."""
    fig, ax = plt.subplots(figsize=(6.0, 1.0), dpi=80)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, color="tab:red", fontsize=10)
    ax.set_axis_off()
    return fig


# ------------------------------------------------------------ exercise checkers (05)
def reference_label_maps(y, num_classes, height, width):
    """gankit's answer to exercise 1, with the exercise's signature."""
    from gankit.models import label_maps
    return label_maps(torch.zeros(len(y), 0, height, width), y, num_classes)


def check_label_maps(student):
    """05: label_maps(y, num_classes, height, width) -> (N, num_classes, H, W), exactly: map y[i]
    of image i is all ones, every other map all zeros (the one-hot code of y spread over the
    image, which a convolutional D reads beside the pixels: the conditional DCGAN of Reed et al.
    2016, Sec. 3.1, run in `benchmarks/cgan_speed.py`)."""
    inputs = [(torch.tensor([0, 3, 9]), 10, 4, 4), (torch.tensor([2]), 3, 2, 5),
              (torch.tensor([1, 1, 0, 4]), 5, 28, 28)]
    return check(student, reference_label_maps, inputs, "label maps", atol=0, rtol=0,
                 hint="F.one_hot(y, num_classes) gives (N, num_classes); make it float, add two "
                 "axes [:, :, None, None] and .expand(-1, -1, height, width)")


def check_projection_score(student):
    """05: projection_score(phi, w, b, embed, y) -> D(x, y) = φ(x)·w + b + embed[y]·φ(x), one score
    per sample (Miyato & Koyama 2018), to within 1e-6, given the features phi (N, K), w (K,),
    b (a number) and the class embeddings embed (num_classes, K)."""
    g = torch.Generator().manual_seed(5)
    inputs = [(torch.randn(4, 3, generator=g), torch.randn(3, generator=g), 0.5,
               torch.randn(10, 3, generator=g), torch.tensor([0, 9, 9, 2])),
              (torch.randn(2, 6, generator=g), torch.randn(6, generator=g), -1.0,
               torch.randn(3, 6, generator=g), torch.tensor([2, 1]))]
    mistakes = {"it leaves out the class term embed[y]·φ(x): that is an unconditional D":
                lambda phi, w, b, embed, y: phi @ w + b,
                "it leaves out the bias b": lambda phi, w, b, embed, y: phi @ w + (embed[y] * phi).sum(1)}
    return check(student, reference_projection_score, inputs, "projection score", mistakes=mistakes,
                 hint="embed[y] picks each sample's class vector, (N, K); multiply it by phi and "
                 "sum over K, then add the unconditional score phi @ w + b")


# ------------------------------------------------------------ widgets (05: digit picker, number writer)


def _z_along_direction(G, seed: int, step: float, direction_seed: int = 12345) -> torch.Tensor:
    """z(seed) + step · u, u a fixed random unit direction in z-space: a straight walk in style."""
    u = latent_from_seed(G, [direction_seed])[0]
    return latent_from_seed(G, [seed])[0] + step * u / u.norm()


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
        z = latent_from_seed(G, [seed_slider.value]).repeat(len(digits), 1)    # one shared z
        return plot_number(generate(G, z, digits),
                           f"“{''.join(map(str, digits))}” in style {seed_slider.value}")

    panel = Panel([text_box, seed_slider], render, shown=[text_box, seed_slider, message])
    panel.message = message
    return panel
