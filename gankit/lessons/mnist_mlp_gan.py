"""Notebook 03 (`notebooks/03_mnist_mlp_gan.ipynb`): the MNIST MLP GAN recipe, the checks of what
it learned, and the exercise checkers.

- `lecture_models()`: the lecture's MLP pair (G 100-256-512-1024-784, D 784-1024-512-256-1 with
  dropout 0.3), as the seed tutorials train it.
- `build_mnist_gan(cfg)`: our recipe from an `MnistConfig`, as (G, D, `GANTrainer` arguments).
  It was found by measurement on 2 shared CPU cores (notebook 03, section 2, and
  benchmarks/mnist_speed.py): a narrower MLP (one hidden layer fewer on each side) at a 10x larger
  learning rate, batch 128, and an exponential moving average of G's weights.
- `gankit.callbacks.GeneratorEMA` keeps that average (Yazıcı et al. 2019, "The Unusual
  Effectiveness of Averaging in GAN Training"): G's weights oscillate around a good point while
  G and D chase each other; their running mean sits nearer to it.
- `evaluate_digits`, `plot_nearest_neighbours` (Goodfellow et al. 2014, Fig. 2), `pick_concepts`
  (exemplars for the vector-arithmetic widget).
- `loss_with_generator_loss(g_loss)`: the recipe's loss with G's half computed by `g_loss`
  (exercise 1's answer: the run trains G with the student's function).
- Exercise checkers: `check_slerp`, `check_generator_loss`.
"""
from __future__ import annotations

import dataclasses

import torch

from gankit.callbacks import final_generator  # noqa: F401  (re-exported for the notebook)
from gankit.callbacks import GeneratorEMA
from gankit.classifier import classify, digit_metrics
from gankit.exercises import check
from gankit.losses import LossSpec, loss_spec
from gankit.data import to_unit_range
from gankit.metrics import nearest_neighbours
from gankit.models import MLPDiscriminator, MLPGenerator, generate, generate_from_seed
from gankit.plots import image_grid, subplots
from gankit.validate import check_count


def lecture_models(latent_dim: int = 100):
    """The lecture's MLP G and D (the seed tutorials' sizes): what sections 1 and 2 start from."""
    G = MLPGenerator(latent_dim=latent_dim, hidden=(256, 512, 1024))
    D = MLPDiscriminator(hidden=(1024, 512, 256), dropout=0.3)
    return G, D


def build_mnist_gan(cfg):
    """(G, D, trainer_kwargs) for an `MnistConfig`: `GANTrainer(G, D, **trainer_kwargs)` trains the
    recipe. With cfg.ema_decay > 0, trainer_kwargs["callbacks"] holds a `GeneratorEMA`; get its G with
    `final_generator(trainer)`."""
    G = MLPGenerator(latent_dim=cfg.latent_dim, hidden=cfg.hidden_G)
    D = MLPDiscriminator(hidden=cfg.hidden_D, dropout=cfg.dropout)
    kwargs = dict(loss=cfg.loss, lr=cfg.lr, lr_D=cfg.lr_D, betas=(cfg.beta1, 0.999),
                  seed=cfg.seed, device=cfg.device, log_every=cfg.log_every,
                  callbacks=[GeneratorEMA(G, cfg.ema_decay)] if cfg.ema_decay else [])
    return G, D, kwargs


def loss_with_generator_loss(g_loss, loss: str = "non-saturating") -> LossSpec:
    """`loss`'s LossSpec with G's loss computed by `g_loss` (a function of D's logits on G's
    samples, to minimise); D's loss and everything else unchanged. Notebook 03 trains with the
    student's non-saturating loss from exercise 1 (`GANTrainer(loss=...)` takes a LossSpec)."""
    if not callable(g_loss):
        raise ValueError(f"g_loss={g_loss!r} is not callable: pass a function of D's logits, "
                         "e.g. gankit.lessons.mnist_mlp_gan.reference_generator_loss")
    return dataclasses.replace(loss_spec(loss), g_loss=g_loss)


def evaluate_digits(G, classifier, real, n: int = 2000, seed: int = 0) -> dict:
    """Class coverage, class histogram and Fréchet distance (classifier features, fake vs `real`)
    of n samples of G: `gankit.classifier.digit_metrics` on a fixed z."""
    return digit_metrics(classifier, generate_from_seed(G, n, seed), real=real)


# Section 5's thresholds per profile (see `digit_checks`); ci's run is too short to ask for digits.
THRESHOLDS = {"cpu": dict(classes=10, balance=0.33, frechet=300, min_steps=1000, min_nn_distance=3.0),
              "gpu": dict(classes=10, balance=0.33, frechet=200, min_steps=1000, min_nn_distance=3.0),
              "ci": dict(classes=1, balance=0.0, frechet=float("inf"), min_steps=10,
                         min_nn_distance=0.0)}


def digit_checks(report: dict, classes: int, balance: float, frechet: float) -> dict:
    """Section 5's self-checks on an `evaluate_digits` report, as {name: (value, threshold,
    passed)}: digits covered (>= classes), the rarest digit's share of the fair n/10 (>= balance:
    a digit 4x under-represented scores 0.25) and the Fréchet distance (<= frechet)."""
    coverage, share, fd = (report[k] for k in ("class_coverage", "class_balance", "frechet_distance"))
    return {"class_coverage": (coverage, classes, coverage >= classes),
            "class_balance": (share, balance, share >= balance),
            "frechet_distance": (fd, frechet, fd <= frechet)}


