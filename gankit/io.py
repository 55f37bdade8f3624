"""Saving what a run made: generators, training checkpoints, metrics.json, and where they go.

Files are read back with `torch.load(..., weights_only=True)`, which refuses to run pickled code,
and models are rebuilt only from gankit's own classes, so loading a shared file is safe.
Under torchrun only rank 0 writes.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import pickle
import signal
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

import torch

from .distributed import StopRequests, is_main_process
from .models import MODEL_CLASSES

FORMAT = "gankit-generator-1"
CHECKPOINT_FORMAT = "gankit-checkpoint-1"
GENERATOR_CLASSES = ("MLPGenerator", "DCGANGenerator")


def project_root() -> Path:
    """The checkout holding `gankit/` and `notebooks/` (notebooks run from notebooks/), else cwd."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "gankit").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return here


def artifacts_path(notebook_stem: str, artifacts_dir=None) -> Path:
    """`artifacts_dir` if given, else <project>/artifacts/<notebook_stem>/; created if missing."""
    path = Path(artifacts_dir) if artifacts_dir is not None else project_root() / "artifacts" / notebook_stem
    check_output_dir("artifacts_dir", path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_output_dir(name: str, path) -> Path:
    """Refuse, in one line naming `name`, a folder that cannot receive a run's files.

    Called before any training, so a bad --out or artifacts_dir never costs the trained model:
    the folder must exist or be creatable (its nearest existing parent a writable folder), be a
    folder, and be writable.
    """
    if not isinstance(path, (str, os.PathLike)) or str(path).strip() == "":
        raise ValueError(f"{name}={path!r} is not allowed: use a folder path such as 'runs/mnist'")
    path = Path(path).expanduser().absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing.is_dir() and _can_write_in(existing):
        return path
    if existing == path:
        what = "is a folder you cannot write to" if existing.is_dir() else "is a file, not a folder"
        raise ValueError(f"{name}={str(path)!r} {what}: choose another folder for the outputs")
    what = "not writable" if existing.is_dir() else "a file, not a folder"
    raise ValueError(f"{name}={str(path)!r} cannot be created: {existing} is {what}; "
                     "choose another folder for the outputs")


def _can_write_in(folder: Path) -> bool:
    """Try it: permissions alone miss read-only disks (and root passes every os.access check)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def signals_held():
    """Ctrl-C and SIGTERM arriving in the block wait until it ends, then act as usual."""
    with StopRequests() as stop:
        yield
    if stop.requested:
        signal.raise_signal(stop.signum)


def atomic_write(path, write) -> Path:
    """Write a file that is whole or absent: `write(f)` fills a binary file object; the bytes go
    to a temporary file beside `path`, which then replaces it (os.replace is atomic).

    Every file a run leaves is written through here. Ctrl-C and SIGTERM wait until the file is in
    place; a full disk gives one line naming the file and the space it needs; no temporary file
    is left behind.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = b""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with signals_held():
            buffer = BytesIO()
            write(buffer)                           # serialise in memory: the size is known
            data = buffer.getbuffer()
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())            # a full disk can surface only here
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            fix = (f"the disk is full (the file needs {len(data) / 2**20:.1f} MB): free some space "
                   "or choose another folder")
        else:
            fix = f"{error.strerror or error}: choose a folder you can write to"
        one_line = OSError(f"could not write {path}: {fix}")
        one_line.errno = error.errno
        raise one_line from None
    return path


def atomic_save(obj, path) -> None:
    """`torch.save(obj, path)` through `atomic_write`."""
    atomic_write(path, lambda f: torch.save(obj, f))


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def save_figure(fig, path, **savefig_kwargs) -> Path:
    """A matplotlib figure as a PNG through `atomic_write` (fig.savefig can leave half a file)."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", **savefig_kwargs))


def save_generator(G: torch.nn.Module, path) -> None:
    """Save G's weights with the constructor arguments that rebuild it (see `load_generator`)."""
    G = getattr(G, "module", G)                      # unwrap DistributedDataParallel
    name = type(G).__name__
    if name not in GENERATOR_CLASSES:
        raise ValueError(f"save_generator got a {name}: it saves gankit generators "
                         f"({', '.join(GENERATOR_CLASSES)})")
    if is_main_process():
        state = {k: v.detach().cpu() for k, v in G.state_dict().items()}
        atomic_save(dict(format=FORMAT, cls=name, config=G.config, state_dict=state), path)


