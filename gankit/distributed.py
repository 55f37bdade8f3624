"""Several processes, one training: torchrun's environment, the process group, stopping together.

`torchrun --nproc_per_node=N script ...` starts N copies of a script and gives each the variables
RANK (0..N-1 over all machines), LOCAL_RANK (its GPU on this machine), WORLD_SIZE (N in all),
MASTER_ADDR and MASTER_PORT. `init_from_env` turns them into a process group: nccl on CUDA (GPUs
talk directly), gloo on the CPU (the same code, testable without a GPU). `GANTrainer` calls it,
so the one training loop runs unchanged under torchrun, and PyTorch's DistributedDataParallel
(DDP) averages the gradients of G and D over the processes at every backward pass.

What a loop must do beyond DDP, and where it happens here:
- every rank takes a disjoint share of each epoch's permutation   (`InMemoryData.batches`);
- every rank draws its own z: the seeds are offset per rank       (`rank_seed`);
- all ranks take every decision to stop together, or the ones still running would wait forever in
  the next all-reduce for the ones that left: a NaN on one rank, Ctrl-C, the time budget
  (`any_rank`, `min_over_ranks`, `StopRequests`);
- only rank 0 writes files and draws progress bars (`is_main_process`);
- a checkpoint holds every rank's random streams, so it resumes only with as many ranks.

Batch norm stays per rank, not SyncBatchNorm: each rank normalises its own batch exactly as one
GPU does at that batch size (DCGAN's 128), whatever the number of GPUs; SyncBatchNorm would make
the statistics depend on that number and add an all-reduce per layer to every forward pass (and
is CUDA-only, so CI could not test it). DDP copies rank 0's running statistics to every rank.
"""
from __future__ import annotations

import contextlib
import os
import signal

import torch
import torch.distributed as dist

from .device import get_device

RANK_SEED_STRIDE = 1_000_033     # a prime far above any seed a notebook uses: ranks never share one


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank_and_world() -> tuple:
    """(rank, world size) of this process: (0, 1) unless a process group is initialised."""
    if is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True on rank 0, and in a run of one process: the one that writes files."""
    return rank_and_world()[0] == 0


def launched_by_torchrun() -> bool:
    """True when torchrun (or Slurm's srun + torchrun) started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device=None) -> bool:
    """Join the process group torchrun's environment describes; True when this call created it.

    A single process, or one whose group exists already (`torch.multiprocessing.spawn` users
    create their own), is left alone. On CUDA each process first selects its own GPU, LOCAL_RANK.
    """
    if is_initialized() or not launched_by_torchrun():
        return False
    missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if missing:
        raise RuntimeError(f"WORLD_SIZE={os.environ['WORLD_SIZE']} but {', '.join(missing)} "
                           "not set: start the processes with torchrun, which sets them all")
    on_cuda = get_device(device).type == "cuda"
    if on_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if on_cuda else "gloo")
    return True


@contextlib.contextmanager
def process_group(device=None):
    """`with process_group():` joins torchrun's group if there is one, and leaves it at the end."""
    created = init_from_env(device)
    try:
        yield rank_and_world()
    finally:
        if created and is_initialized():
            dist.destroy_process_group()


def training_device(device=None) -> torch.device:
    """`get_device(device)`, made specific on CUDA under a process group: this rank's own GPU."""
    device = get_device(device)
    if device.type == "cuda" and device.index is None and is_initialized():
        return torch.device("cuda", torch.cuda.current_device())
    return device


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank `rank`'s random streams (z, dropout): `seed` itself on rank 0."""
    return seed + RANK_SEED_STRIDE * rank


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """`model` in DistributedDataParallel: rank 0's weights and buffers are copied to every rank
    now, gradients are averaged at each backward, and buffers (batch-norm running statistics)
    are copied from rank 0 before each forward of the wrapper, so all ranks keep the same model."""
    device_ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def broadcast_buffers(*modules) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank, e.g. after training:
    each rank's last forward pass updated its own copy from its own batch."""
    for module in modules:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def any_rank(flags, device) -> list:
    """Each of `flags` (booleans) made True on every rank when it is True on any rank."""
    t = torch.tensor([int(bool(f)) for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def min_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """The smallest value of the 0-dim tensor `t` over all ranks, on every rank."""
    t = t.clone()
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return t


def gather_objects(obj) -> list:
    """[obj of rank 0, obj of rank 1, ...] on every rank (e.g. each rank's random-number state)."""
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if is_initialized():
        dist.barrier()


@contextlib.contextmanager
def main_process_first():
    """Rank 0 runs the block first, the others after it: one download, one cache file written."""
    rank, _ = rank_and_world()
    if rank != 0:
        barrier()
    try:
        yield
    finally:
        if rank == 0:
            barrier()


class StopRequests:
    """While active, SIGTERM (and, when enabled, Ctrl-C: SIGINT) only set `.requested`.

    Under torchrun a KeyboardInterrupt would hit each rank at a different point, and a rank left
    waiting in an all-reduce for one that has stopped would wait forever; so the loop reads the
    flag between steps and all ranks agree to stop after the same step. torchrun passes Ctrl-C on
    to every worker and kills them 30 s later, which is plenty to finish a step and write files.
    In one process the training loop uses it the same way: Ctrl-C and SIGTERM (Slurm's time limit,
    `kill`) stop after the current step, so no optimiser step is ever cut in half. With
    `escalate`, a second Ctrl-C raises KeyboardInterrupt at once: a step that hangs can still be
    stopped (the loop keeps a consistent state for that case too).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, enabled: bool = True, escalate: bool = False):
        self.enabled, self.escalate, self.requested, self.signum = enabled, escalate, False, None
        self._previous = {}

    def _handler(self, signum, frame):
        if self.escalate and self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt                     # the second Ctrl-C: now
        self.requested, self.signum = True, signum

    def __enter__(self):
        try:
            for sig in self.SIGNALS if self.enabled else (signal.SIGTERM,):
                self._previous[sig] = signal.signal(sig, self._handler)
        except ValueError:        # not the main thread: signals stay as they were
            pass
        return self

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        self._previous = {}
        return False
