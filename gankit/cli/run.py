"""`python -m gankit run`: execute course notebooks headless, the way an instructor does.

Each notebook runs under papermill with the chosen profile and parameters; its executed copy, its
artifacts (metrics.json, samples.png, generator.pt) and an index of every run (seconds, peak
memory of the kernel, status, headline metrics) are written to one output folder.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

from gankit.config import PROFILES
from gankit.io import signals_held, write_text

DESCRIPTION = """\
Execute the course notebooks with papermill, as a class or a CI job would.

Each NOTEBOOK runs top to bottom in a fresh Python kernel with `profile` and every -p parameter
injected after its `parameters` cell. NOTEBOOK is a path, a file name in notebooks/, or the start
of one ("03", "04_dcgan"); with none given, all six run in order. A run that fails does not stop
the others."""

EPILOG = """\
output:
  DIR/NAME.ipynb            the executed copy (a failing cell shows its traceback there)
  DIR/artifacts/NAME/       what the notebook saved: metrics.json, samples.png, generator.pt
  DIR/index.md, index.json  one row per notebook: status, seconds, peak memory, metrics;
                            rewritten as each notebook starts and ends (running, pending, ok,
                            failed, interrupted, not run)
  DIR/logs/NAME.stderr.txt  the kernel's own messages (not the notebook's outputs)

--out must be a folder you can write to, outside the course's notebooks/ folder. Ctrl-C stops
the running notebook's kernel, marks it "interrupted" in the index and exits (130); SIGTERM
(timeout, Slurm, a cancelled CI job) does the same.

exit status:
  0 every notebook ran; 1 a notebook failed (each failure is named, with its cell, on stderr);
  2 bad arguments (the message says which and what is allowed)

examples:
  python -m gankit run --profile ci --offline --out runs/ci
  python -m gankit run 03 05 --profile gpu -p epochs 30 -p batch_size 256 --out runs/week3
  python -m gankit run notebooks/04_dcgan_faces.ipynb -p data_dir /data/celeba --out runs/faces

Parameter values are read as Python literals (30, 2e-4, None, True, "text"); anything else is
kept as text. A parameter no selected notebook has is refused, so a typo cannot pass silently."""


class PeakMemory:
    """Polls the resident memory of this process's children (the kernel) in a background thread."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_bytes = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:          # the kernel may exit between listing and reading
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)


def notebooks_folder() -> Path:
    """notebooks/ of the checkout we are in, else of the checkout gankit was installed from."""
    from gankit.io import project_root
    for root in (project_root(), Path(__file__).resolve().parents[2]):   # gankit/cli/run.py
        if (root / "notebooks").is_dir():
            return root / "notebooks"
    return Path("notebooks")


def course_notebooks(folder: Path) -> list:
    return sorted(folder.glob("0*.ipynb"))


def find_notebooks(names: list, folder: Path) -> list:
    """Paths for NOTEBOOK arguments: a path, a file name in `folder`, or a unique prefix of one."""
    available = course_notebooks(folder)
    if not names:
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            found.append(path)
            continue
        matches = [nb for nb in available if nb.name.startswith(path.name)]
        if len(matches) != 1:
            what = "matches several notebooks" if matches else "is not a notebook"
            raise ValueError(f"NOTEBOOK {name!r} {what}: use a path or one of "
                             f"{', '.join(nb.stem for nb in available)}")
        found.append(matches[0])
    return found