def _read(path: Path, device, what: str, remedy: str) -> dict:
    """torch.load(weights_only=True) of a file gankit wrote, or one line saying what is wrong.

    torch's own messages for damaged or pickled files suggest loosening weights_only, which
    would let the file run code: a course must never advise that, so they are replaced here.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}: {remedy}")
    try:
        saved = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        if zipfile.is_zipfile(path):          # a whole torch file of pickled objects: torch.save(model)
            raise ValueError(f"{path} holds a pickled Python object (saved with torch.save(model)?), "
                             f"not a {what}; gankit never unpickles code: {remedy}") from None
        raise ValueError(f"{path} is damaged or not a torch file, so it is not a readable {what}: "
                         f"{remedy}") from None
    except (RuntimeError, EOFError, OSError, ValueError):
        damage = "is empty" if path.stat().st_size == 0 else "is damaged (truncated?) or not a torch file"
        raise ValueError(f"{path} {damage}, so it is not a readable {what}: {remedy}") from None
    if not isinstance(saved, dict) or saved.get("format") not in (FORMAT, CHECKPOINT_FORMAT):
        raise ValueError(f"{path} is not a {what}: {remedy}")
    return saved


def load_generator(path, device="cpu") -> torch.nn.Module:
    """Rebuild a generator saved by `save_generator`, in eval mode on `device`.

    The model has `latent_dim` (and `num_classes` > 0 when conditional); call it as G(z) or G(z, y).
    """
    path = Path(path)
    remedy = ("write it with gankit.save_generator(G, path): re-run the notebook (or python -m "
              "gankit train) that trains it")
    saved = _read(path, device, "gankit generator file", remedy)
    if saved["format"] != FORMAT or saved.get("cls") not in GENERATOR_CLASSES:
        raise ValueError(f"{path} is not a gankit generator file: {remedy}")
    try:
        G = MODEL_CLASSES[saved["cls"]](**saved["config"])
        G.load_state_dict(saved["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise ValueError(f"{path} does not rebuild a {saved['cls']} (written by another gankit "
                         f"version, or edited?): {remedy}") from None
    return G.to(device).eval()


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """True when a and b hold the same tensors under the same names (on any devices), bit for
    bit: what a save/load round trip must keep. Comparing samples instead says less: the same
    weights give slightly different numbers on a GPU and on the CPU (TF32, other kernels)."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].cpu(), sb[k].cpu()) for k in sa)


def save_checkpoint(trainer, path) -> None:
    """Save everything `load_checkpoint` needs to continue training exactly where it stopped."""
    state = trainer.state_dict()        # on every rank: under torchrun it gathers their RNG states
    if is_main_process():
        atomic_save(dict(format=CHECKPOINT_FORMAT, trainer=state), path)


def load_checkpoint(trainer, path) -> None:
    """Restore a trainer built with the same models and arguments as the one that was saved."""
    path = Path(path)
    remedy = "pass a file written by GANTrainer.save_checkpoint"
    saved = _read(path, trainer.device, "gankit training checkpoint", remedy)
    if saved["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a gankit training checkpoint: {remedy}")
    state = saved["trainer"]
    # checked here: a mismatch would otherwise surface steps later, e.g. as KeyError: 'square_avg'
    differs = ["loss"] if state["history"]["loss_name"] != trainer.loss else []
    differs += [f"optimiser of {name[-1]}" for name in ("opt_G", "opt_D")
                if set(state[name]["param_groups"][0]) != set(getattr(trainer, name).param_groups[0])]
    differs += [f"shape of {name}" for name in ("G", "D")
                if _shapes(state[name]) != _shapes(getattr(trainer, name).state_dict())]
    if differs:
        raise ValueError(f"{path} was saved by a trainer with another {', '.join(differs)}: build "
                         "the GANTrainer with the same models and arguments as the run that saved it")
    trainer.load_state_dict(state)


def _shapes(state_dict: dict) -> dict:
    return {name: tuple(t.shape) for name, t in state_dict.items()}


def _json_ready(value):
    """NaN and inf are not JSON: write them as null. Tensors and NumPy numbers become floats."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_metrics(directory, metrics: dict) -> Path:
    """Write `metrics` as <directory>/metrics.json (readable by any tool; NaN becomes null)."""
    path = Path(directory) / "metrics.json"
    if is_main_process():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(_json_ready(metrics), indent=2, sort_keys=True) + "\n")
    return path
