"""An independent judge of generated digits: a small CNN trained on real MNIST, never on a GAN.

It reports which digit each sample looks like (class coverage for notebook 03, class accuracy for
the conditional GAN of notebook 05), and its 128-d penultimate features are the space in which
`gankit.metrics.frechet_distance` compares generated and real digits, in the manner of FID
(Heusel et al. 2017), whose Inception network knows nothing of 28×28 digits.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gankit.data import (InMemoryData, default_data_dir, load_mnist, resolve_data_source,
                         to_unit_range)
from gankit.io import atomic_save
from gankit.metrics import frechet_distance
from gankit.validate import check_count


class MnistClassifier(nn.Module):
    """A small CNN that judges generated digits; trained on real MNIST only, never on a GAN."""

    def __init__(self, width: int = 32, feature_dim: int = 128):
        super().__init__()
        # strided convolutions instead of conv + max-pool: a quarter of the work; measured held-out
        # accuracy 0.98 on the 5,000 offline digits after ~15 s of training on 2 CPU cores
        self.body = nn.Sequential(                                    # (N, 1, 28, 28) in [-1, 1]
            nn.Conv2d(1, width, 5, stride=2, padding=2), nn.ReLU(),             # (N, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),     # (N, 2w, 7, 7)
            nn.Flatten(),                                                       # (N, 2w·49)
            nn.Linear(2 * width * 49, feature_dim), nn.ReLU(),                  # (N, 128)
        )
        self.head = nn.Linear(feature_dim, 10)                                  # (N, 10) logits
        self.accuracy = float("nan")      # held-out accuracy, set by training or loading

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128-d penultimate activations: the space the Fréchet distance is measured in."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move each image by its own random offset of up to `max_shift` pixels in x and y, filling
    with the background value -1: cheap augmentation that makes the classifier less picky."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0).permute(0, 2, 3, 1)    # (N, H+2m, W+2m, C)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator).to(x.device)
    rows, cols = dy + torch.arange(h, device=x.device), dx + torch.arange(w, device=x.device)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (N, C, H, W)


def train_mnist_classifier(data: InMemoryData, epochs: int | None = None, batch_size: int = 64,
                           lr: float = 1e-3, seed: int = 0, holdout: float = 0.1,
                           device="cpu") -> MnistClassifier:
    """Train `MnistClassifier` on labelled digits, holding out a random `holdout` share to measure
    accuracy (stored as `.accuracy`). Seeded and deterministic on the CPU; the caller's random state
    is left as it was. `epochs=None` shows the network about 100,000 images, whatever the data size.
    """
    if epochs is not None:
        check_count("epochs", epochs)
    if not 0 < holdout < 1:
        raise ValueError(f"holdout={holdout!r} is not allowed: use a fraction in (0, 1), e.g. 0.1")
    if data.y is None:
        raise ValueError("the classifier needs labelled digits: data.y is None")
    with torch.random.fork_rng(devices=[]):          # leave the caller's random numbers untouched
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(data), generator=g)
        n_test = max(1, int(holdout * len(data)))
        test, train = order[:n_test], order[n_test:]
        epochs = epochs or max(1, round(100_000 / len(train)))
        model = MnistClassifier().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        steps = epochs * -(-len(train) // batch_size)
        # cosine decay of the learning rate to 0: small final steps settle the last errors
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        x, y = data.x.to(device), data.y.to(device)
        for _ in range(epochs):
            for idx in train[torch.randperm(len(train), generator=g)].split(batch_size):
                x_batch = random_shift(to_unit_range(x[idx]), 2, g)
                loss = F.cross_entropy(model(x_batch), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                schedule.step()
    model.eval()
    model.accuracy = float((classify(model, x[test]) == y[test].cpu()).double().mean())
    return model


def get_mnist_classifier(data_source: str = "auto", data_dir=None, device="cpu",
                         verbose: bool = True) -> MnistClassifier:
    """The digit classifier for `data_source`, loaded from `<data_dir>/mnist_classifier_<source>.pt`
    or, the first time, trained (under a minute on 2 CPU cores) and saved there."""
    source, data = resolve_data_source(data_source, verbose), None
    data_dir = data_dir or default_data_dir()
    if source == "auto":        # what "auto" finds decides: the offline set has 5,000 digits
        data = load_mnist(source, data_dir, "cpu", verbose)
        source = "offline" if len(data) <= 5000 else "full"
    path = Path(data_dir) / f"mnist_classifier_{source}.pt"
    if path.exists():
        saved = torch.load(path, map_location=device, weights_only=True)
        model = MnistClassifier().to(device)
        try:
            model.load_state_dict(saved["state_dict"])
        except (KeyError, RuntimeError):
            raise RuntimeError(f"{path} does not hold this version's digit classifier: delete "
                               f"it and call again to retrain") from None
        model.accuracy = saved["accuracy"]
        if verbose:
            print(f"Digit classifier loaded from {path} (held-out accuracy {model.accuracy:.3f})")
        return model.eval()
    data = data if data is not None else load_mnist(source, data_dir, "cpu", verbose)
    start = time.perf_counter()
    model = train_mnist_classifier(data, device=device)
    seconds = time.perf_counter() - start
    atomic_save({"state_dict": model.state_dict(), "accuracy": model.accuracy,
                 "seconds": seconds, "source": data.source}, path)
    if verbose:
        print(f"Digit classifier trained on {data.source} in {seconds:.0f} s: held-out accuracy "
              f"{model.accuracy:.3f}; saved to {path}")
    return model


def _check_digits(images: torch.Tensor) -> None:
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"expected MNIST-shaped images (N, 1, 28, 28); got {tuple(images.shape)}")


@torch.no_grad()
def _features_and_logits(classifier: MnistClassifier, images, batch_size: int = 500) -> tuple:
    """(features (N, 128), logits (N, 10)) on the CPU, computed in batches on the model's device."""
    _check_digits(images)
    device = next(classifier.parameters()).device
    feats, logits = [], []
    for batch in images.split(batch_size):
        f = classifier.features(to_unit_range(batch.to(device)).float())
        feats.append(f.cpu())
        logits.append(classifier.head(f).cpu())
    return torch.cat(feats), torch.cat(logits)


