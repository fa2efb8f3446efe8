"""The command line: info, bench --quick --json, and the demo end to end."""

import json
import subprocess
import sys

import pytest

import fastreg
from fastreg import bench


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastreg", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_info():
    r = run_cli("info")
    assert r.returncode == 0, r.stderr
    for word in (fastreg.__version__, "simd_in_use", "threads", "thread_pool"):
        assert word in r.stdout


@pytest.mark.slow
def test_bench_quick_json_has_every_row(tmp_path):
    path = tmp_path / "bench.json"
    r = run_cli("bench", "--quick", "--json", str(path))
    assert r.returncode == 0, r.stderr
    rows = json.loads(path.read_text())
    expected = {(case.title, c.name) for cases in bench.ALL_CASES.values()
                for case in cases(quick=True) for c in case.contenders}
    assert {(row["case"], row["contender"]) for row in rows} == expected
    assert len(rows) == len(expected)
    for row in rows:
        assert row["median_ms"] > 0 and row["throughput"] > 0
        assert row["fastreg_time_ratio"] > 0
    assert "fastreg/x" in r.stdout and "round" in r.stderr  # table and progress


def test_bench_rejects_unknown_group():
    r = run_cli("bench", "--quick", "--only", "nonsense")
    assert r.returncode != 0 and "nonsense" in r.stderr


@pytest.mark.slow
def test_demo_end_to_end_small(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    from fastreg import demo

    first = demo.run(out_dir=tmp_path / "a", epochs=3, train_size=200)
    second = demo.run(out_dir=tmp_path / "b", epochs=3, train_size=200)
    for key in ("contact_sheet", "training_plot"):
        data = first[key].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert first["accuracy"] == second["accuracy"]  # deterministic for a seed
    for acc in first["accuracy"].values():
        assert 0.3 < acc["test"] <= 1.0 and 0.3 < acc["train"] <= 1.0


@pytest.mark.slow
def test_demo_command_with_user_images(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    import matplotlib.image as mpimg

    folder = tmp_path / "imgs"
    folder.mkdir()
    mpimg.imsave(folder / "photo.png", fastreg.samples.load("coffee"))
    r = run_cli("demo", "--images", str(folder), "--out", str(tmp_path / "out"), "--epochs", "2")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "fastreg_augmentations.png").exists()
    assert "test" in r.stdout and "wrote" in r.stdout
