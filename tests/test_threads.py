"""Thread control, the fork-safe pool, SIMD selection and show_config."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import fastreg
from fastreg import _runtime
from fastreg.reference import dropout as ref

BIG = 1 << 20  # many tasks, so both pool threads take part


def test_set_get_and_context_manager():
    start = fastreg.get_num_threads()
    fastreg.set_num_threads(3)
    try:
        assert fastreg.get_num_threads() == 3
        with fastreg.num_threads(1):
            assert fastreg.get_num_threads() == 1
        assert fastreg.get_num_threads() == 3
        with pytest.raises(KeyError):
            with fastreg.num_threads(2):
                raise KeyError("inside")
        assert fastreg.get_num_threads() == 3
    finally:
        fastreg.set_num_threads(start)


@pytest.mark.parametrize("n,error", [(0, ValueError), (-1, ValueError), (10**6, ValueError),
                                     (1.5, TypeError), ("2", TypeError), (True, TypeError)])
def test_bad_thread_counts(n, error):
    before = fastreg.get_num_threads()
    with pytest.raises(error, match="n must"):
        fastreg.set_num_threads(n)
    assert fastreg.get_num_threads() == before


def _run_python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FASTREG_")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_default_is_available_cores_and_env_overrides():
    r = _run_python("import fastreg; print(fastreg.get_num_threads())")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == min(fastreg.threads.available_cores(), _runtime.MAX_THREADS)
    r = _run_python("import fastreg; print(fastreg.get_num_threads())", FASTREG_NUM_THREADS="3")
    assert r.returncode == 0 and int(r.stdout) == 3, r.stderr
    r = _run_python("import fastreg", FASTREG_NUM_THREADS="zero")
    assert r.returncode != 0 and "FASTREG_NUM_THREADS" in r.stderr


def test_available_cores_respects_affinity():
    assert 1 <= fastreg.threads.available_cores() <= len(os.sched_getaffinity(0))
    r = subprocess.run(["taskset", "-c", "0", sys.executable, "-c",
                        "import fastreg; print(fastreg.get_num_threads())"],
                       capture_output=True, text=True, env={**os.environ, "FASTREG_NUM_THREADS": ""})
    if r.returncode == 0:  # taskset present
        assert int(r.stdout) == 1


def test_simd_env_and_setter():
    r = _run_python("import fastreg; print(fastreg.get_simd())", FASTREG_SIMD="baseline")
    assert r.returncode == 0 and r.stdout.strip() == "baseline", r.stderr
    r = _run_python("import fastreg", FASTREG_SIMD="sse9")
    assert r.returncode != 0 and "level" in r.stderr
    with pytest.raises(ValueError, match="level"):
        fastreg.set_simd("sse9")
    with pytest.raises(TypeError, match="level"):
        fastreg.set_simd(2)
    before = fastreg.get_simd()
    with fastreg.simd("baseline"):
        assert fastreg.get_simd() == "baseline"
    assert fastreg.get_simd() == before


def test_show_config(capsys):
    info = fastreg.show_config()
    printed = capsys.readouterr().out
    for key in ("version", "simd_in_use", "threads", "thread_pool"):
        assert key in info and key in printed
    assert info["threads"] == fastreg.get_num_threads()


def test_pool_really_uses_threads():
    x = np.random.default_rng(0).standard_normal(BIG).astype(np.float32)
    with fastreg.num_threads(2):
        fastreg.dropout_(x, 0.5, seed=1)
    assert _runtime.pool_workers() >= 1


def _child_dropout(n):
    x = np.arange(n, dtype=np.float32)
    with fastreg.num_threads(2):
        fastreg.dropout_(x, 0.5, seed=3, step=4)
    return x, _runtime.pool_workers()


def test_forked_child_runs_kernels_after_parent_used_threads():
    with fastreg.num_threads(2):
        fastreg.dropout_(np.ones(BIG, np.float32), 0.5, seed=1)  # the pool's workers now exist
    assert _runtime.pool_workers() >= 1
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = [pool.apply_async(_child_dropout, (BIG,)) for _ in range(3)]
        for r in results:
            x, workers = r.get(timeout=120)  # a hang fails here instead of blocking forever
            assert np.array_equal(x, ref.dropout(np.arange(BIG, dtype=np.float32), 0.5, 3, 4))
            assert workers >= 1  # the child spawned its own workers


def test_fork_while_another_thread_runs_kernels():
    stop = threading.Event()
    x = np.ones(BIG, np.float32)

    def busy():
        step = 0
        while not stop.is_set():
            with fastreg.num_threads(2):
                fastreg.dropout(x, 0.5, seed=1, step=step)
            step += 1

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            expected = ref.dropout(np.arange(BIG, dtype=np.float32), 0.5, 3, 4)
            for _ in range(3):
                got, _ = pool.apply_async(_child_dropout, (BIG,)).get(timeout=120)
                assert np.array_equal(got, expected)
    finally:
        stop.set()
        worker.join()


def test_concurrent_python_threads_get_identical_results():
    x = np.random.default_rng(1).standard_normal(BIG).astype(np.float32)
    expected = ref.dropout(x, 0.3, 5, 6)
    results = [None] * 4

    def run(i):
        results[i] = fastreg.dropout(x, 0.3, seed=5, step=6)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r, expected)


def _spin_rate_beside(fn):
    """Loop iterations per second this thread makes while `fn` runs in another."""
    worker = threading.Thread(target=fn)
    start = time.perf_counter()
    worker.start()
    spins = 0
    while worker.is_alive():
        spins += 1
    return spins / (time.perf_counter() - start)


def test_gil_is_released_during_kernels():
    # Beside a thread that holds the GIL, this thread barely advances (a few
    # percent of its free rate); beside a kernel it should run almost freely.
    x = np.ones(1 << 25, np.float32)
    with fastreg.num_threads(1):
        free = _spin_rate_beside(lambda: time.sleep(0.03))
        during_kernel = _spin_rate_beside(lambda: fastreg.dropout_(x, 0.5, seed=1))
        during_gil_holder = _spin_rate_beside(lambda: sum(range(3_000_000)))
    assert during_gil_holder < 0.25 * free  # the measurement can tell the two apart
    assert during_kernel > 0.25 * free, (during_kernel, free)
