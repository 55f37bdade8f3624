"""Minutes and peak memory of every notebook in one profile, as Binder and CI see them.

    python benchmarks/notebooks.py --profile cpu [NOTEBOOK ...]

Runs the notebooks with gankit's runner (papermill; the kernel's resident memory polled every
0.2 s), offline, and merges the rows into benchmarks/results/notebooks_<profile>.json, so the
notebooks can be measured a few at a time. Binder gives a notebook 2 GB: the goal is <= 1.5 GB each.
"""
import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from gankit.cli import run as runner

RESULTS = Path(__file__).resolve().parent / "results"


def measure(notebooks: list, profile: str) -> list:
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for path in notebooks:
            r = runner.run_notebook(path, Path(out), profile, {}, cell_timeout=3600)
            rows.append(dict(notebook=path.name, status=r["status"], error=r["error"],
                             minutes=round(r["seconds"] / 60, 2), peak_memory_mb=r["peak_memory_mb"]))
            print(f"{path.name:28s} {r['status']:6s} {rows[-1]['minutes']:6.2f} min "
                  f"{r['peak_memory_mb']:8.1f} MB", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: all)")
    parser.add_argument("--profile", default="cpu", choices=("ci", "cpu", "gpu"))
    args = parser.parse_args()
    os.environ["GANKIT_OFFLINE"] = "1"
    notebooks = runner.find_notebooks(args.notebooks, runner.notebooks_folder())
    rows = measure(notebooks, args.profile)
    path = RESULTS / f"notebooks_{args.profile}.json"
    old = json.loads(path.read_text())["runs"] if path.exists() else []
    merged = {r["notebook"]: r for r in old} | {r["notebook"]: r for r in rows}
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(dict(
        profile=args.profile, machine=f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        measured=time.strftime("%Y-%m-%d"), runs=[merged[k] for k in sorted(merged)]), indent=2) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
