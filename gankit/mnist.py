"""Notebook 03's helpers: the MNIST MLP GAN recipe, an EMA of G, and the checks of what it learned.

- `lecture_models()`: the lecture's MLP pair (G 100-256-512-1024-784, D 784-1024-512-256-1 with
  dropout 0.3), as the seed tutorials train it.
- `build_mnist_gan(cfg)`: our recipe from an `MnistConfig`, as (G, D, `GANTrainer` arguments).
  It was found by measurement on 2 shared CPU cores (notebook 03, section 2, and
  benchmarks/mnist_speed.py): a narrower MLP (one hidden layer fewer on each side) at a 10x larger
  learning rate, batch 128, and an exponential moving average of G's weights.
- `GeneratorEMA`: a `GANTrainer` callback keeping that average (Yazıcı et al. 2019, "The Unusual
  Effectiveness of Averaging in GAN Training"): G's weights oscillate around a good point while
  G and D chase each other; their running mean sits nearer to it.
- `evaluate_digits`, `plot_nearest_neighbours` (Goodfellow et al. 2014, Fig. 2), `pick_concepts`
  (exemplars for the vector-arithmetic widget).
"""
from __future__ import annotations

import copy

import torch

from .classifier import classify, digit_metrics
from .data import to_unit_range
from .metrics import nearest_neighbours
from .models import MLPDiscriminator, MLPGenerator, generate
from .plots import image_grid, subplots
from .validate import check_count


def lecture_models(latent_dim: int = 100):
    """The lecture's MLP G and D (the seed tutorials' sizes): what sections 1 and 2 start from."""
    G = MLPGenerator(latent_dim=latent_dim, hidden=(256, 512, 1024))
    D = MLPDiscriminator(hidden=(1024, 512, 256), dropout=0.3)
    return G, D


class GeneratorEMA:
    """A `GANTrainer` callback: `self.G` is the exponential moving average of the trainer's G,

        θ_ema <- d · θ_ema + (1 - d) · θ_G   per G step,   d = min(decay, (1 + step) / (10 + step)).

    The warm-up of d (as TensorFlow's ExponentialMovingAverage with num_updates) keeps the average
    close to G while G still changes fast, and averages over ever more steps later: measured on
    the offline digits, decay 0.998 without warm-up beat 0.99 at 3,900 steps (Fréchet 90 vs 133)
    but lagged far behind at 1,300 (792 vs 307). The trainer calls callbacks every `log_every`
    steps, so each call applies those steps at once (d ** log_every): no per-step cost.
    """

    def __init__(self, G, decay: float = 0.999):
        if not 0 < decay < 1:
            raise ValueError(f"ema_decay={decay!r} is not allowed: use a decay in (0, 1), e.g. 0.99, "
                             f"or 0 for no average")
        self.decay = decay
        self.G = copy.deepcopy(getattr(G, "module", G)).eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, trainer) -> None:
        if next(self.G.parameters()).device != trainer.device:
            self.G.to(trainer.device)                  # once: the trainer moved G to its device
        decay = min(self.decay, (1 + trainer.step) / (10 + trainer.step))
        weight = 1 - decay ** trainer.log_every
        for ema, new in zip(self.G.state_dict().values(), trainer.G.state_dict().values()):
            if ema.dtype.is_floating_point:
                ema.lerp_(new, weight)
            else:
                ema.copy_(new)


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


def final_generator(trainer):
    """The generator to sample from after training: the EMA copy when the trainer keeps one."""
    for callback in trainer.callbacks:
        if isinstance(callback, GeneratorEMA):
            return callback.G
    return trainer.G


@torch.no_grad()
def sample(G, n: int, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
    """n samples (n, 1, 28, 28) on the CPU from a fixed z (the same for every G with this seed)."""
    check_count("n", n)
    z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    return generate(G, z, batch_size=batch_size)


def evaluate_digits(G, classifier, real, n: int = 2000, seed: int = 0) -> dict:
    """Class coverage, class histogram and Fréchet distance (classifier features, fake vs `real`)
    of n samples of G: `gankit.classifier.digit_metrics` on a fixed z."""
    return digit_metrics(classifier, sample(G, n, seed), real=real)


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

