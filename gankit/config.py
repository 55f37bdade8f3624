"""Typed run configurations, one per notebook family, and the three profiles.

A notebook's `parameters` cell holds plain values, most of them None ("the profile decides");
the next cell calls, e.g.,

    cfg = MnistConfig.from_params(profile=profile, seed=seed, epochs=epochs, ...)

which picks the profile ("auto": the GANKIT_PROFILE environment variable, else "gpu" when CUDA
or MPS is present, else "cpu"), fills every None from it, and validates everything. A bad value
raises a one-line ValueError naming the parameter, the value and what is allowed.

Profiles are `dataclasses.replace` of one another: "gpu" holds the paper's sizes, "cpu" what a
laptop or Binder trains in minutes, "ci" the smallest run that executes every cell.
"""
from __future__ import annotations

import ast
import difflib
import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Optional

from .data import DATA_SOURCES
from .device import get_device, has_accelerator
from .io import check_output_dir, project_root
from .models import check_image_size
from .validate import check_choice, check_count, check_number, check_seed

PROFILES = ("ci", "cpu", "gpu")


def resolve_profile(profile: str = "auto") -> str:
    """"auto" -> $GANKIT_PROFILE if set, else "gpu" with an accelerator, else "cpu"."""
    check_choice("profile", profile, ("auto", *PROFILES))
    if profile != "auto":
        return profile
    from_env = os.environ.get("GANKIT_PROFILE", "").strip()
    if from_env:
        check_choice("GANKIT_PROFILE", from_env, PROFILES)
        return from_env
    return "gpu" if has_accelerator() else "cpu"


def assigned_names(source: str) -> list:
    """The names a cell assigns at its top level (`epochs = 5` -> ["epochs"])."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in getattr(node, "targets", [getattr(node, "target", None)])
            if isinstance(target, ast.Name)]


def check_injected_parameters(history=None) -> None:
    """Refuse a name papermill injected that the notebook's `parameters` cell does not define.

    papermill only warns about `-p epocs 5` and runs with the default epochs. It inserts its
    cell, starting "# Parameters", right after the `parameters` cell, so in the kernel's list of
    executed cells (IPython's `In`) the cell before it defines every known name. In a plain
    Jupyter session there is no injected cell and nothing to check.
    """
    if history is None:
        if "IPython" not in sys.modules:           # not in a kernel: nothing was injected
            return
        from IPython import get_ipython
        shell = get_ipython()
        history = shell.user_ns.get("In", []) if shell is not None else []
    injected = [i for i, cell in enumerate(history)
                if i > 0 and cell.lstrip().startswith("# Parameters")]
    if not injected:
        return
    known = assigned_names(history[injected[-1] - 1])
    for name in assigned_names(history[injected[-1]]):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(known)}"
            raise ValueError(f"parameter {name!r} is not one of this notebook's parameters: {hint}")


@dataclass(frozen=True)
class RunConfig:
    """The knobs every notebook shares (DESIGN.md: the papermill contract)."""

    profile: str = "cpu"                  # "ci" | "cpu" | "gpu": which sizes the run uses
    seed: int = 0                         # fixes data order, z, initial weights
    data_source: str = "auto"             # "auto" | "full" (download) | "offline" (packaged data)
    artifacts_dir: Optional[str] = None   # where outputs go; None = artifacts/<notebook>/
    epochs: int = 1                       # passes over the training data
    batch_size: int = 64                  # minibatch size m of Algorithm 1
    lr: float = 2e-4                      # learning rate of G and D
    max_seconds: Optional[float] = None   # wall-clock budget of the training loop; None = no limit
    device: str = field(default_factory=lambda: get_device().type)   # "cuda", "mps" or "cpu"
    given: tuple = field(default=(), repr=False, compare=False)   # the parameters the user set

    def __post_init__(self):
        self.validate()                   # a frozen config is checked once, when it is made

    def validate(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_seed(self.seed)
        check_choice("data_source", self.data_source, DATA_SOURCES)
        # checked now, not after training (None: <project>/artifacts/<notebook>/)
        check_output_dir("artifacts_dir", self.artifacts_dir if self.artifacts_dir is not None
                         else project_root() / "artifacts")
        check_count("epochs", self.epochs)
        check_count("batch_size", self.batch_size)
        check_number("lr", self.lr)
        if self.max_seconds is not None:
            check_number("max_seconds", self.max_seconds)

    @classmethod
    def profiles(cls) -> dict:
        raise NotImplementedError(f"{cls.__name__} defines no profiles")

    @classmethod
    def from_params(cls, profile: str = "auto", **params):
        """The named profile with every non-None parameter applied, validated (and, under
        papermill, no injected parameter the notebook does not have)."""
        check_injected_parameters()
        known = {f.name for f in fields(cls)} - {"profile", "device", "given"}
        for name in params:
            if name not in known:
                raise ValueError(f"{name!r} is not a parameter of {cls.__name__}: "
                                 f"use one of {', '.join(sorted(known))}")
        base = cls.profiles()[resolve_profile(profile)]
        # papermill passes tuples as lists: a frozen config holds tuples
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if v is not None}
        return replace(base, **given, given=tuple(sorted(given)))

    def describe(self) -> str:
        """One line per group, for the notebook to print after resolving."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "given"}
        head = f"profile={values.pop('profile')}  device={values.pop('device')}"
        return head + "\n" + "  ".join(f"{k}={v}" for k, v in values.items())


@dataclass(frozen=True)
class InverseCDFConfig(RunConfig):
    """01: mapping noise to data; a tiny monotone net fitted to the quantile map."""

    n_samples: int = 10_000               # samples drawn from each target

    def validate(self) -> None:
        super().validate()
        check_count("n_samples", self.n_samples)

    @classmethod
    def profiles(cls) -> dict:
        gpu = cls(profile="gpu", epochs=300, batch_size=1000, lr=3e-2, n_samples=100_000)
        cpu = replace(gpu, profile="cpu", n_samples=20_000)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=100, batch_size=250,
                                                 n_samples=2000))


