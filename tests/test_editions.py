"""The student edition: solution regions stubbed, exercise outputs cleared, the rest identical; the
committed copy in sync; and the student edition runs top to bottom with every exercise unattempted.

GANKIT_STUDENT_NOTEBOOKS=all runs all six student notebooks under papermill (about 5 minutes on 2
cores in the ci profile); by default only 01, the quickest.
"""
import os
import re
from pathlib import Path

import nbformat
import pytest

from gankit.cli.edition import STUB, generate, main, nbgrader_metadata, strip_solutions, student_notebook
from gankit.exercises import BEGIN_SOLUTION, END_SOLUTION

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WORKED = sorted(NOTEBOOKS.glob("0[0-9]_*.ipynb"))

CELL = f"""def f(x):
    y = 2
    {BEGIN_SOLUTION}
    return x * y
    {END_SOLUTION}

f = answer(f, check_f, reference=g)"""


def test_a_solution_region_becomes_a_stub_at_its_indentation():
    assert strip_solutions(CELL, "nb, cell 1") == (
        f"def f(x):\n    y = 2\n    {STUB}\n\nf = answer(f, check_f, reference=g)")


@pytest.mark.parametrize("source,says", [
    (f"def f():\n    {BEGIN_SOLUTION}\n    return 1", f"without {END_SOLUTION}"),
    (f"def f():\n    {END_SOLUTION}", f"without {BEGIN_SOLUTION}"),
    (f"{BEGIN_SOLUTION}\nx = 1\n{END_SOLUTION}", "must sit inside a function"),
    (f"def f():\n    {BEGIN_SOLUTION}\n    {BEGIN_SOLUTION}", "inside another region")])
def test_a_malformed_region_is_refused_in_one_line(source, says):
    with pytest.raises(ValueError, match=re.escape(says)) as error:
        strip_solutions(source, "01_x.ipynb, cell 4")
    assert str(error.value).startswith("01_x.ipynb, cell 4") and "\n" not in str(error.value)


def toy_notebook():
    nb = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("stream", text="✓ f: correct on 3 inputs\n")
    nb.cells = [
        nbformat.v4.new_markdown_cell("[![Colab](b.svg)](https://colab.research.google.com/github/o/r/"
                                      "blob/main/notebooks/01_x.ipynb) [Binder](https://mybinder.org/"
                                      "v2/gh/o/r/HEAD?labpath=notebooks%2F01_x.ipynb)"),
        nbformat.v4.new_code_cell(CELL, outputs=[output], execution_count=3),
        nbformat.v4.new_code_cell("print(f(2))", outputs=[output], execution_count=4)]
    return nb


def test_the_student_edition_changes_only_exercise_cells_and_links():
    nb = toy_notebook()
    student = student_notebook(nb, "01_x.ipynb")
    link, exercise, other = student.cells
    assert "blob/main/notebooks/student/01_x.ipynb" in link.source
    assert "labpath=notebooks%2Fstudent%2F01_x.ipynb" in link.source
    assert STUB in exercise.source and "x * y" not in exercise.source
    assert exercise.outputs == [] and exercise.execution_count is None
    assert other == nb.cells[2]                               # source, outputs and count kept
    assert nb.cells[1].source == CELL                         # the worked notebook is untouched


def test_the_committed_student_edition_is_in_sync():
    stale = generate(NOTEBOOKS, NOTEBOOKS / "student", check=True)
    assert stale == [], (f"notebooks/student is stale ({stale}): run "
                         "python -m gankit edition student --out notebooks/student")


def solution_lines(source):
    """The non-blank lines inside the solution regions of one cell."""
    inside, lines = False, []
    for line in source.splitlines():
        if line.strip() in (BEGIN_SOLUTION, END_SOLUTION):
            inside = line.strip() == BEGIN_SOLUTION
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("worked", WORKED, ids=[p.stem for p in WORKED])
def test_no_solution_survives_in_the_student_edition(worked):
    nb = nbformat.read(worked, as_version=4)
    student = nbformat.read(NOTEBOOKS / "student" / worked.name, as_version=4)
    exercises = [c for c in nb.cells if BEGIN_SOLUTION in c.source]
    assert len(exercises) >= 2, f"{worked.name}: every notebook has two or three exercises"
    student_code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert BEGIN_SOLUTION not in student_code and student_code.count(STUB) == len(exercises)
    for cell in exercises:
        for line in solution_lines(cell.source):
            assert line not in student_code, f"{worked.name}: the solution line {line!r} survives"


