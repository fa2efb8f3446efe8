"""The command line: info, bench --quick --json, and the demo end to end."""

import json
import random
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
    assert "policy-ops" in r.stderr  # the message offers the groups


def test_bench_help_lists_the_groups(capsys):
    from fastreg import __main__ as cli
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    for name in bench.ALL_CASES:
        assert name in text


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


def test_info_lists_the_optional_packages_it_found():
    from fastreg import config

    r = run_cli("info")
    assert r.returncode == 0, r.stderr
    versions = config.optional_versions()
    for module in ("torch", "torchvision", "albumentations", "cv2"):
        line = next(line for line in r.stdout.splitlines() if line.startswith(module + " "))
        want = versions[module] or "not found"
        assert line.split(None, 1)[1].startswith(want), line


def test_bench_without_peers_says_which_were_skipped_and_how_to_install(monkeypatch, capsys):
    from fastreg import __main__ as cli, config

    monkeypatch.setattr(config, "optional_versions",
                        lambda: {module: None for module, _, _ in config.OPTIONAL})
    assert cli.main(["bench", "--quick", "--only", "text"]) == 0
    out = capsys.readouterr().out
    note = next(line for line in out.splitlines() if line.startswith("peers not installed"))
    for name in ("torch", "albumentationsx", "opencv-python-headless", "fastreg[bench]"):
        assert name in note
    assert "fastreg/x" in out and "x/fastreg" in out and "above 1" in out and "below 1" in out


def test_bench_table_keeps_whole_names_and_marks_cases_without_peers():
    long_title = "a case title much longer than forty-four characters, kept whole"
    case = bench.Case(long_title, 10, "img", [bench.Contender("fastreg", None)])
    rows = bench.rows_for(case, {"fastreg": 0.01})
    table = bench.format_table(rows)
    assert long_title in table and "no peer installed" in table and "1.00" not in table


