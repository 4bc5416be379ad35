"""The one-row I/O-binding path (``serve/onerow.py``) answers the batch path's exact floats,
from several threads at once, and the scorer falls back to the batch path where a graph does
not fit it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from serve_helpers import GOLDEN

from arbscore.serve.scorer import Scorer

FIELDS = ("profit_pct", "success_probability", "hold_hours", "composite")


def _rows(scorer: Scorer, n: int = 64):
    rng = np.random.default_rng(7)
    records = [
        {
            "fund_profit_8h": float(rng.normal(0.01, 0.03)),
            "fund_apr": float(rng.normal(15, 30)),
            "hold_hours": None if i % 3 else float(rng.choice([8.0, 72.0, 720.0])),
        }
        for i in range(n)
    ]
    return scorer.features(records)


def test_one_row_path_matches_the_batch_path_exactly():
    scorer = Scorer(GOLDEN / "bundle")
    assert scorer._one is not None  # the golden bundle's graphs fit the binding
    X, hold = _rows(scorer)
    batch = scorer.predict_matrix(X, hold)  # many rows: always the batch path
    for i in range(len(X)):
        one = scorer.predict_matrix(X[i : i + 1], hold[i : i + 1])
        for k in FIELDS:
            assert getattr(one, k)[0] == getattr(batch, k)[i], (i, k)


def test_one_row_path_is_thread_safe():
    scorer = Scorer(GOLDEN / "bundle")
    X, hold = _rows(scorer, 200)
    want = scorer.predict_matrix(X, hold)

    def score(i: int) -> tuple[float, ...]:
        p = scorer.predict_matrix(X[i : i + 1], hold[i : i + 1])
        return tuple(float(getattr(p, k)[0]) for k in FIELDS)

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(score, list(range(len(X))) * 3))
    for j, row in enumerate(got):
        i = j % len(X)
        assert row == tuple(float(getattr(want, k)[i]) for k in FIELDS), i


def test_scorer_falls_back_when_the_probe_disagrees(monkeypatch):
    from arbscore.serve import onerow

    real = onerow.OneRow.predict

    def off_by_one(self, row, given_hold):
        profit, success, duration = real(self, row, given_hold)
        return profit + 1.0, success, duration

    monkeypatch.setattr(onerow.OneRow, "predict", off_by_one)
    scorer = Scorer(GOLDEN / "bundle")
    assert scorer._one is None  # refused at load: the batch path serves single rows
    X, hold = _rows(scorer, 4)
    batch = scorer.predict_matrix(X, hold)
    assert scorer.predict_matrix(X[:1], hold[:1]).profit_pct[0] == batch.profit_pct[0]
