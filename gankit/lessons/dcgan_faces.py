"""Notebook 04 (`notebooks/04_dcgan_faces.ipynb`): DCGAN on faces — transposed convolutions, the model pair, a quality measure for
faces that works offline, and attribute directions from CelebA's labels.

Papers: Radford, Metz & Chintala 2016, "DCGAN" (the guidelines, N(0, 0.02) init, Adam 2e-4 with
beta1 0.5, Figure 7's vector arithmetic); Dumoulin & Visin 2016, "A guide to convolution
arithmetic" (transposed convolution and its output size); Heusel et al. 2017 (the Fréchet
distance of FID); Goodfellow et al. 2014, Fig. 2 (nearest training neighbours).

- `conv_transpose2d_by_hand`: each input pixel stamps a copy of the kernel, scaled by the pixel,
  onto the output, `stride` pixels apart; overlaps add; `padding` crops the border.
- `conv_transpose_output_size`, `shape_trace`, `predicted_sides`: (size − 1)·stride − 2·padding +
  kernel, layer by layer, predicted beside measured.
- `build_dcgan(cfg, channels, init)`: G, D (initialised by `init`, DCGAN's by default) and the
  `GANTrainer` arguments of the DCGAN recipe.
- `RandomFeatures`, `face_quality`: the Fréchet distance in the features of a fixed, *untrained*
  random network, with a real-vs-real baseline and a real-vs-noise ceiling; and the memorisation
  ratio of nearest-neighbour distances in pixel space.
- `train_attribute_classifier`, `label_samples`: a small CNN trained on CelebA's real faces and
  labels (e.g. Smiling) labels generated faces, so that `gankit.latent.attribute_direction` can
  average their z;
- `attribute_widget`: faces moved along an attribute direction; `check_conv_transpose_size`,
  `check_dcgan_init`, `check_figure7`: the exercise checkers.
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit import models
from gankit.data import to_unit_range
from gankit.exercises import check
from gankit.metrics import frechet_distance, nearest_neighbours
from gankit.models import DCGANDiscriminator, DCGANGenerator, dcgan_init, sample_latent
from gankit.plots import running_mean, show_images, subplots
from gankit.validate import check_count, check_number
from gankit.widgets import Panel


# ------------------------------------------------------------------ transposed convolution
def conv_transpose2d_by_hand(x: torch.Tensor, w: torch.Tensor, stride: int = 1,
                             padding: int = 0, output_padding: int = 0) -> torch.Tensor:
    """Transposed convolution of one 2-D input x (H, W) with one kernel w (k, k).

    Slide over the *input*: input pixel (i, j) adds x[i, j]·w to the output window whose corner is
    (i·stride, j·stride). The full output has side (H − 1)·stride + k; `padding` then removes
    `padding` rows and columns on every side, and `output_padding` gives back that many on the
    bottom and right only (zeros where nothing was stamped), as `nn.ConvTranspose2d` does.
    """
    check_count("stride", stride)
    check_count("padding", padding, allow_zero=True)
    if not 0 <= output_padding < stride:
        raise ValueError(f"output_padding={output_padding!r} is not allowed: use 0 <= "
                         f"output_padding < stride={stride} (as nn.ConvTranspose2d)")
    (h, wd), k = x.shape, w.shape[0]
    full = x.new_zeros((h - 1) * stride + k + output_padding, (wd - 1) * stride + k + output_padding)
    for i in range(h):
        for j in range(wd):
            full[i * stride:i * stride + k, j * stride:j * stride + k] += x[i, j] * w
    return full[padding:len(full) - padding, padding:full.shape[1] - padding]


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0) -> int:
    """Side of `nn.ConvTranspose2d`'s output: (size − 1)·stride − 2·padding + kernel +
    output_padding (PyTorch's formula with dilation 1; Dumoulin & Visin 2016, Sec. 4.6)."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def conv_matrix(w: torch.Tensor, size: int, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """The matrix C of the convolution of a (size, size) input with kernel w: column j is the
    (flattened) convolution of the j-th one-hot image, so conv(x) = C @ x.flatten().
    Dumoulin & Visin 2016, Sec. 4: the transposed convolution multiplies by Cᵀ."""
    basis = torch.eye(size * size).view(-1, 1, size, size)                # (size², 1, size, size)
    out = F.conv2d(basis, w[None, None], stride=stride, padding=padding)  # (size², 1, m, m)
    return out.flatten(1).T                                               # (m², size²)


def shape_trace(model: nn.Module, x: torch.Tensor) -> list:
    """[(layer, output shape without the batch)] for each layer of `model.net`, from input x."""
    rows = [("input", tuple(x.shape[1:]))]
    with torch.no_grad():
        for layer in model.net:
            x = layer(x)
            rows.append((type(layer).__name__, tuple(x.shape[1:])))
    return rows


def predicted_sides(model: nn.Module, x: torch.Tensor, out_size=conv_transpose_output_size) -> list:
    """`shape_trace(model, x)` with a third column: for each `nn.ConvTranspose2d`, (args, side) where
    side = out_size(*args) is what the formula predicts from args = (side in, kernel, stride,
    padding, output_padding), read from the layer itself; None for the other layers. `out_size` is
    notebook 04's exercise; the measured side is the shape's last entry."""
    trace = shape_trace(model, x)
    rows = [(*trace[0], None)]
    for layer, (_, before), (name, after) in zip(model.net, trace, trace[1:]):
        predicted = None
        if isinstance(layer, nn.ConvTranspose2d):            # square kernels: one number per setting
            args = (before[-1], layer.kernel_size[-1], layer.stride[-1], layer.padding[-1],
                    layer.output_padding[-1])
            predicted = (args, out_size(*args))
        rows.append((name, after, predicted))
    return rows


# ------------------------------------------------------------------ the model pair
def build_dcgan(cfg, channels: int, init=None) -> tuple:
    """(G, D, trainer_kwargs) for a `FacesConfig`: DCGAN's pair and its recipe. `init` (applied
    as model.apply(init), notebook 04's exercise) replaces `gankit.models.dcgan_init`.

    The recipe (Radford et al. 2016, Sec. 4): Adam with lr 2e-4 (cfg.lr) and beta1 = 0.5 (cfg.beta1), the
    non-saturating generator loss of the PyTorch tutorial. On CUDA, mixed precision (the trainer's
    `amp`) and cuDNN's benchmark mode, which times the convolution algorithms once per input shape
    and keeps the fastest: worth it because every batch has the same shape.
    """
    check_count("channels", channels)
    init = dcgan_init if init is None else init
    G = DCGANGenerator(latent_dim=cfg.latent_dim, image_size=cfg.image_size, channels=channels,
                       ngf=cfg.ngf, init=init)
    D = DCGANDiscriminator(image_size=cfg.image_size, channels=channels, ndf=cfg.ndf, init=init)
    if cfg.device == "cuda":
        torch.backends.cudnn.benchmark = True
    kwargs = dict(loss="non-saturating", lr=cfg.lr, betas=(cfg.beta1, 0.999), seed=cfg.seed,
                  device=cfg.device, amp=True)
    return G, D, kwargs


def train_faces(cfg, train, held_out: torch.Tensor, channels: int, augment=None,
                progress: bool = True, init=None) -> tuple:
    """(trainer, tracker): DCGAN trained on `train` for cfg's budget, with `augment` (e.g.
    `gankit.augment.DiffAugment()`) on every image D sees and G, D initialised by `init` (see
    `build_dcgan`); the `MemorisationTracker` records D on training vs held-out faces at every
    log (about 300 logs and 24 snapshots a run)."""
    from gankit.train import GANTrainer
    G, D, kwargs = build_dcgan(cfg, channels, init)
    planned = cfg.epochs * train.batches_per_epoch(cfg.batch_size)
    tracker = MemorisationTracker(train.x, held_out)
    trainer = GANTrainer(G, D, **kwargs, augment=augment, log_every=max(1, planned // 300),
                         snapshot_every=max(1, planned // 24), callbacks=[tracker],
                         progress=progress)
    trainer.fit(train, batch_size=cfg.batch_size, epochs=cfg.epochs, max_seconds=cfg.max_seconds)
    return trainer, tracker


def images_per_second(trainer, batch_size: int) -> float:
    """Real training images D saw per second of training: G steps × n_critic × batch / seconds."""
    return trainer.step * trainer.n_critic * batch_size / max(trainer.seconds, 1e-9)


# ------------------------------------------------------------------ quality without a network
class RandomFeatures(nn.Module):
    """A fixed, untrained conv net: 32×32 RGB -> 4·width features (averaged ReLU maps of layers
    2 and 3).

    Weights are drawn once from a seed (He init, so activations keep their scale) and never
    trained. Such features see colour, contrast, edges and blob layout — not identity or
    expression — so a Fréchet distance in them is a coarse, honest check that needs no download.
    """

    def __init__(self, seed: int = 0, width: int = 16):
        super().__init__()
        self.width = width
        g = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList([nn.Conv2d(3, width, 4, 2, 1), nn.Conv2d(width, 2 * width, 4, 2, 1),
                                    nn.Conv2d(2 * width, 2 * width, 4, 2, 1)])   # 16, 8, 4 pixels
        with torch.no_grad():
            for conv in self.convs:
                fan_in = conv.weight[0].numel()
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * math.sqrt(2 / fan_in))
                conv.bias.zero_()
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_unit_range(x).float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)                           # grey -> RGB: one feature space
        x = F.interpolate(x, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
        feats = []
        for conv in self.convs:
            x = F.relu(conv(x))
            feats.append(x.mean((2, 3)))                          # (N, channels) per layer
        return torch.cat(feats[1:], 1)                            # (N, 4·width): layers 2, 3


def memorisation_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """median distance fake -> nearest real, over median distance real -> nearest *other* real,
    in pixels. Near 0: G copies training images; near 1: as close as real faces are to each other;
    well above 1: farther from every face than faces are from each other (noise, or a new face)."""
    fake_d, _ = nearest_neighbours(fake, real, k=1)
    real_d, _ = nearest_neighbours(real, real, k=2)               # the first neighbour is itself
    return float(fake_d[:, 0].median() / real_d[:, 1].median())


def diversity(x: torch.Tensor, net: nn.Module) -> float:
    """Mean pairwise distance between images in `net`'s features: 0 for a collapsed G (every
    sample alike); compare it with the same number for real faces."""
    return float(torch.pdist(net(x)).mean())


@torch.no_grad()
def face_quality(G: nn.Module, real: torch.Tensor, n: int = 1000, seed: int = 0) -> dict:
    """The Fréchet distance of G's faces to real ones in `RandomFeatures`, with its yardsticks.

    `real` is split into halves A and B (at most n/2 each). All three distances compare a set of
    the same size with B, so they share the small-sample bias and can be read side by side:
    real_vs_real (A, a second sample of real faces: the floor), fake_vs_real (G's faces) and
    noise_vs_real (uniform noise: the ceiling). The features are narrowed until a set holds at
    least twice as many images as there are features (a covariance from fewer is singular, and a
    collapsed G could score below the floor). Plus `diversity` of G's faces beside real-vs-real
    (`diversity_real`) and `memorisation_ratio` against all of `real`.
    """
    g = torch.Generator().manual_seed(seed)
    real = real[torch.randperm(len(real), generator=g)].cpu()
    half = min(n // 2, len(real) // 2)
    real_a, real_b = real[:half], real[half:2 * half]
    fake = models.generate_from_seed(G, half, seed)
    noise = torch.rand(real_a.shape, generator=g) * 2 - 1
    net = RandomFeatures(seed, width=max(2, min(16, half // 8)))      # 4·width features <= half/2
    feats_b = net(real_b)
    out = {name: frechet_distance(net(x), feats_b) for name, x in
           (("real_vs_real", real_a), ("fake_vs_real", fake), ("noise_vs_real", noise))}
    out.update(diversity=diversity(fake, net), diversity_real=diversity(real_a, net),
               memorisation_ratio=memorisation_ratio(fake, real), n_per_set=half,
               n_features=4 * net.width)
    return out


# Notebook 04's self-checks per profile: `face_checks` (fd_share, diversity_ratio); D(G(z)) at the
# end with thousands of faces (d_fake_min); D's train-minus-held-out gap with few faces (d_gap).
# gap_drop: how much DiffAugment must shrink that gap (section 6).
_STRICT = dict(fd_share=0.5, diversity_ratio=0.5, d_fake_min=0.01, d_gap=0.3, gap_drop=0.3)
THRESHOLDS = {"cpu": _STRICT, "gpu": _STRICT,
              "ci": dict(fd_share=1.0, diversity_ratio=0.0, d_fake_min=0.0, d_gap=-1.0, gap_drop=-2.0)}


def face_checks(quality: dict, fd_share: float, diversity_ratio: float) -> dict:
    """The self-checks of section 5, as {name: (value, threshold, passed)}:
    - fd_share: (fake − floor) / (ceiling − floor) of the Fréchet distances, at most `fd_share`
      (noise scores 1, real faces 0);
    - diversity_ratio: G's diversity over real faces', at least `diversity_ratio` (a collapsed G
      scores 0)."""
    share = ((quality["fake_vs_real"] - quality["real_vs_real"])
             / (quality["noise_vs_real"] - quality["real_vs_real"]))
    ratio = quality["diversity"] / quality["diversity_real"]
    return {"fd_share": (share, fd_share, share <= fd_share),
            "diversity_ratio": (ratio, diversity_ratio, ratio >= diversity_ratio)}


def plot_nearest_faces(fake: torch.Tensor, real: torch.Tensor, n: int = 8):
    """Top row: n generated faces; bottom row: the training face nearest to each (pixel L2)."""
    fake = fake[:n].cpu()
    dist, idx = nearest_neighbours(fake, real, k=1)
    nearest = to_unit_range(real[idx[:, 0]].cpu()).float()
    fig, ax = subplots(figsize=(1.1 * len(fake) + 0.4, 2.9))
    show_images(torch.cat([fake, nearest]), nrow=len(fake), ax=ax)
    ax.set_title("generated (top) and the nearest training face (bottom)\npixel distances: "
                 + " ".join(f"{d:.1f}" for d in dist[:, 0].tolist()), fontsize="small")
    return fig


# ------------------------------------------------------------------ attributes (CelebA only)
class AttributeClassifier(nn.Module):
    """A small CNN: a face (resized to 32×32) -> one logit per attribute in `names`."""

    def __init__(self, names: tuple, channels: int = 3, width: int = 32):
        super().__init__()
        self.names, self.accuracy = tuple(names), {}
        self.net = nn.Sequential(                                             # (N, C, 32, 32)
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),           # (N, w, 16, 16)
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),          # (N, 2w, 8, 8)
            nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2),      # (N, 4w, 4, 4)
            nn.Flatten(), nn.Linear(4 * width * 16, len(self.names)))         # (N, A) logits

    def forward(self, x):
        x = F.interpolate(to_unit_range(x).float(), size=(32, 32), mode="bilinear",
                          antialias=True, align_corners=False)
        return self.net(x)


def train_attribute_classifier(data, names=("Smiling",), steps: int = 600, batch_size: int = 64,
                               seed: int = 0, holdout: float = 0.1) -> AttributeClassifier:
    """Train on real labelled faces (`data.attributes`), keep `holdout` aside to measure accuracy
    per attribute (`.accuracy`); the caller's random state is left untouched."""
    if data.attributes is None:
        raise ValueError("these faces have no attributes: attribute directions need CelebA")
    missing = [n for n in names if n not in data.attribute_names]
    if missing:
        raise ValueError(f"names={missing!r} are not attributes of these faces: use some of "
                         f"{', '.join(data.attribute_names)}")
    cols = [data.attribute_names.index(n) for n in names]
    x, y = data.x.cpu(), data.attributes[:, cols].cpu().float()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        order = torch.randperm(len(x))
        n_test = max(1, int(holdout * len(x)))
        test, train = order[:n_test], order[n_test:]
        model = AttributeClassifier(names, channels=x.shape[1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(steps):
            idx = train[torch.randint(len(train), (min(batch_size, len(train)),))]
            loss = F.binary_cross_entropy_with_logits(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        right = ((model(x[test]) > 0).float() == y[test]).float().mean(0)
    model.accuracy = dict(zip(names, right.tolist()))
    return model


@torch.no_grad()
def label_samples(G: nn.Module, classifier: AttributeClassifier, name: str, n: int = 1000,
                  seed: int = 0) -> tuple:
    """(z (n, latent_dim), has (n,) bool): which of G's faces the classifier calls `name`."""
    z = sample_latent(G, n, "cpu", torch.Generator().manual_seed(seed))
    logits = torch.cat([classifier(x) for x in models.generate(G, z).split(256)])
    return z, logits[:, classifier.names.index(name)] > 0


@torch.no_grad()
def plot_attribute_shift(G: nn.Module, z: torch.Tensor, direction: torch.Tensor, strength: float,
                         name: str = "attribute"):
    """Top row: G(z); bottom row: G(z + strength·direction), the same faces moved along it."""
    moved = z + strength * direction.to(z)                                # (n, latent_dim)
    x = models.generate(G, torch.cat([z, moved]))
    fig, ax = subplots(figsize=(1.1 * len(z) + 0.4, 2.9))
    show_images(x, nrow=len(z), ax=ax)
    ax.set_title(f"new faces (top) and the same z + {strength:+.1f} × the '{name}' direction "
                 f"(bottom)", fontsize="small")
    return fig


def load_notebook_faces(cfg, verbose: bool = True):
    """The faces a `FacesConfig` asks for, as uint8 `InMemoryData` on the CPU.

    data_dir None: `load_faces` (CelebA in data/celeba, else LFW, else offline). data_dir given:
    a folder holding celeba/ (like data/), CelebA itself (img_align_celeba/ inside), or any
    folder of face images (flat or one level of subfolders).
    """
    from pathlib import Path

    from gankit.faces import load_celeba, load_faces, load_image_folder
    if cfg.data_dir is None or (Path(cfg.data_dir) / "celeba").is_dir():
        return load_faces(cfg.data_source, cfg.data_dir, cfg.image_size, cfg.max_images,
                          verbose=verbose)
    if (Path(cfg.data_dir) / "img_align_celeba").is_dir():
        return load_celeba(Path(cfg.data_dir), cfg.image_size, cfg.max_images, verbose)
    return load_image_folder(cfg.data_dir, cfg.image_size, cfg.max_images)


def plot_conv_transpose(x: torch.Tensor, w: torch.Tensor, stride: int = 1, padding: int = 0):
    """Input, kernel and the *full* output of `conv_transpose2d_by_hand` (before `padding`
    crops it) as numbered grids, side by side; a red frame marks what `padding` keeps."""
    from matplotlib.patches import Rectangle
    full = conv_transpose2d_by_hand(x, w, stride)
    fig, axes = subplots(1, 3, figsize=(9, 3.2), width_ratios=[len(x), len(w), len(full)])
    titles = ("input x", "kernel w", f"full output, stride {stride}"
              + (f"\nred: what padding {padding} keeps" if padding else ""))
    for ax, m, title in zip(axes, (x, w, full), titles):
        low, high = min(0.0, float(m.min())), float(m.max())
        ax.imshow(m.numpy(), cmap="Blues", vmin=low, vmax=high)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                dark = float(m[i, j]) > low + 0.6 * (high - low)          # white text on dark blue
                ax.text(j, i, f"{float(m[i, j]):g}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize="small")
    if padding:
        side = len(full) - 2 * padding
        axes[2].add_patch(Rectangle((padding - 0.5, padding - 0.5), side, side, fill=False,
                                    edgecolor="red", linewidth=2))
    return fig


# ------------------------------------------------------------------ D memorising a small set
def hold_out(data, fraction: float = 0.1, max_held: int = 1000, seed: int = 0) -> tuple:
    """(training data, held-out uint8 images): a random `fraction` (at most `max_held`) of the
    faces that nobody trains on, so D's outputs on faces it has and has not seen can be compared."""
    from dataclasses import replace
    if not 0 < fraction < 1:
        raise ValueError(f"fraction={fraction!r} is not allowed: use a number in (0, 1), e.g. 0.1")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    n_held = max(1, min(max_held, int(fraction * len(data))))
    held, keep = order[:n_held], order[n_held:].sort().values
    attributes = None if data.attributes is None else data.attributes[keep]
    return replace(data, x=data.x[keep], attributes=attributes), data.x[held]


class MemorisationTracker:
    """A `GANTrainer` callback: at every logged step, mean D(x) on held-out real faces and on as
    many training faces (each set one batch, D in train mode as it runs in training, no grad).
    Karras et al. 2020 (ADA, Fig. 1) watch the same gap: D memorising a small training set."""

    def __init__(self, train_x: torch.Tensor, held_x: torch.Tensor):
        self.train_x, self.held_x = train_x[:len(held_x)], held_x
        self.steps, self.d_train, self.d_held = [], [], []

    @torch.no_grad()
    def __call__(self, trainer):
        D, device = trainer.D, trainer.device
        for x, out in ((self.train_x, self.d_train), (self.held_x, self.d_held)):
            out.append(float(torch.sigmoid(D(to_unit_range(x.to(device)).float())).mean()))
        self.steps.append(trainer.step)

    def end_means(self) -> tuple:
        """(mean D on training faces, mean D on held-out faces) over the last tenth of the logs."""
        k = max(1, len(self.steps) // 10)
        return float(np.mean(self.d_train[-k:])), float(np.mean(self.d_held[-k:]))

    def gap_end(self) -> float:
        """D's memorisation at the end: mean D(training faces) − mean D(held-out faces)."""
        seen, unseen = self.end_means()
        return seen - unseen

    def plot(self, ax=None, title="D on real faces it trains on vs real faces it never sees"):
        fig, ax = subplots(figsize=(6.5, 3.6)) if ax is None else (ax.figure, ax)
        w = max(1, len(self.steps) // 25)                        # running mean: one batch is noisy
        for values, label, color in ((self.d_train, "training faces (seen)", "black"),
                                     (self.d_held, "held-out faces (never seen)", "tab:orange")):
            ax.plot(self.steps[w - 1:], running_mean(values, w), color=color, label=label)
        ax.set_ylim(0, 1)
        ax.set_xlabel("generator step")
        ax.set_ylabel("mean D(x)")
        ax.set_title(title, fontsize="medium")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        return fig


# ------------------------------------------------------------ DiffAugment on few faces (section 6)
def diffaugment_report(runs: dict) -> dict:
    """{name: (quality, tracker)} -> {name: the numbers section 6 compares}: D's train-minus-held-out
    gap over the last tenth of training, G's diversity beside real faces', fd_share, memorisation."""
    report = {}
    for name, (quality, tracker) in runs.items():
        share = face_checks(quality, 1.0, 0.0)["fd_share"][0]
        report[name] = {"d_gap_end": tracker.gap_end(), "diversity": quality["diversity"],
                        "diversity_real": quality["diversity_real"], "fd_share": share,
                        "memorisation_ratio": quality["memorisation_ratio"]}
    return report


def plot_runs_side_by_side(trackers: dict, samples: dict, nrow: int = 6):
    """Top: each run's `MemorisationTracker` curves; bottom: each run's samples."""
    fig, axes = subplots(2, len(trackers), figsize=(5.2 * len(trackers), 8.4),
                         height_ratios=[1, 1.6])
    for k, (name, tracker) in enumerate(trackers.items()):
        tracker.plot(ax=axes[0, k], title=f"{name}: D on seen vs unseen faces")
        show_images(samples[name][:nrow * nrow], nrow=nrow, ax=axes[1, k])
        axes[1, k].set_title(f"{name}: G's faces", fontsize="medium")
    return fig


# ------------------------------------------------------------ exercise checkers (04)
def check_conv_transpose_size(student):
    """04: `student(size, kernel, stride, padding, output_padding)` -> the side of
    nn.ConvTranspose2d's output, exactly (an integer), on eight cases."""
    # conv_transpose_output_size: defined above in this module
    inputs = [(1, 4, 1, 0, 0), (4, 4, 2, 1, 0), (16, 4, 2, 1, 0), (2, 2, 1, 0, 0), (5, 3, 2, 1, 0),
              (7, 5, 3, 2, 0), (5, 3, 2, 1, 1), (7, 5, 3, 2, 2)]
    mistakes = {"this is a convolution's output size (it shrinks), not a transposed convolution's":
                lambda n, k, s, p, op: (n + 2 * p - k) // s + 1,
                "it subtracts the padding once: padding crops both sides, so 2·padding":
                lambda n, k, s, p, op: (n - 1) * s - p + k + op,
                "it leaves out output_padding, the rows given back on one side":
                lambda n, k, s, p, op: (n - 1) * s - 2 * p + k}
    return check(student, conv_transpose_output_size, inputs, "transposed-convolution output size",
                 atol=0, rtol=0, mistakes=mistakes,
                 hint="the kernel stamps start `stride` apart, so the full output spans "
                      "(size − 1)·stride + kernel; then subtract 2·padding (one per side) and "
                      "add output_padding (one side only)")


_INIT_NAMES = ("G conv mean", "G conv std", "G batch norm scale mean", "G batch norm scale std",
               "G batch norm shift", "D conv mean", "D conv std", "D batch norm scale mean",
               "D batch norm scale std")


def _init_statistics(init) -> np.ndarray:
    """Apply `init` to a DCGAN pair whose weights were first scrambled; return 9 statistics:
    (mean, std) of conv weights, of batch-norm scales, and the largest batch-norm shift of G."""
    from torch import nn

    from gankit.exercises import random_state_kept
    from gankit.models import DCGANDiscriminator, DCGANGenerator
    with random_state_kept():             # the models and init draw from torch's global RNG:
        torch.manual_seed(0)              # seeded here, and the student's RNG state restored after
        models = (DCGANGenerator(latent_dim=64, image_size=32, ngf=64),
                  DCGANDiscriminator(image_size=32, ndf=64))
        stats = []
        for model in models:
            with torch.no_grad():
                for p in model.parameters():        # far from DCGAN's values: a no-op init fails
                    p.uniform_(0.5, 1.5)
            model.apply(init)
            convs = torch.cat([m.weight.flatten() for m in model.modules()
                               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
            bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
            scale = torch.cat([m.weight for m in bns])
            shift = torch.cat([m.bias for m in bns])
            stats += [convs.mean(), convs.std(), scale.mean(), scale.std()]
            stats += [shift.abs().max()] if model is models[0] else []
    return np.array([float(s.detach()) for s in stats])


def check_dcgan_init(student):
    """04: `student(module)`, applied with model.apply, should give DCGAN's initialisation:
    conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), batch-norm shifts 0. Each
    statistic must be within 0.004 of gankit's (their sampling noise is < 0.001)."""
    from gankit.exercises import correct, not_attempted, wrong
    from gankit.models import dcgan_init
    name = "DCGAN init"
    hint = ("conv weights N(0, 0.02); batch norm: weight N(1, 0.02), bias 0 (use isinstance on "
            "nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)")
    try:
        got = _init_statistics(student)
    except NotImplementedError:
        return not_attempted(name)
    except Exception as error:
        return wrong(name, f"raised {type(error).__name__}: {error}", hint)
    if np.allclose(got, _init_statistics(lambda module: None)):
        return wrong(name, "it changed no weight: initialise in place (nn.init.normal_)", hint)
    for stat, g, w in zip(_INIT_NAMES, got, _init_statistics(dcgan_init)):
        if abs(g - w) > 0.004:
            return wrong(name, f"{stat} is {g:.4f} where about {w:.4f} was expected", hint)
    return correct(name, "conv weights, batch-norm scales and shifts of G and D look right")


def reference_combine(z, a, b, c):
    """gankit's answer to exercise 3: mean(z[a]) − mean(z[b]) + mean(z[c])."""
    from gankit.latent import concept_mean
    return concept_mean(z, a) - concept_mean(z, b) + concept_mean(z, c)


def check_figure7(student):
    """04: `student(z, a, b, c)` -> mean(z[a]) − mean(z[b]) + mean(z[c]), shape (d,)
    (DCGAN, Fig. 7: average three exemplars per concept, then combine), to within 1e-5."""
    g = torch.Generator().manual_seed(4)
    z = torch.randn(12, 5, generator=g)
    inputs = [(z, [0, 1, 2], [3, 4, 5], [6, 7, 8]), (z, [9, 2, 4], [1, 11, 0], [5, 3, 10]),
              (z, [0], [1], [2]), (torch.randn(36, 100, generator=g), [3, 8, 20], [1, 2, 30], [4, 5, 6])]
    mistakes = {"it uses one exemplar per concept: average each concept's three rows first":
                lambda z, a, b, c: z[a[0]] - z[b[0]] + z[c[0]]}
    return check(student, reference_combine, inputs, "Figure-7 arithmetic", atol=1e-5, mistakes=mistakes,
                 hint="average each concept's rows first (z[a].mean(0), shape (d,)), then "
                      "combine the three means: A − B + C")


# ------------------------------------------------------------ widgets (04: faces along an attribute)
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

    panel = Panel([slider], lambda: plot_attribute_shift(G, faces(), direction, slider.value,
                                                          name), shown=[slider, button])

    def new_faces(_):
        state["seed"] += 1                                 # new z, then the picture of them
        panel.redraw()

    button.on_click(new_faces)
    return panel