@dataclass(frozen=True)
class Gan1DConfig(RunConfig):
    """02: Algorithm 1 on a 1D target, with the optimal discriminator beside the learned one."""

    k: int = 1                            # D steps per G step (Algorithm 1's k)
    n_data: int = 10_000                  # size of the sample from p_data
    hidden: int = 32                      # width of G's and D's hidden layers
    lr_D: Optional[float] = None          # D's learning rate; None = lr
    latent: str = "normal"                # p_z of the 1D z: "normal" N(0, 1) or "uniform" U(0, 1)
    loss: str = "non-saturating"          # G's loss: "non-saturating" (-log D(G(z))) or "minimax"

    def validate(self) -> None:
        super().validate()
        check_count("k", self.k)
        check_count("n_data", self.n_data)
        if self.batch_size > self.n_data:
            raise ValueError(f"batch_size={self.batch_size} is larger than n_data={self.n_data}: "
                             f"use batch_size <= {self.n_data} (or a larger n_data)")
        check_count("hidden", self.hidden)
        if self.lr_D is not None:
            check_number("lr_D", self.lr_D)
        check_choice("latent", self.latent, ("normal", "uniform"))
        check_choice("loss", self.loss, ("non-saturating", "minimax"))

    @classmethod
    def profiles(cls) -> dict:
        # Measured on notebook 02's two-mode target (modes 6 std apart): k=2 with D's rate 4x G's
        # ended 8,000 G steps at JSD 0.003-0.009 for seeds 0-5; the k=1 runs we tried, 0.02-0.07.
        cpu = cls(profile="cpu", epochs=160, batch_size=512, lr=5e-4, lr_D=2e-3, k=2,
                  n_data=51_200, hidden=32, max_seconds=240)
        gpu = replace(cpu, profile="gpu", epochs=320, max_seconds=None)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=12, max_seconds=20))


