"""The notebooks keep the course's contracts (DESIGN.md) — checked on the stored files, no kernel.

nbval re-runs them; these tests check what a re-run cannot: the papermill parameters an instructor
relies on, stored outputs from a real run, size, the Colab cells.
"""
import json
from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("0*.ipynb"))
SHARED = {"profile", "seed", "data_source", "artifacts_dir"}
TRAINING_KNOBS = {"epochs", "batch_size", "lr", "max_seconds"}
OWN_KNOBS = {"02": {"k"}, "04": {"image_size", "data_dir"}, "06": {"n_critic"}}


def load(path):
    return json.loads(path.read_text())


def source(cell) -> str:
    return "".join(cell["source"])


def test_the_course_has_its_notebooks_in_order():
    numbers = [nb.name[:2] for nb in NOTEBOOKS]
    assert numbers == sorted(set(numbers)) and numbers[0] == "01", numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_the_shared_knobs_all_visible_to_papermill(path):
    cells = [c for c in load(path)["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters', want exactly 1"
    assigned = {line.split("=")[0].strip() for line in source(cells[0]).splitlines()
                if "=" in line and not line.lstrip().startswith("#")}
    seen = set(papermill.inspect_notebook(str(path)))
    assert assigned == seen, f"{path.name}: papermill cannot read {assigned - seen} (one '=' per line)"
    wanted = SHARED | OWN_KNOBS.get(path.name[:2], set())
    if path.name[:2] != "01":
        wanted |= TRAINING_KNOBS
    assert wanted <= seen, f"{path.name}: the parameters cell lacks {wanted - seen}"
    defaults = papermill.inspect_notebook(str(path))
    assert defaults["profile"]["default"] == '"auto"' and defaults["artifacts_dir"]["default"] == "None"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_come_from_one_top_to_bottom_run(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]   # the Colab cell too
    counts = [c["execution_count"] for c in code if source(c).strip()]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells were never run"
    assert counts == sorted(counts), f"{path.name}: cells were run out of order"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
    assert images >= 3, f"{path.name}: only {images} figures stored"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: stored outputs hold an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_small_clean_and_openable_in_colab(path):
    nb = load(path)
    assert path.stat().st_size <= 3 * 2**20, f"{path.name} is {path.stat().st_size / 2**20:.1f} MB"
    assert "widgets" not in nb["metadata"], f"{path.name}: strip metadata.widgets"
    assert "colab-badge.svg" in source(nb["cells"][0]) and path.name in source(nb["cells"][0])
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert source(first_code).startswith("# Colab only:"), f"{path.name}: the Colab setup cell must come first"
    text = json.dumps(nb)
    assert " object at 0x" not in text, f"{path.name}: an output prints a memory address"
