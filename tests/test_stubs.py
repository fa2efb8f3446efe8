"""The .pyi stubs match the compiled modules (mypy.stubtest)."""

import pathlib
import subprocess
import sys

import pytest

import fastreg

pytest.importorskip("mypy")

HERE = pathlib.Path(__file__).parent
PACKAGE = pathlib.Path(fastreg.__file__).parent


def compiled_modules():
    names = sorted({p.name.split(".")[0] for p in PACKAGE.glob("_*.so")}
                   | {p.name.split(".")[0] for p in PACKAGE.glob("_*.pyd")})
    return [f"fastreg.{name}" for name in names]


def test_every_compiled_module_has_a_stub():
    modules = compiled_modules()
    assert "fastreg._runtime" in modules
    for module in modules:
        assert (PACKAGE / (module.split(".")[1] + ".pyi")).exists(), module


@pytest.mark.slow
def test_stubs_match_runtime():
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", *compiled_modules(),
         "--allowlist", str(HERE / "stubtest_allowlist.txt")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
