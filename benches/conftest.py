"""pytest-benchmark harness: every case of fastreg.bench becomes one group of
benchmarks (one per contender), and the session ends with a table of
fastreg's time ratios against each contender, measured in this one run."""

import collections

import pytest

import fastreg
from fastreg import bench

_MEDIANS = collections.defaultdict(dict)
_CASES = {}


def case_params(cases):
    """pytest params, one per (case, contender), with readable ids."""
    return [pytest.param(case, c, id=f"{case.title} | {c.name}")
            for case in cases for c in case.contenders]


@pytest.fixture
def measure(benchmark):
    """Benchmark one contender of a case and record its median."""

    def run(case, contender, rounds=15):
        fn = contender.make()
        threads = 1 if "1 thread" in contender.name else case.threads
        benchmark.group = case.title
        with fastreg.num_threads(min(threads, fastreg.threads.available_cores())):
            benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
        if benchmark.stats is not None:
            _MEDIANS[case.title][contender.name] = benchmark.stats.stats.median
            _CASES[case.title] = case

    return run


def pytest_terminal_summary(terminalreporter):
    rows, summaries = [], []
    for title, medians in _MEDIANS.items():
        case = _CASES[title]
        lead = case.contenders[0].name
        if lead in medians and len(medians) == len(case.contenders):
            rows += bench.rows_for(case, medians)
            if case.summary:
                summaries.append(case.summary(medians))
    if rows:
        terminalreporter.write_sep("=", "fastreg time ratios (fastreg/x below 1: fastreg faster)")
        terminalreporter.write_line(bench.format_table(rows))
        terminalreporter.write_line(bench.TABLE_FOOTER)
        for line in summaries:
            terminalreporter.write_line(line)
