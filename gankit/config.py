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

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Optional

from .device import get_device, has_accelerator
from .models import check_image_size
from .validate import check_choice, check_count, check_number

PROFILES = ("ci", "cpu", "gpu")
DATA_SOURCES = ("auto", "full", "offline")


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
    device: str = ""                      # filled in: "cuda", "mps" or "cpu"

    def __post_init__(self):
        if not self.device:
            object.__setattr__(self, "device", get_device().type)
        self.validate()

    def validate(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_count("seed", self.seed, allow_zero=True)
        check_choice("data_source", self.data_source, DATA_SOURCES)
        if self.artifacts_dir is not None and not isinstance(self.artifacts_dir, (str, os.PathLike)):
            raise ValueError(f"artifacts_dir={self.artifacts_dir!r} is not allowed: "
                             "use None or a folder path such as 'runs/mnist'")
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
        """The named profile with every non-None parameter applied, validated."""
        known = {f.name for f in fields(cls)} - {"profile", "device"}
        for name in params:
            if name not in known:
                raise ValueError(f"{name!r} is not a parameter of {cls.__name__}: "
                                 f"use one of {', '.join(sorted(known))}")
        base = cls.profiles()[resolve_profile(profile)]
        return replace(base, **{k: v for k, v in params.items() if v is not None})

    def describe(self) -> str:
        """One line per group, for the notebook to print after resolving."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
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
        gpu = cls(profile="gpu", epochs=2000, batch_size=1000, lr=1e-2, n_samples=100_000)
        cpu = replace(gpu, profile="cpu", n_samples=20_000)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=200, n_samples=2000))


@dataclass(frozen=True)
class Gan1DConfig(RunConfig):
    """02: Algorithm 1 on a 1D target, with the optimal discriminator beside the learned one."""

    k: int = 1                            # D steps per G step (Algorithm 1's k)
    n_data: int = 10_000                  # size of the sample from p_data
    hidden: int = 32                      # width of G's and D's hidden layers

    def validate(self) -> None:
        super().validate()
        check_count("k", self.k)
        check_count("n_data", self.n_data)
        check_count("hidden", self.hidden)

    @classmethod
    def profiles(cls) -> dict:
        gpu = cls(profile="gpu", epochs=200, batch_size=256, lr=1e-3, n_data=50_000, hidden=64)
        cpu = replace(gpu, profile="cpu", epochs=60, n_data=10_000, hidden=32, max_seconds=240)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=3, max_seconds=20))


@dataclass(frozen=True)
class MnistConfig(RunConfig):
    """03 and 05: MLP (and conditional) GANs on MNIST digits."""

    latent_dim: int = 100                 # dimension of z

    def validate(self) -> None:
        super().validate()
        check_count("latent_dim", self.latent_dim)

    @classmethod
    def profiles(cls) -> dict:
        gpu = cls(profile="gpu", epochs=50, batch_size=128, lr=2e-4)
        cpu = replace(gpu, profile="cpu", epochs=100, batch_size=64, max_seconds=300)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=1, max_seconds=15))


@dataclass(frozen=True)
class FacesConfig(RunConfig):
    """04: DCGAN on faces (CelebA, LFW, or any folder of face images)."""

    image_size: int = 64                  # side of the square images: a power of two from 16
    data_dir: Optional[str] = None        # a folder of face images; None = data/ (CelebA, LFW)
    latent_dim: int = 100                 # nz in the DCGAN tutorial
    ngf: int = 64                         # generator feature maps at the last layer
    ndf: int = 64                         # discriminator feature maps at the first layer

    def validate(self) -> None:
        super().validate()
        check_image_size(self.image_size)
        if self.data_dir is not None and not Path(self.data_dir).is_dir():
            raise ValueError(f"data_dir={self.data_dir!r} is not a folder: give the folder that "
                             "holds your images (or None to use data/)")
        for name in ("latent_dim", "ngf", "ndf"):
            check_count(name, getattr(self, name))

    @classmethod
    def profiles(cls) -> dict:
        gpu = cls(profile="gpu", epochs=5, batch_size=128, lr=2e-4, image_size=64)
        cpu = replace(gpu, profile="cpu", epochs=200, image_size=32, ngf=32, ndf=32,
                      batch_size=64, max_seconds=480)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=2, ngf=16, ndf=16,
                                                 max_seconds=15))


@dataclass(frozen=True)
class WGANConfig(RunConfig):
    """06: WGAN with weight clipping and with gradient penalty, on the ring and on MNIST."""

    n_critic: int = 5                     # critic steps per generator step
    clip_value: float = 0.01              # WGAN's weight clip c
    lambda_gp: float = 10.0               # WGAN-GP's penalty weight lambda

    def validate(self) -> None:
        super().validate()
        check_count("n_critic", self.n_critic)
        check_number("clip_value", self.clip_value)
        check_number("lambda_gp", self.lambda_gp, allow_zero=True)

    @classmethod
    def profiles(cls) -> dict:
        gpu = cls(profile="gpu", epochs=100, batch_size=256, lr=1e-4)
        cpu = replace(gpu, profile="cpu", epochs=30, max_seconds=150)
        return dict(gpu=gpu, cpu=cpu, ci=replace(cpu, profile="ci", epochs=1, max_seconds=10))