@pytest.mark.parametrize("worked", WORKED, ids=[p.stem for p in WORKED])
def test_every_exercise_cell_is_an_nbgrader_solution_cell(worked):
    """nbgrader's generate_assignment stops at a solution region outside a cell marked as a
    solution ("Solution region detected in a non-solution cell"): each exercise cell carries the
    metadata, with an id that is unique in the notebook."""
    nb = nbformat.read(worked, as_version=4)
    exercises = [c for c in nb.cells if BEGIN_SOLUTION in c.source]
    for cell in exercises:
        assert cell.metadata.get("nbgrader") == nbgrader_metadata(cell.source, worked.name), (
            f"{worked.name}: set this cell's metadata['nbgrader'] to "
            f"gankit.cli.edition.nbgrader_metadata(cell.source, {worked.name!r})")
    ids = [c.metadata["nbgrader"]["grade_id"] for c in exercises]
    assert len(set(ids)) == len(ids)
    assert not [c for c in nb.cells if c.metadata.get("nbgrader") and BEGIN_SOLUTION not in c.source]


def test_the_command_writes_checks_and_refuses(tmp_path, capsys):
    assert main(["student", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in WORKED]
    assert main(["student", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / WORKED[0].name).write_text("{}")
    assert main(["student", "--out", str(tmp_path), "--check"]) == 1
    assert f"is stale: {WORKED[0].name}. Regenerate it" in capsys.readouterr().err
    assert main(["student", "--out", str(tmp_path), "--source", str(tmp_path / "none")]) == 2
    assert "no notebooks named 0N_*.ipynb there" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["teacher", "--out", str(tmp_path)])


# ------------------------------------------------------------ in a real kernel (papermill)
def run(path, tmp_path, cwd):
    papermill = pytest.importorskip("papermill")
    os.environ["GANKIT_OFFLINE"] = "1"
    out = tmp_path / f"out_{path.name}"
    papermill.execute_notebook(str(path), str(out), parameters=dict(profile="ci"), cwd=str(cwd),
                               progress_bar=False, kernel_name="python3")
    return nbformat.read(out, as_version=4)


def exercise_lines(nb):
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells
            if c.cell_type == "code" and "= answer(" in c.source]


STUDENT_RUNS = [p.name for p in WORKED] if os.environ.get("GANKIT_STUDENT_NOTEBOOKS") == "all" \
    else [p.name for p in WORKED[:1]]


@pytest.mark.slow
@pytest.mark.parametrize("name", STUDENT_RUNS)
def test_the_student_edition_runs_top_to_bottom_unattempted(name, tmp_path):
    nb = run(NOTEBOOKS / "student" / name, tmp_path, NOTEBOOKS / "student")
    lines = exercise_lines(nb)
    assert lines and all(line.endswith("not attempted yet — the cells below use gankit's "
                                       "reference\n") for line in lines), lines


def edit_exercise(path, old, new, out):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if old in c.source)
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, out)
    return out


@pytest.mark.slow
def test_a_wrong_student_answer_goes_on_and_a_wrong_worked_answer_stops(tmp_path):
    papermill = pytest.importorskip("papermill")
    student = NOTEBOOKS / "student" / "01_inverse_cdf.ipynb"
    wrong = edit_exercise(student, f'    {STUB}\n\nexponential_icdf',
                          "    return np.log1p(-u) / rate\n\nexponential_icdf",
                          NOTEBOOKS / "student" / "_wrong_answer.ipynb")
    try:
        lines = exercise_lines(run(wrong, tmp_path, NOTEBOOKS / "student"))
    finally:
        wrong.unlink()
    assert lines[0].startswith("✗ exponential F⁻¹: on input") and "wrong sign" in lines[0]
    assert lines[0].endswith("— the cells below use gankit's reference\n")
    worked = edit_exercise(NOTEBOOKS / "01_inverse_cdf.ipynb", "return -np.log1p(-u) / rate",
                           "return np.log1p(-u) / rate", NOTEBOOKS / "_wrong_worked.ipynb")
    try:
        with pytest.raises(papermill.PapermillExecutionError, match="the worked answer fails its checker"):
            run(worked, tmp_path, NOTEBOOKS)
    finally:
        worked.unlink()