@dataclass(frozen=True)
class MnistConfig(RunConfig):
    """03 and 05: MLP (and conditional) GANs on MNIST digits."""

    latent_dim: int = 100                 # dimension of z
    # 03's recipe (gankit.lessons.mnist_mlp_gan.build_mnist_gan); measured in notebook 03 and benchmarks/mnist_speed.py
    hidden_G: tuple = (256, 512)          # G's hidden widths (the lecture's: 256, 512, 1024)
    hidden_D: tuple = (512, 256)          # D's hidden widths (the lecture's: 1024, 512, 256)
    dropout: float = 0.3                  # D's dropout, as in the lecture
    loss: str = "non-saturating"          # GANTrainer's loss
    lr_D: Optional[float] = None          # D's learning rate; None = lr
    beta1: float = 0.5                    # Adam's beta1 (DCGAN's 0.5)
    ema_decay: float = 0.999              # per-step decay of the EMA of G (warmed up); 0 = none
    log_every: int = 5                    # G steps between history records

    def validate(self) -> None:
        super().validate()
        check_count("latent_dim", self.latent_dim)
        for name in ("hidden_G", "hidden_D"):
            value = getattr(self, name)
            if (not isinstance(value, tuple) or not value
                    or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in value)):
                raise ValueError(f"{name}={value!r} is not allowed: use a tuple of positive "
                                 f"widths, e.g. (256, 512)")
        if not _is_real(self.dropout) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout={self.dropout!r} is not allowed: use a probability in [0, 1)")
        check_choice("loss", self.loss, ("minimax", "non-saturating", "hinge"))
        if self.lr_D is not None:
            check_number("lr_D", self.lr_D)
        if not _is_real(self.beta1) or not 0 <= self.beta1 < 1:
            raise ValueError(f"beta1={self.beta1!r} is not allowed: use a number in [0, 1)")
        if not _is_real(self.ema_decay) or not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay={self.ema_decay!r} is not allowed: use a decay in [0, 1), "
                             "e.g. 0.99 (0 = no average)")
        check_count("log_every", self.log_every)

    def for_data(self, data, verbose: bool = True):
        """This config for the digits actually loaded. The gpu profile's epochs are passes over
        full MNIST's 60,000 digits; on the 5,000 offline digits the same epochs are 12 times fewer
        G steps (03 on an H200, offline: 1,170 steps, Fréchet distance 388 against the check's
        200), so there it trains the cpu profile's epochs, which its checks were measured with.
        Epochs you set yourself are kept."""
        cpu_epochs = self.profiles()["cpu"].epochs
        if (self.profile != "gpu" or "epochs" in self.given or len(data) >= 60_000
                or self.epochs >= cpu_epochs):
            return self
        if verbose:
            print(f"gpu profile on {len(data):,} digits (not full MNIST's 60,000): epochs {self.epochs} -> "
                  f"{cpu_epochs}, the cpu profile's, so the run has the G steps its checks need")
        return replace(self, epochs=cpu_epochs)

    @classmethod
    def profiles(cls) -> dict:
        # Measured on the 5,000 offline digits, 1 thread on 2 shared cores (notebook 03, section 2):
        # the narrower MLP at lr 2e-3 (10x the lecture's), batch 128, no dropout, a warmed-up EMA
        # of G: all 10 digits at Frechet distance 54 after 3,000 steps (batch 64: 91 after 3,900).
        cpu = cls(profile="cpu", epochs=100, batch_size=128, lr=2e-3, dropout=0.0, max_seconds=150)
        gpu = replace(cpu, profile="gpu", epochs=30, max_seconds=None)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=2, max_seconds=15))


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ConditionalMnistConfig(MnistConfig):
    """05: the conditional GAN G(z, y), D(x, y) on MNIST digits (gankit/conditional.py).

    hidden_D are the widths of the projection D's feature MLP φ; it uses no dropout."""

    n_per_digit: int = 100                # generated samples per digit for the evaluation
    min_accuracy: float = 0.97            # the self-check: class accuracy the run must reach
    label_input: str = "projection"       # how D sees y: "projection" (Miyato & Koyama) or "one-hot"

    def validate(self) -> None:
        super().validate()
        check_count("n_per_digit", self.n_per_digit)
        check_choice("label_input", self.label_input, ("projection", "one-hot"))
        if not _is_real(self.min_accuracy) or not 0 <= self.min_accuracy <= 1:
            raise ValueError(f"min_accuracy={self.min_accuracy!r} is not allowed: use a number in [0, 1]")

    @classmethod
    def profiles(cls) -> dict:
        # measured on the 5,000 offline digits, 1 thread (notebook 05's table, benchmarks/cgan_speed.py):
        # batch 128, lr 2e-3 and an EMA of 0.999 gave class accuracy 0.94-0.97 after 1,500-2,340
        # G steps and 0.98 after 4,300 (120 s on a busy machine). 100 epochs are 3,900 steps
        # (~110 s on one core); max_seconds only caps a machine busier than that
        gpu = cls(profile="gpu", epochs=30, batch_size=128, lr=2e-3, dropout=0.0, ema_decay=0.999,
                  log_every=10, n_per_digit=500)
        # Issue 16, seed 0, 1 thread: EMA accuracy 0.94 at 2,000 steps, 0.970 at 3,900, 0.980 at
        # 5,000 (worst digit 0.94): 130 epochs are 5,070 steps (~150 s on one idle core).
        cpu = replace(gpu, profile="cpu", epochs=130, n_per_digit=100, max_seconds=300)
        ci = replace(cpu, profile="ci", epochs=8, max_seconds=15, ema_decay=0.99, min_accuracy=0.2)
        return dict(gpu=gpu, cpu=cpu, ci=ci)