def parse_value(text: str):
    """-p values as Python literals ("30" -> 30, "None" -> None); anything else stays text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def notebook_parameters(path: Path) -> set:
    import papermill
    return set(papermill.inspect_notebook(str(path)))


def parameters_for(path: Path, params: dict) -> dict:
    """The -p parameters this notebook declares in its `parameters` cell."""
    declared = notebook_parameters(path)
    return {name: value for name, value in params.items() if name in declared}


RUNNER_OWNS = {"profile": "use --profile (the index records it)",
               "artifacts_dir": "each notebook's artifacts go to OUT/artifacts/NAME: choose --out"}


def check_parameters(notebooks: list, params: dict) -> None:
    declared = set().union(*(notebook_parameters(nb) for nb in notebooks))
    for name in params:
        if name in RUNNER_OWNS:
            raise ValueError(f"-p {name} is set by the runner: {RUNNER_OWNS[name]}")
        if name not in declared:
            raise ValueError(f"-p {name}: no selected notebook has a parameter {name!r}: use one of "
                             f"{', '.join(sorted(declared))}")


def check_out(out, notebooks: list, course: Path) -> Path:
    """--out must be a writable folder outside the course's notebooks/ (whose sources an executed
    copy would overwrite), checked before any notebook runs."""
    from gankit.io import check_output_dir
    out = check_output_dir("--out", out).resolve()
    for folder in {course.resolve(), *(nb.resolve().parent for nb in notebooks)}:
        if out == folder or (folder == course.resolve() and folder in out.parents):
            raise ValueError(f"--out {out} would write into {folder}, over the notebooks kept "
                             "there: choose a folder outside it, e.g. --out runs/check")
    return out


def read_metrics(folder: Path) -> dict:
    path = folder / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def run_notebook(path: Path, out: Path, profile: str, params: dict, cell_timeout: float) -> dict:
    """Execute one notebook; never raises for a failing cell: the result says what failed.

    papermill writes the executed copy as it goes, to a hidden file that replaces OUT/NAME.ipynb
    when the run ends (also when it failed or was interrupted), so a half-written copy never
    stands beside an index that calls it current. Ctrl-C marks the run "interrupted" and stops
    the kernel.
    """
    import papermill
    artifacts = out / "artifacts" / path.stem
    parameters = dict(profile=profile, artifacts_dir=str(artifacts.resolve()))
    parameters.update(parameters_for(path, params))
    result = dict(notebook=path.name, status="ok", error="", executed=f"{path.name}",
                  parameters={k: v for k, v in parameters.items() if k != "artifacts_dir"})
    partial = out / f".{path.stem}.running.ipynb"
    before = _children()
    start = time.perf_counter()
    try:
        with PeakMemory() as memory, kernel_stderr_to(out / "logs" / f"{path.stem}.stderr.txt"):
            try:
                papermill.execute_notebook(str(path), str(partial), parameters=parameters,
                                           cwd=str(path.parent), progress_bar=False,
                                           execution_timeout=cell_timeout, log_output=False)
            except papermill.PapermillExecutionError as error:
                result.update(status="failed", error=f"cell {error.cell_index} (In [{error.exec_count}]): "
                                                     f"{error.ename}: {error.evalue}".splitlines()[0])
            except KeyboardInterrupt:           # Ctrl-C, or SIGTERM (see main)
                result.update(status="interrupted", error=f"stopped during {_running_cell(partial)}")
            except Exception as error:  # a kernel that died, a timeout: still recorded, never fatal
                reason = f"{type(error).__name__}: {error}".splitlines()[0]
                if "timed out" in reason.lower():
                    reason = f"timed out after {cell_timeout:g} s (--cell-timeout)"
                result.update(status="failed", error=f"{_running_cell(partial)}: {reason}")
    finally:
        with signals_held():            # a second Ctrl-C waits until the copy is in place
            _stop(_children() - before)
            if partial.is_file():
                os.replace(partial, out / path.name)
        result.update(seconds=round(time.perf_counter() - start, 1),
                      peak_memory_mb=memory.peak_mb, metrics=read_metrics(artifacts))
    return result


def _running_cell(executed: Path) -> str:
    """"cell N" of the last cell papermill started in the executed copy (the one it stopped in)."""
    import nbformat
    try:
        cells = nbformat.read(executed, as_version=4).cells
    except Exception:               # no copy written yet, or one cut off mid-write
        return "a cell"
    started = [i for i, cell in enumerate(cells)
               if cell.get("metadata", {}).get("papermill", {}).get("status", "pending") != "pending"]
    return f"cell {started[-1]}" if started else "a cell"


@contextlib.contextmanager
def kernel_stderr_to(log: Path):
    """The kernel's own stderr (ZMQ tracebacks after a timeout, TCP warnings) into `log`, kept
    only when not empty: the runner's output stays one line per notebook."""
    sys.stderr.flush()
    saved = os.dup(2)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as f:
        os.dup2(f.fileno(), 2)      # the kernel inherits fd 2 when papermill starts it
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
    if log.stat().st_size == 0:
        log.unlink()


def _children() -> set:
    import psutil
    return set(psutil.Process().children(recursive=True))


def _stop(processes: set) -> None:
    """End the kernel papermill started for this notebook, if it outlived the run (Ctrl-C)."""
    import psutil
    for process in processes:
        try:
            process.terminate()
        except psutil.Error:        # it ended on its own meanwhile
            pass


