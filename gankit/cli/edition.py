"""`python -m gankit edition student --out notebooks/student`: the student edition of the notebooks.

The worked edition (`notebooks/0N_*.ipynb`) holds each exercise's answer between nbgrader's
`### BEGIN SOLUTION` / `### END SOLUTION` markers. The student edition is the same notebook with
each such region replaced by `raise NotImplementedError("your code here")` at the region's
indentation, and the outputs of those cells cleared. Every other cell keeps its source and its
stored outputs (so GitHub, Binder and Colab show the figures before anything runs); the Colab and
Binder links in markdown point to the student edition. `--check` writes nothing and exits 1 when
the copy in --out differs from what would be generated (CI runs it).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from gankit.exercises import BEGIN_SOLUTION, END_SOLUTION

STUB = 'raise NotImplementedError("your code here")'
# notebooks/01_x.ipynb in a Colab link, notebooks%2F01_x.ipynb in a Binder one
LINK = re.compile(r"notebooks(/|%2F)(0\d_\w+\.ipynb)")


def nbgrader_metadata(source: str, notebook: str) -> dict:
    """The metadata nbgrader's `generate_assignment` needs on an exercise cell (it refuses a
    solution region in any other cell): an "Autograded answer" cell in its Create Assignment
    toolbar, graded by a separate test cell, its id the notebook's number and the function's name
    ("02-d_star"). The worked notebooks carry it; tests/test_editions.py checks that they do."""
    match = re.search(r"^def (\w+)\(", source, re.MULTILINE)
    if match is None:
        raise ValueError(f"{notebook}: an exercise cell must define the student's function")
    return {"grade": False, "grade_id": f"{notebook[:2]}-{match.group(1)}", "locked": False,
            "schema_version": 3, "solution": True, "task": False}


def strip_solutions(source: str, where: str) -> str:
    """Replace each solution region (markers included) by the stub, at the BEGIN marker's indent."""
    out, indent = [], None
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if indent is not None:
                raise ValueError(f"{where}, line {number}: {BEGIN_SOLUTION} inside another region")
            indent = line[:len(line) - len(line.lstrip())]
            if not indent:
                raise ValueError(f"{where}, line {number}: a solution region must sit inside a "
                                 "function (indented), so its stub raises only when called")
            out.append(indent + STUB)
        elif marker == END_SOLUTION:
            if indent is None:
                raise ValueError(f"{where}, line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: {BEGIN_SOLUTION} without {END_SOLUTION}")
    return "\n".join(out)


def student_notebook(nb, name: str):
    """The student edition of one notebook (a new object; `nb` is not changed)."""
    nb = nbformat.from_dict(nb)                        # a deep copy
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = LINK.sub(r"notebooks\1student\1\2", cell.source)
        elif cell.cell_type == "code" and BEGIN_SOLUTION in cell.source:
            cell.source = strip_solutions(cell.source, f"{name}, cell {index}")
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)       # timestamps of a run that is not shown
    return nb


def generate(source: Path, out: Path, check: bool = False) -> list:
    """Write (or with check, compare) the student edition of every source/0N_*.ipynb into out.
    Returns the names of the notebooks that were stale (check) or written."""
    paths = sorted(source.glob("0[0-9]_*.ipynb"))
    if not paths:
        raise ValueError(f"--source {source}: no notebooks named 0N_*.ipynb there")
    changed = []
    for path in paths:
        text = nbformat.writes(student_notebook(nbformat.read(path, as_version=4), path.name)) + "\n"
        target = out / path.name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        changed.append(path.name)
        if not check:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    extra = sorted({p.name for p in out.glob("0[0-9]_*.ipynb")} - {p.name for p in paths})
    return changed + [f"{name} (no worked notebook of that name)" for name in extra]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gankit edition",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("edition", choices=["student"], help="the edition to write")
    parser.add_argument("--out", required=True, type=Path, help="folder for the notebooks, "
                        "e.g. notebooks/student")
    parser.add_argument("--source", type=Path, default=Path("notebooks"),
                        help="folder of the worked notebooks (default: notebooks)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if --out is not what would be generated")
    args = parser.parse_args(argv)
    try:
        changed = generate(args.source, args.out, args.check)
    except ValueError as error:
        print(f"gankit edition: {error}", file=sys.stderr)
        return 2
    if args.check and changed:
        print(f"{args.out} is stale: {', '.join(changed)}. Regenerate it: python -m gankit edition "
              f"student --out {args.out}", file=sys.stderr)
        return 1
    verb = "up to date" if args.check else f"written: {len(changed)} changed"
    print(f"student edition in {args.out}: {verb}")
    return 0
