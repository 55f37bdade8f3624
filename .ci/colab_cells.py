"""Add (or refresh) the Colab badge and the Colab-only setup cell in course notebooks.

    python .ci/colab_cells.py notebooks/0*.ipynb

The badge goes at the end of the title cell; the setup cell is the first code cell. Both are
idempotent, so the script can run again after a notebook changes. REPO is the one place that
names the course's GitHub repository (forks: change it here and in README.md, then rerun).
"""
import sys
from pathlib import Path

import nbformat

REPO = "gankit-course/gankit"
BADGE_MARK = "colab-badge.svg"
SETUP_MARK = "# Colab only:"

SETUP = f"""{SETUP_MARK} fetch the course and install gankit (elsewhere this cell does nothing)
import sys
if "google.colab" in sys.modules:
    !git clone -q --depth 1 https://github.com/{REPO} /content/gankit
    %pip install -q -e /content/gankit
    sys.path.insert(0, "/content/gankit")
    %cd /content/gankit/notebooks"""


def badge(name: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/{BADGE_MARK})]({url})"


def add_colab(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    title = nb.cells[0]
    if BADGE_MARK not in title.source:
        title.source = title.source.rstrip() + "\n\n" + badge(path.name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code[0].source.startswith(SETUP_MARK):
        cell = nbformat.v4.new_code_cell(SETUP)
        if nb.nbformat_minor >= 5:                 # cell ids exist from nbformat 4.5 on
            cell.id = "colab-setup"
        else:
            cell.pop("id", None)
        nb.cells.insert(nb.cells.index(code[0]), cell)
    nbformat.write(nb, path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        add_colab(Path(name))
        print("colab cells:", name)