def plot_nearest_neighbours(fake, real, n: int = 8):
    """Goodfellow et al. 2014, Fig. 2: n samples (top row) above their nearest training image in
    pixel space (bottom row), with the L2 distance. Copies would have distance ~0."""
    check_count("n", n)
    fake = fake[:n]
    dist, idx = nearest_neighbours(fake, real, k=1)
    fig, axes = subplots(2, 1, figsize=(1.1 * n, 2.9))
    axes[0].imshow(image_grid(fake, n), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("generated samples")
    nearest = to_unit_range(real[idx[:, 0]].cpu())
    axes[1].imshow(image_grid(nearest, n), cmap="gray", vmin=0, vmax=1)
    axes[1].set_title("nearest training digit (L2 distance below)")
    width = fake.shape[-1] + 2
    for k, d in enumerate(dist[:, 0].tolist()):
        axes[1].text(k * width + width / 2, fake.shape[-2] + 7, f"{d:.1f}", ha="center", fontsize=8)
    for ax in axes:
        ax.set_axis_off()
    return fig


def pick_concepts(G, z, classifier, a_digit: int = 7, b_digit: int = 7, c_digit: int = 1,
                  per_concept: int = 3) -> tuple:
    """Exemplars for "thick 7 - thin 7 + thin 1": among the samples G(z) the classifier calls
    a_digit, the per_concept with the most ink (A); those called b_digit with the least ink (B);
    those called c_digit with the least ink (C). Ink = mean brightness. Returns (a, b, c) lists
    of row numbers of z, disjoint; a ValueError says which digit is missing from the grid."""
    images = generate(G, z)
    digits, ink = classify(classifier, images), (images + 1).mean((1, 2, 3)) / 2
    taken: list = []

    def choose(digit, thick):
        rows = [i for i in torch.argsort(ink, descending=thick).tolist()
                if digits[i] == digit and i not in taken][:per_concept]
        if len(rows) < per_concept:
            raise ValueError(f"only {len(rows)} samples of digit {digit} in the grid: use more "
                             f"samples (n_samples) or another seed")
        taken.extend(rows)
        return rows
    return choose(a_digit, True), choose(b_digit, False), choose(c_digit, False)


# ------------------------------------------------------------ exercise checkers (03)
def reference_generator_loss(f_fake):
    """gankit's answer to exercise 1: the non-saturating G loss from D's logits."""
    from gankit.losses import generator_loss
    return generator_loss("non-saturating", f_fake)


def check_slerp(student):
    """03: `student(z0, z1, t)` -> the spherical interpolation of two vectors (d,) at a number t:
    sin((1 − t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1, Ω the angle between z0 and z1; to within 1e-5,
    on vectors of different lengths and at the ends t = 0 and t = 1."""
    from gankit.latent import lerp, slerp
    g = torch.Generator().manual_seed(3)
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    inputs = [(e1, e2, 0.5), (e1, e2, 0.25), (torch.randn(100, generator=g), torch.randn(100, generator=g), 0.3),
              (torch.tensor([3.0, 0.0, 0.0]), torch.tensor([1.0, 1.0, 0.0]), 0.8),
              (torch.randn(100, generator=g), torch.randn(100, generator=g), 1.0),
              (torch.randn(100, generator=g), torch.randn(100, generator=g), 0.0)]

    def unit_slerp(z0, z1, t):            # slerp of the unit vectors: the lengths are lost
        return slerp(z0 / z0.norm(), z1 / z1.norm(), t)
    mistakes = {"this is lerp, (1 − t)·z0 + t·z1: a straight line, not the arc": lerp,
                "it interpolates the unit vectors: the weights must multiply z0 and z1 themselves":
                unit_slerp}
    return check(student, slerp, inputs, "slerp", atol=1e-5, mistakes=mistakes,
                 hint="Ω = arccos(z0·z1 / (|z0| |z1|)) (clamp the cosine to [−1, 1]); the weights "
                      "multiply z0 and z1 themselves, not their unit vectors")


def check_generator_loss(student):
    """03: `student(logits)` -> the non-saturating G loss −mean log D(G(z)) from D's raw scores
    (logits) on G's samples, D = sigmoid(logit), to within 1e-4; it must stay finite at logit −120."""
    from gankit.losses import generator_loss
    inputs = [(torch.tensor([0.0, 0.0]),), (torch.tensor([2.0, -1.0, 0.5]),),
              (torch.linspace(-5, 5, 11),), (torch.tensor([-30.0, -120.0, 3.0]),)]
    mistakes = {"this is the minimax loss, mean log(1 − D(G(z))), not the non-saturating one":
                lambda f: generator_loss("minimax", f),
                "log(sigmoid(f)) underflows to log 0 = −inf where D is sure (f = −120)":
                lambda f: -torch.log(torch.sigmoid(f)).mean()}
    return check(student, reference_generator_loss, inputs,
                 "non-saturating G loss", atol=1e-4, mistakes=mistakes,
                 hint="−log sigmoid(f) = softplus(−f): F.softplus(-f).mean() (or BCE with logits "
                      "against ones) stays finite where log(sigmoid(f)) underflows to log 0")


