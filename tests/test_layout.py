"""The package's three tiers and its one rule (shared/LAYOUT.md): the core never imports a lesson
or the command line; a lesson imports the core and never another lesson; the CLI may import both.

Read from the source with `ast`, so an import hidden inside a function counts too."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gankit"


def _tier(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "gankit" or len(parts) == 1:
        return "core"
    if parts[1] == "__main__":                    # `python -m gankit` is the command line's door
        return "cli"
    return parts[1] if parts[1] in ("lessons", "cli") else "core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set:
    """Every gankit module `path` imports, relative imports resolved."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            # `from gankit.lessons import wgan` imports gankit.lessons.wgan
            found.update(f"{base}.{alias.name}" if base in ("gankit", "gankit.lessons", "gankit.cli")
                         else base for alias in node.names)
    return {name for name in found if name == "gankit" or name.startswith("gankit.")}


def _violations(path: Path) -> list:
    me = _module_name(path)
    mine = _tier(me)
    problems = []
    for other in sorted(_imports(path)):
        theirs = _tier(other)
        if mine == "core" and theirs in ("lessons", "cli"):
            problems.append(f"core module {me} imports {other}")
        if mine == "lessons" and theirs == "cli":
            problems.append(f"lesson {me} imports the command line ({other})")
        if (mine == "lessons" and theirs == "lessons" and other != "gankit.lessons"
                and me != "gankit.lessons" and other != me):
            problems.append(f"lesson {me} imports another lesson, {other}: move what both need "
                            f"into the core")
    return problems


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_tiers(path):
    assert not _violations(path), "\n".join(_violations(path))


def test_every_notebook_has_its_lesson_module():
    notebooks = sorted((PACKAGE.parent / "notebooks").glob("0*_*.ipynb"))
    lessons = {p.stem for p in (PACKAGE / "lessons").glob("*.py") if p.stem != "__init__"}
    expected = {nb.stem.split("_", 1)[1] for nb in notebooks}
    assert expected == lessons, f"notebooks {sorted(expected)} vs lesson modules {sorted(lessons)}"


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    """The walk itself: a lesson importing another lesson, or the core importing a lesson, is caught."""
    fake = tmp_path / "gankit"
    (fake / "lessons").mkdir(parents=True)
    (fake / "lessons" / "a.py").write_text("from gankit.lessons import b\nfrom gankit.lessons.c import x\n")
    (fake / "models.py").write_text("def f():\n    from .lessons import wgan\n")
    (fake / "cli").mkdir()
    (fake / "cli" / "run.py").write_text("from gankit.lessons import wgan\nfrom ..train import GANTrainer\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert len(_violations(fake / "lessons" / "a.py")) == 2
    assert _violations(fake / "models.py") == ["core module gankit.models imports gankit.lessons.wgan"]
    assert _violations(fake / "cli" / "run.py") == []