@dataclass(frozen=True)
class FacesConfig(RunConfig):
    """04: DCGAN on faces (CelebA, LFW, or any folder of face images)."""

    image_size: int = 64                  # side of the square images: a power of two from 16
    data_dir: Optional[str] = None        # a folder of face images; None = data/ (CelebA, LFW)
    latent_dim: int = 100                 # nz in the DCGAN tutorial
    ngf: int = 64                         # generator feature maps at the last layer
    ndf: int = 64                         # discriminator feature maps at the first layer
    max_images: Optional[int] = None      # use the first N faces of a large set; None = all
    beta1: float = 0.5                    # Adam's beta1 (DCGAN: 0.5; 0.9 "oscillated", Sec. 4)
    diffaugment: str = "color,translation,cutout"  # DiffAugment policy of the small-data run; "" = none

    # Sizes notebook 04 serves, per profile. Measured with the ci budget (10 s, offline faces):
    # at 32 its face-quality self-check passes; at 16, 64 and 128 G ended 1.06, 6.74 and 2.36 of
    # the way from real faces to noise (the check allows 1.0). 64 is the gpu profile's (the paper's).
    NOTEBOOK_IMAGE_SIZES = dict(ci=(32,), cpu=(32, 64), gpu=(32, 64))

    def check_notebook_image_size(self) -> None:
        """Notebook 04's validation: refuse now a size its self-checks would fail after training."""
        served = self.NOTEBOOK_IMAGE_SIZES[self.profile]
        if self.image_size not in served:
            raise ValueError(f"image_size={self.image_size} is not one notebook 04 serves in the "
                             f"{self.profile} profile: use {' or '.join(map(str, served))} (its "
                             "face-quality check fails at other sizes within this budget)")

    def validate(self) -> None:
        super().validate()
        check_image_size(self.image_size)
        if not _is_real(self.beta1) or not 0 <= self.beta1 < 1:
            raise ValueError(f"beta1={self.beta1!r} is not allowed: use a number in [0, 1), e.g. 0.5")
        from .augment import check_policy
        check_policy(self.diffaugment, "diffaugment")
        if self.max_images is not None:
            check_count("max_images", self.max_images)
        if self.data_dir is not None and not Path(self.data_dir).is_dir():
            raise ValueError(f"data_dir={self.data_dir!r} is not a folder: give the folder that "
                             "holds your images (or None to use data/)")
        for name in ("latent_dim", "ngf", "ndf"):
            check_count(name, getattr(self, name))

    @classmethod
    def profiles(cls) -> dict:
        # gpu: the PyTorch DCGAN tutorial (CelebA, 5 epochs). cpu: measured on 2 shared cores,
        # 1 thread, ~15 G steps/s at 32×32, ngf = ndf = 32, batch 32: the 90 offline training
        # faces (2 batches per epoch) take 1,500 epochs in ~200 s; larger sets stop at max_seconds.
        gpu = cls(profile="gpu", epochs=5, batch_size=128, lr=2e-4, image_size=64)
        # max_images keeps CelebA's decoding (once, then cached) and memory small on a laptop.
        # Offline, the notebook trains twice (without and with DiffAugment, section 6): 240 s each
        # at most keeps the whole notebook under 10 minutes.
        cpu = replace(gpu, profile="cpu", epochs=1500, image_size=32, ngf=32, ndf=32,
                      batch_size=32, max_seconds=240, max_images=20_000)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=40, ngf=16, ndf=16,
                                                 max_seconds=10, max_images=2000))


