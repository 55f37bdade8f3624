"""Generators and discriminators: the lecture's MLPs and the DCGAN convolutional pair.

Papers: Goodfellow et al. 2014 (MLP G and D); Radford, Metz & Chintala 2016, "DCGAN" (strided
convolutions, batch norm, ReLU in G with a tanh output, LeakyReLU in D, N(0, 0.02) init);
Mirza & Osindero 2014 (conditional GAN: the label y is fed to both G and D);
Gulrajani et al. 2017 (WGAN-GP: no batch norm in the critic, layer norm allowed).

Conventions shared by every model here:
- a generator has `latent_dim` and `num_classes` (0 = unconditional), is called as G(z) or G(z, y)
  and returns samples: images in [-1, 1] of shape (N, C, H, W), or points (N, d) for toy data;
- a discriminator is called as D(x) or D(x, y) and returns one raw score per sample, shape (N,).
  For the probability losses that score is a logit: D(x) = sigmoid(score) is applied inside the
  loss (`gankit.losses`) because log(sigmoid(.)) computed in one step cannot overflow. For the
  Wasserstein losses the same score is the critic's f(x), with no sigmoid at all;
- `config` holds the constructor arguments, so `gankit.io` can rebuild a saved model.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .validate import check_choice, check_count


def dcgan_init(module: nn.Module) -> None:
    """DCGAN: all weights from N(0, 0.02); batch-norm scales from N(1, 0.02), shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def with_label(v: torch.Tensor, y: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """Append the one-hot code of y to a flat input v (N, d) -> (N, d + num_classes)."""
    if num_classes == 0:
        return v
    if y is None:
        raise ValueError(f"this model is conditional on {num_classes} classes: call it with labels y")
    return torch.cat([v, F.one_hot(y, num_classes).to(v.dtype)], dim=1)


def label_maps(x: torch.Tensor, y: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """Append one constant H×W map per class to an image x (N, C, H, W): the map of class y is 1."""
    if num_classes == 0:
        return x
    onehot = with_label(x.new_zeros(len(x), 0), y, num_classes)      # (N, num_classes)
    maps = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
    return torch.cat([x, maps], dim=1)                                # (N, C + num_classes, H, W)


def _check_positive(**values):
    for name, value in values.items():
        check_count(name, value)


def _check_common(num_classes, latent=None):
    check_count("num_classes", num_classes, allow_zero=True)
    if latent is not None:
        check_choice("latent", latent, ("normal", "uniform"))


def _check_init(init) -> None:
    if not callable(init):
        raise ValueError(f"init={init!r} is not allowed: pass a function of one module, applied as "
                         f"model.apply(init), e.g. gankit.models.dcgan_init")


IMAGE_SIZES = (16, 32, 64, 128, 256)


def check_image_size(image_size) -> int:
    """The DCGAN pair starts at 4×4 and doubles, so it makes powers of two from 16 up."""
    if (isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral)
            or image_size not in IMAGE_SIZES):
        raise ValueError(f"image_size={image_size!r} cannot be made by the DCGAN generator: "
                         f"use a power of two from {', '.join(map(str, IMAGE_SIZES))}")
    return int(image_size)


# ----------------------------------------------------------------------------------- MLP models
class MLPGenerator(nn.Module):
    """G: z (N, latent_dim) [+ one-hot y] -> hidden LeakyReLU layers -> samples of `data_shape`.

    `out` is "tanh" for images in [-1, 1] and "linear" for toy data on the real line.
    """

    def __init__(self, latent_dim=100, data_shape=(1, 28, 28), hidden=(256, 512, 1024),
                 num_classes=0, out="tanh", latent="normal"):
        super().__init__()
        _check_positive(latent_dim=latent_dim, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        if out not in ("tanh", "linear"):
            raise ValueError(f"out={out!r} is not allowed: use 'tanh' (images) or 'linear' (toy data)")
        _check_common(num_classes, latent)
        self.config = dict(latent_dim=latent_dim, data_shape=tuple(data_shape), hidden=tuple(hidden),
                           num_classes=num_classes, out=out, latent=latent)
        self.latent_dim, self.num_classes, self.latent = latent_dim, num_classes, latent
        self.data_shape = tuple(data_shape)
        sizes = [latent_dim + num_classes, *hidden]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], math.prod(self.data_shape)))
        if out == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z, y=None):
        x = self.net(with_label(z, y, self.num_classes))          # (N, prod(data_shape))
        return x.view(len(z), *self.data_shape)                   # (N, *data_shape)