def headline(metrics: dict, limit: int = 6) -> str:
    """The first few numbers of metrics.json, flattened one level ("ring.radius=2")."""
    items = []
    for key, value in metrics.items():
        pairs = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in pairs:
            if isinstance(v, (int, float, str)) or v is None:
                label = key if sub is None else f"{key}.{sub}"
                text = str(round(v, 4) if isinstance(v, float) else v)
                items.append(f"{label}={text if len(text) <= 40 else text[:37] + '...'}")
    return ", ".join(items[:limit]) + (" …" if len(items) > limit else "")


def pending(path: Path, status: str = "pending") -> dict:
    """The index row of a notebook that has not finished (yet): "running" or "pending"."""
    return dict(notebook=path.name, status=status, error="", executed="", seconds="",
                peak_memory_mb="", metrics={})


def write_index(results: list, out: Path, profile: str, params: dict) -> Path:
    """index.md and index.json, written whole (atomically) each time a notebook's row changes."""
    lines = [f"# Notebook runs: profile {profile}", "",
             f"Parameters: {', '.join(f'{k}={v!r}' for k, v in params.items()) or 'none'}", "",
             "| notebook | status | seconds | peak memory (MB) | metrics |",
             "|---|---|---:|---:|---|"]
    for r in results:
        status = r["status"] if r["status"] in ("ok", "pending", "running", "not run") else \
            f"**{r['status']}**: {r['error']}"
        name = f"[{r['notebook']}]({r['executed']})" if r["executed"] else r["notebook"]
        lines.append(f"| {name} | {status} | {r['seconds']} | {r['peak_memory_mb']} | "
                     f"{headline(r['metrics'])} |")
    write_text(out / "index.json", json.dumps(dict(profile=profile, parameters=params, runs=results),
                                              indent=2, default=str))
    return write_text(out / "index.md", "\n".join(lines) + "\n")


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gankit run", description=DESCRIPTION,
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="notebooks to run (default: all)")
    parser.add_argument("--profile", default="auto", choices=("auto", *PROFILES),
                        help="sizes of the runs; auto = $GANKIT_PROFILE, else gpu with an accelerator, else cpu")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a notebook parameter, e.g. -p epochs 30 (repeatable)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for executed copies, artifacts, index")
    parser.add_argument("--offline", action="store_true", help="use packaged data only (sets GANKIT_OFFLINE=1)")
    parser.add_argument("--cell-timeout", type=_positive_seconds, default=3600, metavar="SECONDS",
                        help="stop a notebook whose cell runs longer than this (default 3600)")
    return parser.parse_args(argv)


def _positive_seconds(text: str) -> float:
    """--cell-timeout: papermill reads 0 and negative values as "no limit"; refuse them here."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: use a positive number of "
                                         "seconds, e.g. --cell-timeout 600")
    return seconds


def _terminated(signum, frame):
    raise KeyboardInterrupt               # SIGTERM (timeout, Slurm, a cancelled CI job) = Ctrl-C


def main(argv=None) -> int:
    """Entry point of `python -m gankit run`. SIGTERM's default would end the process at once,
    leaving "running" in the index and the executed copy hidden: here it acts as Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    params = {name: parse_value(value) for name, value in args.parameter}
    try:
        course = notebooks_folder()
        notebooks = find_notebooks(args.notebooks, course)
        check_parameters(notebooks, params)
        out = check_out(args.out, notebooks, course)
    except ValueError as error:
        print(f"gankit run: {error}", file=sys.stderr)
        return 2
    if args.offline:
        os.environ["GANKIT_OFFLINE"] = "1"        # the kernels inherit it
    out.mkdir(parents=True, exist_ok=True)
    results = [pending(path) for path in notebooks]
    for i, path in enumerate(notebooks):
        results[i] = pending(path, "running")
        write_index(results, out, args.profile, params)    # never a stale index that looks current
        print(f"[{i + 1}/{len(notebooks)}] {path.name} ...", flush=True)
        results[i] = r = run_notebook(path, out, args.profile, params, args.cell_timeout)
        print(f"    {r['status']} in {r['seconds']} s, peak memory {r['peak_memory_mb']} MB", flush=True)
        if r["status"] == "interrupted":
            results[i + 1:] = [pending(later, "not run") for later in notebooks[i + 1:]]
            print(f"gankit run: {r['notebook']} interrupted ({r['error']}): its kernel was stopped; "
                  f"the notebooks after it did not run; index: "
                  f"{write_index(results, out, args.profile, params)}", file=sys.stderr)
            return 130
    print(f"index: {write_index(results, out, args.profile, params)}")
    failed = [r for r in results if r["status"] != "ok"]
    for r in failed:
        print(f"gankit run: {r['notebook']} failed at {r['error']} (see {out / r['executed']})",
              file=sys.stderr)
    return 1 if failed else 0