@dataclass(frozen=True)
class WGANConfig(RunConfig):
    """06: WGAN with weight clipping and with gradient penalty, on the ring and on MNIST."""

    # lr, beta1, beta2 are WGAN-GP's Adam (ring and MNIST); epochs, batch_size, max_seconds the MNIST run
    n_critic: int = 5                     # critic steps per generator step
    clip_value: float = 0.01              # WGAN's weight clip c
    lambda_gp: float = 10.0               # WGAN-GP's penalty weight lambda
    lr_D: Optional[float] = None          # WGAN-GP's critic learning rate; None = lr (Algorithm 1)
    beta1: float = 0.0                    # WGAN-GP's Adam beta1 (Algorithm 1: 0)
    beta2: float = 0.9                    # WGAN-GP's Adam beta2
    lr_clip: float = 5e-5                 # WGAN's RMSprop learning rate (the weight-clipping run)
    lr_vanilla: float = 1e-4              # the vanilla GAN's Adam learning rate, beta = (0.5, 0.999)
    ring_radius: float = 2.0              # radius of the ring of 8 Gaussians
    ring_std: float = 0.05                # std of each Gaussian; "high quality" = within 3 std
    ring_steps: int = 2000                # generator steps of each ring run (the same for all three)
    ring_batch_size: int = 256            # minibatch of the ring runs (WGAN-GP's toy experiments)
    ring_max_seconds: Optional[float] = None  # wall-clock cap of each ring run; None = no cap
    hidden: int = 128                     # width of the ring MLPs' three hidden layers
    gallery_steps: int = 1500             # generator steps of each failure-gallery run
    fast_D_factor: float = 30.0           # the gallery's D learning rate, as a multiple of lr_vanilla
    kr_steps: int = 300                   # steps of each critic in section 1's W1-vs-JSD experiment
    latent_dim: int = 100                 # dimension of z for the MNIST generator

    def validate(self) -> None:
        super().validate()
        check_count("n_critic", self.n_critic)
        check_number("clip_value", self.clip_value)
        check_number("lambda_gp", self.lambda_gp, allow_zero=True)
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            check_number(name, value, allow_zero=True)
            if value >= 1:
                raise ValueError(f"{name}={value!r} is not allowed: use a number in [0, 1)")
        for name in ("lr_clip", "lr_vanilla", "ring_radius", "ring_std", "fast_D_factor"):
            check_number(name, getattr(self, name))
        for name in ("ring_steps", "ring_batch_size", "hidden", "gallery_steps", "latent_dim",
                     "kr_steps"):
            check_count(name, getattr(self, name))
        for name in ("lr_D", "ring_max_seconds"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name))

    @classmethod
    def profiles(cls) -> dict:
        # lr_D = 3 lr (a two time-scale update, Heusel et al. 2017): measured on the ring with seeds
        # 0 and 1, WGAN-GP covers 8/8 from step 750-1,250 with it and wanders for > 3,000 without
        gpu = cls(profile="gpu", epochs=100, batch_size=64, lr=1e-4, lr_D=3e-4, ring_steps=4000,
                  gallery_steps=3000)
        cpu = replace(gpu, profile="cpu", epochs=100, max_seconds=90, ring_steps=2000,
                      ring_max_seconds=180, gallery_steps=1500)
        ci = replace(cpu, profile="ci", epochs=1, max_seconds=4, ring_steps=120, ring_max_seconds=5,
                     hidden=32, gallery_steps=60, kr_steps=30)
        return dict(gpu=gpu, cpu=cpu, ci=ci)
