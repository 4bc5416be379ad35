"""The per-head mix: each head's winning family, booked as its own strategy in the same book.

The heads are judged one by one (``winner.pick_winners``: error metrics), trading value by
the pooled book; when the heads' winners are different families, what a bundle of those
winners would trade was never booked. :func:`head_winner_mix` books it: on every fold the
profit, success and duration predictions of the three winners, through the same
``model_candidates`` entry rule as a family. Its strategy name is the three families joined
``profit+success+duration`` (``xgboost+lightgbm+mlx``), the name a bundle of those heads
carries (``export/terms.py``), so the shipped mix finds its verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from arbscore.evaluation.baselines import model_candidates
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.metrics import summarise_folds
from arbscore.evaluation.winner import pick_winners
from arbscore.families import HeadOutputs
from arbscore.schema import HEADS


@dataclass(frozen=True)
class Mix:
    """``name`` (``profit+success+duration`` families), ``heads`` (head -> family) and one
    candidate frame per fold."""

    name: str
    heads: dict[str, str]
    candidates: list[pd.DataFrame]


def mix_name(heads: Mapping[str, str]) -> str:
    """The strategy name of a per-head mix (one family per head, in head order)."""
    return "+".join(str(heads[h]) for h in HEADS)


def head_winner_mix(
    per_family: Mapping[str, Mapping[str, list]],
    predictions: Sequence[pd.DataFrame],
    tests: Mapping[int, pd.DataFrame],
    config: EvaluationConfig,
) -> Mix | None:
    """The mix of the heads' winners when they are not one family (None otherwise).

    ``per_family``: family -> {"profit"|"success"|"duration"|"timing": per-fold metric dicts}
    (what ``evaluate`` collects); ``predictions``: its per-(family, fold) prediction frames
    (``family``, ``fold``, ``profit``, ``success``, ``duration`` in the test rows' order);
    ``tests``: fold -> that fold's test rows."""
    summary = {
        name: {h: summarise_folds(block[h]) for h in HEADS}
        | {"timing": summarise_folds(block["timing"])}
        for name, block in per_family.items()
    }
    winners, _ = pick_winners(summary, config.tie_tolerance)
    if any(winners.get(h) is None for h in HEADS) or len({winners[h] for h in HEADS}) == 1:
        return None
    heads = {h: str(winners[h]) for h in HEADS}
    frames = {(str(p["family"].iloc[0]), int(p["fold"].iloc[0])): p for p in predictions if len(p)}
    out = []
    for fold, rows in sorted(tests.items()):
        pred = HeadOutputs(
            frames[(heads["profit"], fold)]["profit"].to_numpy(float),
            frames[(heads["success"], fold)]["success"].to_numpy(float),
            frames[(heads["duration"], fold)]["duration"].to_numpy(float),
        )
        out.append(model_candidates(rows, pred, config).assign(fold=fold))
    return Mix(mix_name(heads), heads, out)


def recommendation(section: dict, winners: dict) -> dict:
    """The strategy recommended for trading (best pooled annual return on capital: a family,
    or the heads' mix), and the heads whose winner is another family."""
    fam = section.get("recommended_family")
    mixed = fam is not None and fam == "+".join(str(winners.get(h)) for h in HEADS)
    return {
        "family": fam,
        "by": "backtest.pooled.<family>.annual_return_pct (higher is better)",
        "differs_from_head_winners": []
        if mixed
        else sorted(h for h, w in winners.items() if w and w != fam),
    }
