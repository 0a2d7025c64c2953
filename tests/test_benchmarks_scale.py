"""``python -m benchmarks --scale`` bookkeeping (no timing): rows, ratios, table and targets."""

from __future__ import annotations

from benchmarks._scale import ScaleOptions, run_scale, scale_table, scale_targets

GROUP = "chunk_size: large 784-256-10 m=60,000 float32"


def _rows():
    return [
        {"group": GROUP, "competitor": "portable_nn numpy (unchunked)",
         "seconds_per_iteration": 1.0, "peak_bytes": 200e6, "ratio_to_floor": 1.3,
         "ratio_to_unchunked": 1.0, "memory_ratio_to_unchunked": 1.0},
        {"group": GROUP, "competitor": "portable_nn numpy chunk_size=1024",
         "seconds_per_iteration": 0.8, "peak_bytes": 10e6, "ratio_to_floor": 1.1,
         "ratio_to_unchunked": 0.8, "memory_ratio_to_unchunked": 0.05},
        {"group": GROUP, "competitor": "portable_nn numpy chunk_size=4096",
         "seconds_per_iteration": 1.2, "peak_bytes": 60e6, "ratio_to_floor": 1.3,
         "ratio_to_unchunked": 1.2, "memory_ratio_to_unchunked": 0.3},
        {"group": "jax devices", "competitor": "jax", "skipped": "no jax"},
    ]


class TestScaleReport:
    def test_targets_met_and_missed(self):
        lines = scale_targets(_rows())
        assert len(lines) == 2  # chunked rows only
        assert "0.05x (met)" in lines[0]
        assert "1.10x (met)" in lines[0]
        assert "0.30x (MISS)" in lines[1]
        assert "1.30x (MISS)" in lines[1]

    def test_table_has_every_group_and_ratio(self):
        text = scale_table(_rows())
        assert GROUP in text
        assert "x unchunked" in text
        assert "skipped: no jax" in text

    def test_producers_are_a_list_to_extend(self, capsys):
        seen = []

        def extra(options):
            seen.append(options.quick)
            return [{"group": "extra", "competitor": "dask", "seconds_per_iteration": 0.5}]

        rows = run_scale(ScaleOptions(quick=True, log=print, measure=None), [extra])
        assert seen == [True]
        assert rows[0]["competitor"] == "dask"
        assert "extra" in capsys.readouterr().out
