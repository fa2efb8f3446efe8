"""The stub of the compiled image module matches it (mypy.stubtest)."""

import os
import subprocess
import sys

import pytest


def test_image_stub():
    pytest.importorskip("mypy")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "mypy.stubtest", "fastreg._image"], cwd=root,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