def classify(classifier: MnistClassifier, images: torch.Tensor, batch_size: int = 500):
    """Predicted digit (N,) int64 for images uint8 or float in [-1, 1], shape (N, 1, 28, 28)."""
    return _features_and_logits(classifier, images, batch_size)[1].argmax(1)


def digit_metrics(classifier: MnistClassifier, fake, labels=None, real=None) -> dict:
    """What the classifier makes of generated digits.

    - class_histogram: how many samples are predicted as each digit 0..9;
    - class_coverage: digits holding at least 10% of their fair share (1/10) of the samples, i.e.
      >= 1% of them. A classifier with 98% accuracy spreads its errors at ~0.2% per digit, far
      below 1%, so its mistakes alone do not make a missing digit look covered;
    - class_balance: the rarest digit's count over the fair share n/10 — 1 for equal shares,
      0.25 when one digit is 4x under-represented (coverage cannot see that: 2.5% >= 1%);
    - class_accuracy (with `labels`, the digits a conditional G was asked for): share predicted
      as asked;
    - frechet_distance (with `real` images): `frechet_distance` between the classifier's features
      of real and fake digits, FID's recipe in a space that knows digits.
    """
    feat_fake, logits = _features_and_logits(classifier, fake)
    predicted = logits.argmax(1)
    histogram = torch.bincount(predicted, minlength=10)
    result = {"class_coverage": int((histogram >= max(1.0, 0.01 * len(predicted))).sum()),
              "class_histogram": histogram.tolist(),
              "class_balance": float(histogram.min() * 10 / len(predicted))}
    if labels is not None:
        labels = torch.as_tensor(labels).cpu()
        if labels.shape != predicted.shape:
            raise ValueError(f"labels has shape {tuple(labels.shape)}: give one label per fake "
                             f"image, shape {tuple(predicted.shape)}")
        result["class_accuracy"] = float((predicted == labels).double().mean())
    if real is not None:
        result["frechet_distance"] = frechet_distance(_features_and_logits(classifier, real)[0],
                                                      feat_fake)
    return result


