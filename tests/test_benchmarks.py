"""The benchmark's bookkeeping (no timing): ratios, targets, GPU block lengths, the table.

Timings are never asserted anywhere; these tests check that given rows are read correctly
(and, for ``--real``, that one quick run on iris prints every path).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.__main__ import _gpu_lengths, table
from benchmarks._cases import COST_EVERY, cases
from benchmarks._targets import check_targets

PLANAR = "planar 2-4-1 m=400 float64"
DIGITS = "digits 64-64-10 m=1,797 float64"


def _row(case, name, seconds, gpu=False, **extra):
    return {"case": case, "competitor": name, "gpu": gpu, "memory_method": "tracemalloc",
            "seconds_per_iteration": seconds, **extra}


def _status(targets, start):
    return next(t for t in targets if t["target"].startswith(start))


class TestTargets:
    def test_planar_ratio_met_and_missed(self):
        met = check_targets([_row(PLANAR, "raw numpy (reference)", 30e-6),
                             _row(PLANAR, "portable_nn numpy", 29e-6)])
        missed = check_targets([_row(PLANAR, "raw numpy (reference)", 30e-6),
                                _row(PLANAR, "portable_nn numpy", 31e-6)])
        assert _status(met, f"{PLANAR}: numpy <= 1.00x raw")["status"] == "met"
        assert _status(missed, f"{PLANAR}: numpy <= 1.00x raw")["status"] == "MISS"

    def test_jax_target_only_for_the_cpu(self):
        rows = [_row(PLANAR, "raw numpy (reference)", 30e-6),
                _row(PLANAR, "portable_nn numpy", 30e-6)]
        cpu = check_targets([*rows, _row(PLANAR, "portable_nn jax compile=True", 9e-6)])
        gpu = check_targets([*rows, _row(PLANAR, "portable_nn jax compile=True", 9e-6,
                                          gpu=True)])
        start = f"{PLANAR}: jax compile=True >= 3x"
        assert _status(cpu, start)["status"] == "met"
        assert _status(gpu, start)["status"] == "n/a"

    def test_smallest_size_where_the_gpu_wins(self):
        rows = [_row(PLANAR, "raw numpy (reference)", 30e-6),
                _row(PLANAR, "portable_nn numpy", 30e-6),
                _row(PLANAR, "portable_nn cupy", 400e-6, gpu=True),
                _row(DIGITS, "raw numpy (reference)", 1.2e-3),
                _row(DIGITS, "portable_nn numpy", 1.2e-3),
                _row(DIGITS, "portable_nn cupy", 0.4e-3, gpu=True)]
        found = _status(check_targets(rows), "smallest size where portable_nn cupy")
        assert found["measured"].startswith(DIGITS)
        assert "0.33x" in found["measured"]


class TestGpuLengths:
    @pytest.mark.parametrize("case", cases(quick=False, sweep=True), ids=lambda c: c.label)
    def test_whole_blocks_after_a_recorded_cost(self, case):
        gpu = _gpu_lengths(case)
        assert gpu.n0 >= 101
        assert gpu.n0 % COST_EVERY == 1
        assert gpu.step_n % COST_EVERY == 0
        assert (gpu.name, gpu.n_x, gpu.m, gpu.dtype) == (case.name, case.n_x, case.m, case.dtype)


def test_table_marks_skips_and_failures():
    rows = [_row(PLANAR, "raw numpy (reference)", 30e-6, ratio_to_reference=1.0),
            {"case": PLANAR, "competitor": "portable_nn cupy", "gpu": True,
             "memory_method": "cupy", "skipped": "FAILED: NotImplementedError: boom"}]
    text = table(rows)
    assert "30.0 us" in text
    assert "skipped: FAILED: NotImplementedError: boom" in text


class TestCaseOrder:
    def test_gpu_first_puts_large_float32_first_and_keeps_the_rest(self):
        usual = cases(quick=False)
        first = cases(quick=False, gpu_first=True)
        assert (first[0].name, first[0].dtype) == ("large", "float32")
        assert sorted(c.label for c in first) == sorted(c.label for c in usual)
        assert [c.label for c in first[1:]] == [c.label for c in usual
                                                if c.label != first[0].label]

    def test_crossover_reads_sizes_by_work_not_run_order(self):
        large = "large 784-256-10 m=60,000 float32"
        rows = [_row(large, "portable_nn numpy", 0.3),
                _row(large, "portable_nn cupy", 0.002, gpu=True),
                _row(DIGITS, "portable_nn numpy", 1.2e-3),
                _row(DIGITS, "portable_nn cupy", 0.4e-3, gpu=True)]
        found = _status(check_targets(rows), "smallest size where portable_nn cupy")
        assert found["measured"].startswith(DIGITS)


class TestDeadline:
    def test_past_the_deadline_nothing_runs_and_rows_say_so(self):
        from benchmarks.__main__ import OUT_OF_TIME, bench_case
        from benchmarks._competitors import Competitor

        calls = []

        def setup(case):
            calls.append(case.name)
            return lambda n: None

        entry = Competitor("raw numpy (reference)", setup, "tracemalloc")
        rows = bench_case(cases(quick=True)[0], [entry], rounds=3, budget=0.01,
                          log=lambda msg: None, deadline=0.0)
        assert calls == []
        assert rows[0]["skipped"] == OUT_OF_TIME
        assert "not run" in table(rows)

    def test_memory_is_skipped_once_the_deadline_passes_during_rounds(self, monkeypatch):
        import benchmarks.__main__ as main
        from benchmarks._competitors import Competitor

        clock = itertools.count()  # every reading of the clock is one second later
        monkeypatch.setattr(main.time, "perf_counter", lambda: float(next(clock)))
        entry = Competitor("raw numpy (reference)", lambda case: (lambda n: None), "tracemalloc")
        rows = main.bench_case(cases(quick=True)[0], [entry], rounds=50, budget=0.01,
                               log=lambda msg: None, deadline=5.0)
        assert 1 <= len(rows[0]["samples"]) < 50
        assert rows[0]["memory_skipped"] == main.OUT_OF_TIME
        assert rows[0]["peak_bytes"] is None


class TestReal:
    """``python -m benchmarks --real``: default paths on real data beside scikit-learn."""

    def test_quick_run_prints_every_path_with_scikit_learns_reference(self, capsys):
        pytest.importorskip("sklearn")
        from benchmarks.__main__ import main

        assert main(["--real", "--quick", "--data", "iris"]) == 0
        text = capsys.readouterr().out
        assert "iris (string labels)" in text
        for path in ("pnn.train(dataset)", "pnn.train(X, Y)", "NeuralNetClassifier()",
                     "portable-nn train FILE.csv", "sklearn StandardScaler + MLP",
                     "sklearn StandardScaler + LogisticRegression"):
            assert path in text
        logistic = next(line for line in text.splitlines() if "LogisticRegression" in line)
        assert float(logistic.split()[-3]) > 0.8  # scikit-learn's own score on held-out iris
        assert "x MLP" in text

    def test_scores_match_scikit_learns_metrics_on_the_same_split(self):
        pytest.importorskip("sklearn")
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score

        import portable_nn as pnn
        from benchmarks._real import TEST_FRACTION, _truth, model_values, real_datasets

        real = real_datasets(["iris"])[0]
        train, test = real.dataset().split(TEST_FRACTION, seed=0)
        assert sorted(set(_truth(test))) == ["setosa", "versicolor", "virginica"]
        assert np.bincount(test.Y.argmax(axis=0)).tolist() == [12, 12, 12]  # stratified
        model = pnn.train(train.X, train.Y, hidden=8, hidden_activation="tanh",
                          output="softmax", optimizer="adam", learning_rate=0.01,
                          num_iterations=300, init="he", standardize=True)
        labels = model_values(model, test.X, train.classes)
        assert labels.tolist() == test.labels(model.predict(test.X)).tolist()
        reference = LogisticRegression().fit(train.X.T, _truth(train))
        assert accuracy_score(_truth(test), reference.predict(test.X.T)) > 0.8

    def test_the_command_lines_split_is_the_other_paths_split(self, tmp_path):
        pytest.importorskip("sklearn")
        import portable_nn as pnn
        from benchmarks._real import TEST_FRACTION, real_datasets, write_csv

        real = real_datasets(["wine"])[0]
        write_csv(real, tmp_path / "wine.csv")
        for seed in range(3):
            ours = real.dataset().split(TEST_FRACTION, seed=seed)[1]
            theirs = pnn.datasets.from_csv(tmp_path / "wine.csv").split(TEST_FRACTION,
                                                                         seed=seed)[1]
            np.testing.assert_array_equal(ours.X, theirs.X)
            np.testing.assert_array_equal(ours.classes[ours.Y.argmax(axis=0)],
                                          theirs.classes[theirs.Y.argmax(axis=0)])

    def test_table_shows_failures_warnings_and_the_ratio(self):
        from benchmarks._real import MLP, Fitted, _row, real_table

        rows = [_row("d", "pnn.train(X, Y)", [Fitted(None, None, error="Boom: x"),
                                              Fitted(0.5, 2.0, ["UserWarning: chance"])]),
                _row("d", MLP, [Fitted(0.9, 1.0), Fitted(0.95, 3.0)])]
        rows[0]["ratio_to_mlp"] = rows[0]["seconds_mean"] / rows[1]["seconds_mean"]
        text = real_table(rows)
        assert "FAILED 1/2: Boom: x" in text
        assert "warned 1/2: UserWarning: chance" in text
        assert "0.925" in text  # the MLP row's mean score
        assert "   1.00  " in text  # the failing row's ratio: 2 s over the MLP's 2 s


class TestChunkAuto:
    """``python -m benchmarks.chunk_auto``: auto against unchunked at each BLAS thread count."""

    def test_table_ratios_and_target(self):
        from benchmarks.chunk_auto import NAMES, large_case, table

        case = large_case(quick=False)
        results = {1: dict(zip(NAMES, (0.57, 0.75, 0.60), strict=True)),
                   2: dict(zip(NAMES, (0.40, 0.42, 0.45), strict=True))}
        lines = table(case, results)
        assert "784-256-10 m=60,000 float32" in lines[0]
        assert any('chunk_size="auto" (= 1280)' in line for line in lines)
        assert any('chunk_size="auto" (= 60000)' in line for line in lines)
        assert lines[-2].endswith("at 1 BLAS thread(s): 0.800x (met)")
        assert lines[-1].endswith("at 2 BLAS thread(s): 1.071x (MISS)")

    def test_quick_run_prints_every_thread_count(self, capsys):
        pytest.importorskip("threadpoolctl")
        from benchmarks.chunk_auto import main

        assert main(["--quick", "--rounds", "1", "--threads", "1,2"]) == 0
        text = capsys.readouterr().out
        assert "m=6,000 float32" in text
        for threads in (1, 2):
            assert f"at {threads} BLAS thread(s):" in text
        assert text.count("floor: 5 matmuls") == 2