class MLPDiscriminator(nn.Module):
    """D: x flattened [+ one-hot y] -> hidden LeakyReLU layers (with dropout) -> one score."""

    def __init__(self, data_shape=(1, 28, 28), hidden=(1024, 512, 256), num_classes=0, dropout=0.3):
        super().__init__()
        _check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout={dropout!r} is not allowed: use a probability in [0, 1)")
        _check_common(num_classes)
        self.config = dict(data_shape=tuple(data_shape), hidden=tuple(hidden),
                           num_classes=num_classes, dropout=dropout)
        self.num_classes = num_classes
        sizes = [math.prod(data_shape) + num_classes, *hidden]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], 1))                    # a logit (or a critic score)
        self.net = nn.Sequential(*layers)

    def forward(self, x, y=None):
        v = with_label(x.flatten(1), y, self.num_classes)         # (N, prod(data_shape) [+ classes])
        return self.net(v).squeeze(1)                             # (N,)


# --------------------------------------------------------------------------------- DCGAN models
class DCGANGenerator(nn.Module):
    """DCGAN's G: z as a (latent_dim, 1, 1) image, grown 4×4 -> 8×8 -> ... -> image_size.

    Each step is a stride-2 transposed convolution that doubles the side and halves the channels,
    then batch norm and ReLU; the last step outputs `channels` maps through tanh. For
    image_size=64, ngf=64: (100,1,1) -> (512,4,4) -> (256,8,8) -> (128,16,16) -> (64,32,32) -> (3,64,64).
    `init` is applied to every module (`model.apply(init)`): DCGAN's `dcgan_init` unless given.
    """

    def __init__(self, latent_dim=100, image_size=64, channels=3, ngf=64, num_classes=0,
                 latent="normal", init=dcgan_init):
        super().__init__()
        check_image_size(image_size)
        _check_positive(latent_dim=latent_dim, channels=channels, ngf=ngf)
        _check_common(num_classes, latent)
        _check_init(init)
        self.config = dict(latent_dim=latent_dim, image_size=image_size, channels=channels, ngf=ngf,
                           num_classes=num_classes, latent=latent)
        self.latent_dim, self.num_classes, self.latent = latent_dim, num_classes, latent
        n_up = int(math.log2(image_size)) - 2                      # doublings after 4×4
        width = ngf * 2 ** (n_up - 1)
        layers = [nn.ConvTranspose2d(latent_dim + num_classes, width, 4, 1, 0, bias=False),
                  nn.BatchNorm2d(width), nn.ReLU(True)]            # (width, 4, 4)
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]  # (width/2, 2·side, 2·side)
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)                          # (channels, size, size)
        self.apply(init)            # dcgan_init unless given; not in config: saved weights replace it

    def forward(self, z, y=None):
        v = with_label(z, y, self.num_classes)                     # (N, latent_dim [+ classes])
        return self.net(v[:, :, None, None])                       # (N, channels, size, size)


