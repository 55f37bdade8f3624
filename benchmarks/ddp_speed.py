"""Images/s of gankit's training loop in 1 process and in 2 processes under torchrun (DDP, gloo).

Three ways to use the same CPU cores, each training the same models from the same seed:
  1 proc x 1 thread    python, torch.set_num_threads(1)
  1 proc x 2 threads   python, torch.set_num_threads(2)          (what a notebook does here)
  2 procs x 1 thread   torchrun --standalone --nproc_per_node=2   (OMP_NUM_THREADS=1 each)
Each process keeps the same batch per process, so 2 processes consume twice the images per step.
"Images" are real images D saw: steps x n_critic x batch x processes, per second of the timed
`fit` (after untimed warm-up steps; process start and data loading are not timed).

The machine is shared: the modes alternate within a round (1x1, 1x2, 2x1, 1x1, ...) and we report
the median over rounds, with the 1-minute load average after each run (above 2 on 2 cores: other
people's work competed with the run).

    python benchmarks/ddp_speed.py            # ~3 minutes on 2 cores -> results/ddp_speed_cpu.json
    python benchmarks/ddp_speed.py --quick    # one round of short runs: does it run?
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = {"1 proc x 1 thread": (1, 1), "1 proc x 2 threads": (1, 2), "2 procs x 1 thread": (2, 1)}
CASES = {   # name: (model, batch per process, warm-up steps, timed steps)
    "MNIST MLP GAN": ("mnist", 64, 10, 200),
    "DCGAN 32x32": ("dcgan", 32, 3, 40),
}


# ------------------------------------------------------------------------ one training run
def worker(model: str, batch: int, warmup: int, steps: int, threads: int) -> None:
    """Runs in each process: the notebook's cpu-profile recipe, warm up, time `steps` G steps."""
    import torch

    import gankit
    from gankit import distributed
    from gankit.data import load_mnist
    from gankit.faces import load_faces

    torch.set_num_threads(threads)
    with distributed.process_group() as (rank, world):
        if model == "mnist":
            from gankit.lessons.mnist_mlp_gan import build_mnist_gan
            cfg = gankit.MnistConfig.from_params(profile="cpu", batch_size=batch)
            data = load_mnist("offline", verbose=False)
            gankit.seed_everything(0)
            G, D, kwargs = build_mnist_gan(cfg)          # notebook 03's recipe
        else:
            from gankit.lessons.dcgan_faces import build_dcgan
            cfg = gankit.FacesConfig.from_params(profile="cpu", batch_size=batch)
            data = load_faces("offline", image_size=cfg.image_size, verbose=False)
            gankit.seed_everything(0)
            G, D, kwargs = build_dcgan(cfg, channels=data.shape[0])   # notebook 04's recipe
        trainer = gankit.GANTrainer(G, D, **dict(kwargs, device="cpu"), progress=False)
        trainer.fit(data, batch_size=batch, steps=warmup)
        seconds = trainer.seconds
        trainer.fit(data, batch_size=batch, steps=warmup + steps)
        seconds = trainer.seconds - seconds
        if rank == 0:
            print("RESULT " + json.dumps(dict(seconds=seconds, images=steps * batch * world)))


def run_once(case: str, mode: str, quick: bool) -> float:
    """Images/s of one run of `case` in `mode`, in fresh processes."""
    model, batch, warmup, steps = CASES[case]
    if quick:
        warmup, steps = 1, max(2, steps // 10)
    procs, threads = MODES[mode]
    args = ["--worker", model, str(batch), str(warmup), str(steps), str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), GANKIT_OFFLINE="1")
    if procs == 1:
        command = [sys.executable, str(Path(__file__).resolve()), *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={procs}", str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    lines = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{case} / {mode} failed:\n{done.stderr[-2000:]}")
    result = json.loads(lines[0][len("RESULT "):])
    return result["images"] / result["seconds"]


# ------------------------------------------------------------------------ the benchmark
def machine() -> dict:
    import torch
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    return dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                torch=torch.__version__, python=platform.python_version(), commit=commit,
                load_average_start=os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round of short runs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    out = args.out or HERE / "results" / ("ddp_speed_cpu_quick.json" if args.quick
                                          else "ddp_speed_cpu.json")
    report = dict(machine=machine(), rounds={}, summary=[])
    started = time.time()
    for case in CASES:
        runs, loads = {mode: [] for mode in MODES}, {mode: [] for mode in MODES}
        for r in range(rounds):
            for mode in MODES:                      # alternate the modes within a round
                runs[mode].append(run_once(case, mode, args.quick))
                loads[mode].append(round(os.getloadavg()[0], 2))
                print(f"{case:14s} round {r + 1}  {mode:20s} {runs[mode][-1]:8.0f} img/s  "
                      f"(load average {loads[mode][-1]:.1f})", flush=True)
        report["rounds"][case] = dict(images_per_second=runs, load_average_after=loads)
        base = statistics.median(runs["1 proc x 1 thread"])
        for mode, values in runs.items():
            report["summary"].append(dict(case=case, mode=mode, batch_per_process=CASES[case][1],
                                          images_per_second=statistics.median(values),
                                          speedup_vs_1x1=statistics.median(values) / base))
    report["machine"].update(load_average_end=os.getloadavg(), seconds=time.time() - started)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'case':14s} {'mode':20s} {'img/s':>8s} {'vs 1x1':>7s}")
    for row in report["summary"]:
        print(f"{row['case']:14s} {row['mode']:20s} {row['images_per_second']:8.0f} "
              f"{row['speedup_vs_1x1']:6.2f}x")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        model, batch, warmup, steps, threads = sys.argv[2:7]
        worker(model, int(batch), int(warmup), int(steps), int(threads))
    else:
        sys.exit(main())
