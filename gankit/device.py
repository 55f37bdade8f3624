"""Where tensors live and how randomness is fixed.

Device choice follows PyTorch's own order of preference: CUDA, then Apple's MPS, then the CPU.
Mixed precision (AMP) is used on CUDA only: bfloat16 where the GPU supports it (no loss scaling
needed), float16 with a GradScaler on older cards such as Colab's T4.
"""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """The device to train on: `preferred` if given, else CUDA, then MPS, then CPU."""
    if preferred is not None:
        return torch.device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def has_accelerator() -> bool:
    """True when a CUDA or MPS device is available (the `auto` profile then picks `gpu`)."""
    return get_device().type != "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU) so a run can be repeated.

    Exact repetition also needs the same device and library versions; on CUDA some kernels stay
    non-deterministic unless `torch.use_deterministic_algorithms(True)` is set, which costs speed.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} is not allowed: use a non-negative integer such as 0 or 42")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Not PYTHONHASHSEED: Python reads it once, at start-up, so setting it here would change
    # nothing in this process (and gankit's results do not depend on str hashing).


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `device`, or None when training stays in float32 (CPU, MPS)."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device, enabled: bool = True):
    """An autocast context on CUDA; a no-op context elsewhere (nanoGPT's single AMP path)."""
    dtype = amp_dtype(device)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)
