"""Saving what a run made: generators, training checkpoints, metrics.json, and where they go.

Files are read back with `torch.load(..., weights_only=True)`, which refuses to run pickled code,
and models are rebuilt only from gankit's own classes, so loading a shared file is safe.
Under torchrun only rank 0 writes.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch

from .models import MODEL_CLASSES

FORMAT = "gankit-generator-1"
GENERATOR_CLASSES = ("MLPGenerator", "DCGANGenerator")


def is_main_process() -> bool:
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


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
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_save(obj, path) -> None:
    """Write to a temporary file, then rename: an interrupted save never leaves a broken file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


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


def load_generator(path, device="cpu") -> torch.nn.Module:
    """Rebuild a generator saved by `save_generator`, in eval mode on `device`.

    The model has `latent_dim` (and `num_classes` > 0 when conditional); call it as G(z) or G(z, y).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no generator file at {path}: run the notebook that trains it, "
                                "or pass the path of a generator.pt that exists")
    saved = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gankit generator file (expected one written by "
                         "gankit.save_generator)")
    if saved["cls"] not in GENERATOR_CLASSES:
        raise ValueError(f"{path} names class {saved['cls']!r}, which is not a gankit generator")
    G = MODEL_CLASSES[saved["cls"]](**saved["config"])
    G.load_state_dict(saved["state_dict"])
    return G.to(device).eval()


def save_checkpoint(trainer, path) -> None:
    """Save everything `load_checkpoint` needs to continue training exactly where it stopped."""
    state = trainer.state_dict()        # on every rank: under torchrun it gathers their RNG states
    if is_main_process():
        atomic_save(dict(format="gankit-checkpoint-1", trainer=state), path)


def load_checkpoint(trainer, path) -> None:
    """Restore a trainer built with the same models and arguments as the one that was saved."""
    saved = torch.load(Path(path), map_location=trainer.device, weights_only=True)
    if not isinstance(saved, dict) or saved.get("format") != "gankit-checkpoint-1":
        raise ValueError(f"{path} is not a gankit training checkpoint (see GANTrainer.save_checkpoint)")
    trainer.load_state_dict(saved["trainer"])


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
        path.write_text(json.dumps(_json_ready(metrics), indent=2, sort_keys=True) + "\n")
    return path
