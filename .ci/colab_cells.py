"""Add (or refresh) the Colab badge and the Colab-only setup cell in course notebooks.

    python .ci/colab_cells.py notebooks/0*.ipynb

The badge goes at the end of the title cell; the setup cell is the first code cell. Both are
idempotent, so the script can run again after a notebook changes. REPO is the one place that
names the course's GitHub repository (forks: change it here and in README.md, then rerun).
"""
import json
import sys
from pathlib import Path

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


def lines(text: str) -> list:
    return [line + "\n" for line in text.split("\n")[:-1]] + [text.split("\n")[-1]]


def add_colab(path: Path) -> None:
    raw = path.read_text()
    nb = json.loads(raw)
    title = nb["cells"][0]
    if BADGE_MARK not in "".join(title["source"]):
        title["source"] = lines("".join(title["source"]).rstrip() + "\n\n" + badge(path.name))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not "".join(code[0]["source"]).startswith(SETUP_MARK):
        cell = dict(cell_type="code", execution_count=None, metadata={}, outputs=[], source=lines(SETUP))
        if nb.get("nbformat_minor", 0) >= 5:         # cell ids exist from nbformat 4.5 on
            cell["id"] = "colab-setup"
        nb["cells"].insert(nb["cells"].index(code[0]), cell)
    indent = 1 if raw.startswith('{\n "') else 2
    path.write_text(json.dumps(nb, indent=indent, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        add_colab(Path(name))
        print("colab cells:", name)
