"""The bundle's profit interval: fitted on the run's last test fold, computed in the raw graph."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from onnx import TensorProto

from arbscore.conformal import IntervalTable, fit_interval_table
from arbscore.export.interval import PREDICTIONS_FILE, PROFIT_INTERVAL_KEY, run_interval
from arbscore.export.onnx_graph import Graph
from arbscore.export.onnx_raw import _half_width


def _run(tmp_path, rows_per_fold=200):
    rng = np.random.default_rng(0)
    frames = []
    for fam, scale in (("xgboost", 1.0), ("lightgbm", 3.0)):
        for fold in (0, 1):
            n = rows_per_fold
            profit = rng.normal(0, 1, n)
            noise = rng.normal(0, scale * (1 + fold), n)  # the last fold is the wider one
            frames.append(
                pd.DataFrame(
                    {
                        "family": fam,
                        "fold": fold,
                        "hold_hours": rng.choice([8.0, 72.0], n),
                        "actual_profit_pct": profit + noise,
                        "profit": profit,
                    }
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    (tmp_path / PREDICTIONS_FILE).parent.mkdir(parents=True)
    frame.to_parquet(tmp_path / PREDICTIONS_FILE)
    return frame


def test_the_table_is_the_profit_winners_last_fold_at_the_runs_coverage(tmp_path):
    frame = _run(tmp_path)
    got = run_interval(tmp_path, {"config": {"interval_coverage": 0.9}}, "xgboost")
    table = got[PROFIT_INTERVAL_KEY]
    last = frame[(frame.family == "xgboost") & (frame.fold == 1)]
    want = fit_interval_table(last.actual_profit_pct, last.profit, last.hold_hours, 0.9)
    assert table["half_width_pct"] == list(want.half_widths)
    assert table["coverage"] == 0.9 and table["rows"] == len(last)
    assert "fold 2" in table["source"]
    assert run_interval(tmp_path, {}, "lightgbm")[PROFIT_INTERVAL_KEY]["coverage"] == 0.8
    assert run_interval(tmp_path, {}, "mlx") == {}  # no predictions of that family
    assert run_interval(tmp_path / "none", {}, "xgboost") == {}


def test_a_window_too_small_for_the_coverage_ships_no_interval(tmp_path):
    _run(tmp_path, rows_per_fold=3)
    assert run_interval(tmp_path, {"config": {"interval_coverage": 0.9}}, "xgboost") == {}


@pytest.mark.parametrize("holds", [(8.0, 72.0, 336.0), (24.0,)])
def test_the_graphs_half_width_is_numpys_interpolation(holds):
    widths = tuple(0.5 + i * 1.25 for i in range(len(holds)))
    table = IntervalTable(0.8, holds, widths, 1.0, 10)
    g = Graph("w")
    hold = g.input("hold", TensorProto.DOUBLE, ["N"])
    g.output(_half_width(hold, table), "w", TensorProto.DOUBLE, ["N"])
    sess = ort.InferenceSession(g.model(20, 9).SerializeToString())
    probe = np.array([1.0, 8.0, 20.0, 72.0, 100.0, 336.0, 720.0])
    got = sess.run(["w"], {"hold": probe})[0]
    np.testing.assert_allclose(got, table.half_width(probe), rtol=1e-12)


def test_a_malformed_table_is_refused_naming_it():
    with pytest.raises(ValueError, match="profit_interval"):
        IntervalTable.from_dict({"coverage": 0.8}, "profit_interval")
    bad = IntervalTable(0.8, (72.0, 8.0), (1.0, 2.0), 1.0, 5).to_dict()
    with pytest.raises(ValueError, match="increasing"):
        IntervalTable.from_dict(bad, "profit_interval")
