"""Every Python block of README.md runs as written: each in a fresh namespace,
in a temporary directory.  A block that imports an optional package is
skipped only when that package is not installed, with the reason."""

import ast
import importlib.util
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks():
    text = README.read_text(encoding="utf-8")
    return [pytest.param(m.group(1), id=f"README.md:{text.count(chr(10), 0, m.start()) + 2}")
            for m in BLOCK.finditer(text)]


def imported_packages(source):
    """The top-level packages a block imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


@pytest.mark.parametrize("source", python_blocks())
def test_readme_block_runs(source, tmp_path, monkeypatch):
    missing = sorted(name for name in imported_packages(source)
                     if importlib.util.find_spec(name) is None)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not installed here")
    if "fastreg.torch" in source:
        pytest.importorskip("torch")  # fastreg.torch needs the torch extra
    monkeypatch.chdir(tmp_path)
    exec(compile(source, str(README), "exec"), {"__name__": "__readme__"})
