"""The instructor's runner: `python -m gankit run` on small generated notebooks."""
import json
import re

import nbformat
import pytest

from gankit.cli import run as runner
from gankit.__main__ import main as gankit_main


def make_notebook(path, body: str):
    """A course-shaped notebook: a `parameters` cell, then `body` (which may use the parameters)."""
    params = nbformat.v4.new_code_cell('profile = "auto"\nartifacts_dir = None\nepochs = None')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# test"), params,
                                         nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


WRITES_METRICS = """
import json, pathlib
folder = pathlib.Path(artifacts_dir); folder.mkdir(parents=True, exist_ok=True)
(folder / "metrics.json").write_text(json.dumps({"profile": profile, "epochs": epochs, "fd": 12.345678}))
"""


@pytest.mark.parametrize("text, value", [("30", 30), ("2e-4", 2e-4), ("None", None), ("True", True),
                                         ("'a b'", "a b"), ("runs/x", "runs/x"), ("gpu", "gpu")])
def test_parameter_values_are_python_literals_else_text(text, value):
    assert runner.parse_value(text) == value


def test_notebooks_are_found_by_prefix_and_unknown_ones_are_refused(tmp_path):
    for name in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb"):
        make_notebook(tmp_path / name, "pass")
    assert [p.name for p in runner.find_notebooks([], tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    assert [p.name for p in runner.find_notebooks(["02", "01_a.ipynb"], tmp_path)] == ["02_b.ipynb", "01_a.ipynb"]
    with pytest.raises(ValueError, match="'09' is not a notebook: use a path or one of 01_a, 02_b, 03_c"):
        runner.find_notebooks(["09"], tmp_path)
    with pytest.raises(ValueError, match="'0' matches several notebooks"):
        runner.find_notebooks(["0"], tmp_path)


def test_a_parameter_no_notebook_declares_is_refused(tmp_path):
    nb = make_notebook(tmp_path / "01_a.ipynb", "pass")
    with pytest.raises(ValueError, match="-p epoch: no selected notebook has a parameter 'epoch'"):
        runner.check_parameters([nb], {"epoch": 3})
    runner.check_parameters([nb], {"epochs": 3})


def test_run_writes_executed_copies_artifacts_and_an_index(tmp_path, capsys):
    nb = make_notebook(tmp_path / "01_ok.ipynb", WRITES_METRICS)
    out = tmp_path / "out"
    code = runner.main([str(nb), "--profile", "ci", "-p", "epochs", "3", "--out", str(out)])
    assert code == 0
    assert (out / "01_ok.ipynb").is_file()
    metrics = json.loads((out / "artifacts" / "01_ok" / "metrics.json").read_text())
    assert metrics == {"profile": "ci", "epochs": 3, "fd": 12.345678}
    index = (out / "index.md").read_text()
    assert "| [01_ok.ipynb](01_ok.ipynb) | ok |" in index and "fd=12.3457" in index
    run = json.loads((out / "index.json").read_text())["runs"][0]
    assert run["status"] == "ok" and run["seconds"] > 0 and run["peak_memory_mb"] > 10


def test_a_failing_notebook_is_named_with_its_cell_and_the_others_still_run(tmp_path, capsys):
    bad = make_notebook(tmp_path / "01_bad.ipynb", 'raise ValueError("epochs=0 is not allowed")')
    good = make_notebook(tmp_path / "02_good.ipynb", WRITES_METRICS)
    out = tmp_path / "out"
    assert runner.main([str(bad), str(good), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "01_bad.ipynb failed at cell" in err and "ValueError: epochs=0 is not allowed" in err
    runs = json.loads((out / "index.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["failed", "ok"]
    assert "**failed**" in (out / "index.md").read_text()


def test_the_command_line_dispatches_and_explains_itself(capsys):
    assert gankit_main(["--help"]) == 0
    assert "python -m gankit run" in capsys.readouterr().out
    assert gankit_main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--help"])
    assert exit_info.value.code == 0
    assert "exit status" in capsys.readouterr().out


SLOW = "import time\ntime.sleep(120)"


def test_out_must_be_a_writable_folder_away_from_the_notebooks(tmp_path, capsys):
    nb = make_notebook(tmp_path / "01_a.ipynb", "pass")
    course = runner.notebooks_folder()
    for out, message in [(nb, "--out=.* is a file, not a folder"), (tmp_path, "would write into"),
                         (course, "would write into"), (course / "runs", "would write into"),
                         ("", "--out='' is not allowed")]:
        assert runner.main([str(nb), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert nb.read_text() == (tmp_path / "01_a.ipynb").read_text() and not (tmp_path / "index.md").exists()


@pytest.mark.parametrize("argv, message", [
    (["-p", "profile", "cpu"], "-p profile is set by the runner: use --profile"),
    (["-p", "artifacts_dir", "x"], "-p artifacts_dir is set by the runner"),
])
def test_parameters_the_runner_sets_are_refused(tmp_path, capsys, argv, message):
    nb = make_notebook(tmp_path / "01_a.ipynb", "pass")
    assert runner.main([str(nb), *argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("seconds", ["0", "-1", "nan"])
def test_a_cell_timeout_that_would_mean_no_limit_is_refused(tmp_path, capsys, seconds):
    nb = make_notebook(tmp_path / "01_a.ipynb", "pass")
    with pytest.raises(SystemExit) as exit_info:
        runner.main([str(nb), "--cell-timeout", seconds, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert f"--cell-timeout: '{seconds}' is not allowed: use a positive number" in capsys.readouterr().err


def test_a_cell_timeout_names_the_notebook_and_cell_without_a_kernel_traceback(tmp_path, capfd):
    slow = make_notebook(tmp_path / "01_slow.ipynb", SLOW)
    out = tmp_path / "out"
    assert runner.main([str(slow), "--cell-timeout", "2", "--out", str(out)]) == 1
    err = capfd.readouterr().err
    assert "01_slow.ipynb failed at cell 3: timed out after 2 s (--cell-timeout)" in err
    assert "Traceback" not in err and "ZMQError" not in err
    assert json.loads((out / "index.json").read_text())["runs"][0]["status"] == "failed"


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_ctrl_c_marks_the_notebook_interrupted_stops_its_kernel_and_leaves_no_stale_index(tmp_path, signum):
    """Ctrl-C, and SIGTERM (what `timeout`, Slurm and a cancelled CI job send; before, it left
    "running" in the index and a hidden partial copy)."""
    import os, signal, subprocess, sys, time
    import psutil
    slow = make_notebook(tmp_path / "01_slow.ipynb", SLOW)
    later = make_notebook(tmp_path / "02_later.ipynb", "pass")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.json").write_text('{"runs": [{"status": "ok"}]}')       # a previous run's
    process = subprocess.Popen([sys.executable, "-m", "gankit", "run", str(slow), str(later),
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    process.stdout.readline()                                   # "[1/2] 01_slow.ipynb ..."
    runs = json.loads((out / "index.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["running", "pending"]
    time.sleep(4)                                               # the kernel sleeps in cell 3
    kernels = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(getattr(signal, signum))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "01_slow.ipynb interrupted" in err
    runs = json.loads((out / "index.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["interrupted", "not run"]
    assert "**interrupted**" in (out / "index.md").read_text()
    assert kernels and not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kernels)
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["01_slow.ipynb"]  # no hidden partial copy
    assert not list(out.glob(".*"))