def test_demo_help_explains_seed_and_epochs():
    r = run_cli("demo", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "--seed SEED seed of every random draw" in text
    assert "--epochs EPOCHS training epochs" in text


def test_demo_captions_break_between_words():
    from fastreg import demo, transforms as T

    aug = T.Compose([T.RandomCrop(24, padding=3), T.ColorJitter(0.4, 0.4, 0.4, 0.1)], seed=3)
    for index in range(20):
        params = aug.params(index, shape=(32, 32, 3))
        caption = demo._describe(params)
        words = {w.rstrip(",").split("=")[-1] for w in caption.split()}
        for op in params:
            for value in op.values():
                for name in value if isinstance(value, list) else []:
                    assert name in words, (name, caption)


def test_demo_captions_say_what_a_policy_op_does():
    from fastreg import demo

    params = [{"op": "RandAugment", "applied": True,
               "ops": [("Color", -0.59), ("Brightness", 0.27), ("Rotate", -9.0), ("ShearX", 1.0),
                       ("TranslateY", -34.8), ("Posterize", 7.0), ("Solarize", 0.7), ("Equalize", 0.0)]}]
    caption = " ".join(demo._describe(params).split())  # unwrapped
    assert caption == ("RandAugment: Color (saturation) x0.41, Brightness x1.27, Rotate -9.0 deg, "
                       "ShearX 45.0 deg, TranslateY -35 px, Posterize 7 bits, Solarize above 178, Equalize")


def test_plain_python_eda_baseline():
    # the bench's plain-Python EDA keeps protected ids in order and changes the rest
    rng = random.Random(0)
    seqs = [[101, 5, 6, 7, 8, 9, 102]] * 50
    out = bench.python_eda(seqs, {5: [15], 6: [16, 17], 8: [18]}, rng, protected=frozenset({101, 102}))
    assert len(out) == 50 and any(o != seqs[0] for o in out)
    assert seqs[0] == [101, 5, 6, 7, 8, 9, 102]  # inputs untouched
    for o in out:
        assert [t for t in o if t in (101, 102)] == [101, 102] and len(o) > 2
        assert set(o) <= {101, 102, 5, 6, 7, 8, 9, 15, 16, 17, 18}
    texts = bench.python_eda_sentences(["The quick brown fox, and the dog."] * 20, {"quick": ["fast"]}, rng)
    assert all(isinstance(t, str) and t for t in texts)


@pytest.mark.parametrize("args,message", [
    (("--epochs", "0"), "--epochs: must be an integer in [1, 10000], got 0"),
    (("--train-size", "5000"), "--train-size: must be an integer in [10, 1697], got 5000"),
    (("--images", "/nonexistent-folder"), "--images: '/nonexistent-folder' is not a folder"),
])
def test_demo_refuses_bad_arguments_before_running(args, message, tmp_path):
    r = run_cli("demo", "--out", str(tmp_path), *args)
    assert r.returncode == 2 and message in r.stderr
    assert not list(tmp_path.iterdir())  # nothing drawn


def test_demo_trains_with_one_blas_thread(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from fastreg import demo

    def blas_threads():
        return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]

    seen = []

    def fake_train(*args):
        seen.append(blas_threads())
        return [(0.5, 0.5)]

    monkeypatch.setattr(demo, "train", fake_train)
    monkeypatch.setattr(demo, "contact_sheet", lambda *args, **kwargs: None)
    monkeypatch.setattr(demo, "text_examples", lambda seed: [])
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        demo.run(out_dir=tmp_path, epochs=1, train_size=20)
        assert blas_threads() == before  # restored after training
    assert seen and all(counts and set(counts) == {1} for counts in seen)


def test_demo_fits_a_mixing_partner_of_another_size(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import numpy as np
    from fastreg import demo

    image = fastreg.samples.load("coffee")[:120, :160]
    # a 100x300 partner whose centred 100x100 square is a flat 200: the square is what a
    # square image mixes with; the first size mixes with the whole partner, unchanged
    partner = np.zeros((100, 300, 3), np.uint8)
    partner[:, 100:200] = 200
    assert np.array_equal(demo._fit_partner(partner, 50, 50), np.full((50, 50, 3), 200, np.uint8))
    assert demo._fit_partner(partner, 100, 300) is partner
    wide = demo._fit_partner(partner, 20, 120)  # a 50x300 window: the stripe in the middle third
    assert wide.shape == (20, 120, 3) and (wide[:, 45:75] == 200).all() and (wide[:, :35] == 0).all()
    mixed_with = []
    monkeypatch.setattr(demo, "_mixed_tiles", lambda img, other, seed: mixed_with.append(other) or [])
    demo.contact_sheet(image, tmp_path / "sheet.png", partner=partner)
    (fitted,) = mixed_with
    assert fitted.shape == image.shape and not np.array_equal(fitted, image[::-1])
    assert np.array_equal(fitted, demo._fit_partner(partner, 120, 160))


def test_no_command_prints_the_commands():
    r = run_cli()
    assert r.returncode == 2
    for command in ("demo", "bench", "info"):
        assert command in r.stderr
    assert "show the regularizers at work" in r.stderr and "error" not in r.stderr


@pytest.mark.parametrize("load, warned", [(0.4, False), (1.5, True)])
def test_bench_warns_at_the_start_when_the_machine_is_busy(monkeypatch, capsys, load, warned):
    from fastreg import __main__ as cli

    class Stop(Exception):
        pass

    def first_case(*args, **kwargs):
        raise Stop  # the header is out by now; no need to time anything

    monkeypatch.setattr(bench.os, "getloadavg", lambda: (load, 0.0, 0.0))
    monkeypatch.setattr(fastreg.threads, "available_cores", lambda: 2)
    monkeypatch.setattr(bench, "run_case", first_case)
    with pytest.raises(Stop):
        cli.main(["bench", "--quick", "--only", "dropout"])
    out = capsys.readouterr().out
    assert ("warning: this machine is busy (load average 1.5 on 2 cores)" in out) == warned
    if warned:
        assert "ratios below will be noisy" in out


def test_busy_note_without_a_load_average(monkeypatch):
    def missing():
        raise OSError("no load average")

    monkeypatch.setattr(bench.os, "getloadavg", missing)
    assert bench.busy_note() == ""
