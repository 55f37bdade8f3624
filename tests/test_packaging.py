"""What a fresh clone, Binder and Colab install: requirement files that agree with the package."""
import os
import re
from pathlib import Path

import pytest

try:
    import tomllib                      # Python 3.11+
except ImportError:
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def requirement_names(path: Path) -> dict:
    """{name: specifier} of a requirements file (comments, options and `-e .` left out)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)", line).groups()
            found[name.lower().replace("_", "-")] = spec.strip()
    return found


def package_dependencies() -> dict:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {re.match(r"[A-Za-z0-9_.\-]+", d).group().lower(): d for d in pyproject["project"]["dependencies"]}


def test_requirements_are_ranges_that_end_by_installing_gankit():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip()]
    assert lines[-1] == "-e .", "requirements.txt must end with '-e .' so the notebooks can import gankit"
    pinned = {name: spec for name, spec in requirement_names(ROOT / "requirements.txt").items() if "==" in spec}
    assert not pinned, f"pins break Colab's and Binder's own torch: {pinned}"
    assert requirement_names(ROOT / "requirements.txt")["torch"].startswith(">=")


def test_binder_installs_every_dependency_because_postbuild_uses_no_deps():
    binder = requirement_names(ROOT / "binder" / "requirements.txt")
    missing = set(package_dependencies()) - set(binder) - {"ipython"}   # Binder's image has IPython
    assert not missing, f"binder/requirements.txt lacks {missing}"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in text, "Binder needs the CPU-only torch wheels"
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK) and "--no-deps -e ." in post_build.read_text()


def test_fresh_clone_installs_every_dependency_and_the_test_tools():
    reqs = requirement_names(ROOT / "requirements.txt")
    assert set(package_dependencies()) <= set(reqs) | {"ipython"}
    assert {"pytest", "nbval", "papermill", "jupyterlab"} <= set(reqs)


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_every_benchmark_still_imports_what_it_uses(script):
    """A benchmark is run by hand, months apart: `--help` imports everything it uses from gankit,
    so a renamed or moved function fails here, not on the day someone needs the numbers."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and "usage" in done.stdout, done.stderr[-2000:]
