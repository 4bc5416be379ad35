"""When each head is won by a different family, the mix of the winners is booked as its own
strategy in the same book (``evaluation/mix.py``), named ``profit+success+duration``, with a
verdict against the best rule like any family, and can be the one recommended."""

from __future__ import annotations

import numpy as np
from arb_eval_kit import MeanFamily, make_training_frame

from arbscore.evaluation import EvaluationConfig, evaluate
from arbscore.evaluation.mix import mix_name
from arbscore.families import HeadOutputs


class ProfitOnly(MeanFamily):
    """The ridge profit head; an uninformative success (0.5) and a duration of 1 h."""

    name = "profit_only"

    def predict(self, X: np.ndarray) -> HeadOutputs:
        p = super().predict(X)
        return HeadOutputs(p.profit, np.full(len(X), 0.5), np.full(len(X), 1.0))


class RestOnly(MeanFamily):
    """A far-off profit; the ridge success and duration heads."""

    name = "rest_only"

    def predict(self, X: np.ndarray) -> HeadOutputs:
        p = super().predict(X)
        return HeadOutputs(np.full(len(X), 100.0), p.success, p.duration)


def test_the_heads_winners_are_booked_together_as_their_own_strategy():
    frame = make_training_frame(days=30, step_minutes=180)
    # no continuation at the grid's last hold: each trade's exit is then the hold it entered at
    config = EvaluationConfig(n_folds=2, min_success_probability=0.0, continue_at_boundary=False)
    result = evaluate(frame, [ProfitOnly, RestOnly], config)
    m = result.metrics
    assert m["winner"] == {"profit": "profit_only", "success": "rest_only", "duration": "rest_only"}
    name = mix_name(m["winner"])
    assert name == "profit_only+rest_only+rest_only"
    assert m["head_winner_mix"] == {"name": name, "heads": m["winner"]}
    bt = m["backtest"]
    assert name in bt["pooled"] and name in bt["vs_rule"] and name in bt["folds"]
    # booked in the same book: on the same day grid as the families
    assert len(bt["folds"][name]) == len(bt["folds"]["rest_only"])
    # the mix trades where profit_only's profit head, read at the hold rest_only's duration
    # head picks, is positive (every success passes 0.0): neither family alone trades so
    trades, preds = result.trades, result.predictions
    mix = trades[trades["strategy"] == name]
    assert len(mix) and set(mix["opportunity_id"]) != set(
        trades.loc[trades["strategy"] == "rest_only", "opportunity_id"]
    )
    assert not (trades["strategy"] == "profit_only").any()  # its 1 h holds never pay
    profit = preds[preds["family"] == "profit_only"].set_index(["opportunity_id", "hold_hours"])
    duration = preds[preds["family"] == "rest_only"].groupby("opportunity_id")["duration"].first()
    holds = np.array(sorted(frame["hold_hours"].unique()), float)
    for opp, exit_hours in zip(mix["opportunity_id"], mix["exit_hours"], strict=True):
        snapped = holds[np.argmin(np.abs(holds - duration[opp]))]
        assert exit_hours == snapped
        assert profit.loc[(opp, exit_hours), "profit"] > 0


def test_no_mix_when_one_family_wins_every_head():
    frame = make_training_frame(days=30, step_minutes=180)
    result = evaluate(frame, [MeanFamily], EvaluationConfig(n_folds=2))
    assert result.metrics["head_winner_mix"] is None
    assert set(result.metrics["backtest"]["pooled"]) == {
        "ridge", "carry_rule", "fund_apr_rank", "persistence", "hindsight_oracle", "always_on",
        "cash",
    }  # fmt: skip
