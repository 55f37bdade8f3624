"""Training data, preloaded as one tensor and batched by index.

A data set that fits in memory is decoded once into a tensor on the training device; each epoch
draws one random permutation and slices it into batches. That removes the per-item PIL decoding,
collation and host-to-device copies of a `DataLoader` from the hot loop (see benchmarks/).

Images are stored as uint8 (a quarter of the memory of float32) and turned into float32 in
[-1, 1] one batch at a time, which is the range a tanh generator produces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import torch


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

    def __post_init__(self):
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"x has {len(self.x)} items but y has {len(self.y)}: they must match")

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
        return InMemoryData(self.x.to(device), y, self.source, self.num_classes)

    def batches_per_epoch(self, batch_size: int, world_size: int = 1) -> int:
        """Full batches each process sees per epoch (the last, partial batch is dropped)."""
        return (len(self) // world_size) // batch_size

    def batches(self, batch_size: int, epoch: int, seed: int, start: int = 0,
                rank: int = 0, world_size: int = 1) -> Iterator[tuple]:
        """Yield (x, y) batches of epoch `epoch`, from batch number `start` on.

        The permutation depends only on (seed, epoch), so every process draws the same one and
        takes a disjoint share of it (as `DistributedSampler` does), and a resumed run continues
        with exactly the batches it would have seen. `y` is None for unlabelled data.
        """
        if batch_size > len(self) // world_size:
            raise ValueError(f"batch_size={batch_size} is larger than the {len(self) // world_size} "
                             f"items each process has: use batch_size <= {len(self) // world_size}")
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(len(self), generator=g).to(self.device)
        order = order[rank::world_size]                  # this process's disjoint share
        for i in range(start, self.batches_per_epoch(batch_size, world_size)):
            idx = order[i * batch_size:(i + 1) * batch_size]
            yield to_unit_range(self.x[idx]), (None if self.y is None else self.y[idx])