class DCGANDiscriminator(nn.Module):
    """DCGAN's D: stride-2 convolutions halve the side 64 -> 32 -> ... -> 4, then a 4×4 conv to 1.

    `norm` is "batch" (DCGAN), "layer" (WGAN-GP's critic: the penalty is per sample, and batch norm
    would couple the samples of a batch) or "none". No norm on the first layer, as in DCGAN.
    `init` as in `DCGANGenerator`.
    """

    def __init__(self, image_size=64, channels=3, ndf=64, num_classes=0, norm="batch",
                 init=dcgan_init):
        super().__init__()
        check_image_size(image_size)
        _check_positive(channels=channels, ndf=ndf)
        _check_common(num_classes)
        _check_init(init)
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"norm={norm!r} is not allowed: use 'batch', 'layer' or 'none'")
        self.config = dict(image_size=image_size, channels=channels, ndf=ndf,
                           num_classes=num_classes, norm=norm)
        self.num_classes = num_classes
        n_down = int(math.log2(image_size)) - 2
        width = ndf
        layers = [nn.Conv2d(channels + num_classes, ndf, 4, 2, 1, bias=False),
                  nn.LeakyReLU(0.2, True)]                         # (ndf, size/2, size/2)
        for _ in range(n_down - 1):
            layers += [nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
                       *self._norm(norm, 2 * width), nn.LeakyReLU(0.2, True)]  # (2·width, side/2, side/2)
            width *= 2
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))   # (1, 1, 1): the score
        self.net = nn.Sequential(*layers)
        self.apply(init)            # dcgan_init unless given; not in config: saved weights replace it

    @staticmethod
    def _norm(norm: str, width: int) -> list:
        if norm == "batch":
            return [nn.BatchNorm2d(width)]
        if norm == "layer":
            return [nn.GroupNorm(1, width)]     # one group = layer norm over (C, H, W)
        return []

    def forward(self, x, y=None):
        return self.net(label_maps(x, y, self.num_classes)).flatten()   # (N,)


def sample_latent(G: nn.Module, n: int, device=None, generator: torch.Generator | None = None):
    """z ~ p_z for generator G: N(0, I) when G.latent == "normal", U(0, 1) when "uniform"."""
    G = getattr(G, "module", G)                                    # unwrap DistributedDataParallel
    device = device if device is not None else next(G.parameters()).device
    shape = (n, G.latent_dim)
    if getattr(G, "latent", "normal") == "uniform":         # N(0, I) unless G says otherwise
        return torch.rand(shape, device=device, generator=generator)
    return torch.randn(shape, device=device, generator=generator)


def latent_from_seed(G: nn.Module, seed, n: int = 1) -> torch.Tensor:
    """z ~ p_z for G drawn on the CPU from `seed`: the same z on every device and for every G of
    the same latent_dim. `seed` an int: n vectors (n, latent_dim); a sequence of ints: one vector
    per seed (len(seed), latent_dim), so a "style" can be named by its seed."""
    if isinstance(seed, numbers.Integral):
        return sample_latent(G, n, "cpu", torch.Generator().manual_seed(int(seed)))
    return torch.cat([latent_from_seed(G, s) for s in seed])


@contextmanager
def frozen(model: nn.Module):
    """Inside the block no parameter of `model` requires a gradient; afterwards each has its own
    flag back, however the block ends (an exception, Ctrl-C). Gradients still flow *through* the
    model to its input: G's update needs only dD/dx, not D's weight gradients."""
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


@contextmanager
def eval_mode(model: nn.Module):
    """`model.eval()` inside the block, then back to the mode it had: sampling must use batch
    norm's running statistics (not the batch's own) and no dropout, without ending training."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def generate(G: nn.Module, z: torch.Tensor, y=None, batch_size: int = 1000) -> torch.Tensor:
    """G(z), or G(z, y), in eval mode on G's device, as float32 on the CPU, `batch_size` rows at a
    time. y is one label per row, or one int for every row."""
    device = next(G.parameters()).device
    with eval_mode(G):
        if y is None:
            return torch.cat([G(zb.to(device)).float().cpu() for zb in z.split(batch_size)])
        y = torch.as_tensor(y, dtype=torch.long, device=device).expand(len(z))
        return torch.cat([G(zb.to(device), yb).float().cpu()
                          for zb, yb in zip(z.split(batch_size), y.split(batch_size))])


def generate_from_seed(G: nn.Module, n: int, seed: int = 0, y=None,
                       batch_size: int = 1000) -> torch.Tensor:
    """n samples G(z) on the CPU from z = latent_from_seed(G, seed, n): the same z for every G of
    the same latent size, so two generators (or one G at two steps) can be compared sample by
    sample. y as in `generate`."""
    check_count("n", n)
    return generate(G, latent_from_seed(G, seed, n), y, batch_size)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (what a notebook prints beside the architecture)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


MODEL_CLASSES = {cls.__name__: cls for cls in
                 (MLPGenerator, MLPDiscriminator, DCGANGenerator, DCGANDiscriminator)}
