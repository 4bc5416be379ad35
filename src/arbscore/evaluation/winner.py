"""The winner per head: best declared out-of-sample metric, ties broken by inference latency."""

from __future__ import annotations

import math

from arbscore.evaluation.config import WINNER_FALLBACK_METRICS, WINNER_METRICS


def pick_winners(
    families: dict[str, dict], tie_tolerance: float
) -> tuple[dict[str, str | None], dict[str, dict]]:
    """(head -> winning family, head -> the declared rule) from metrics.json family blocks.

    Families within ``tie_tolerance`` (relative) of the best value are tied; the one with the
    lowest ``timing.predict_us_per_row`` wins among them. A head nobody has a finite value for
    has no winner (None).
    """
    winners: dict[str, str | None] = {}
    rules: dict[str, dict] = {}
    for head in WINNER_METRICS:
        metric, higher, fallback_from = resolve_metric(families, head)
        rules[head] = {
            "name": metric,
            "higher_is_better": higher,
            "scope": "mean over out-of-sample walk-forward folds",
            "tie_tolerance": tie_tolerance,
            "tie_break": "timing.predict_us_per_row (lower wins)",
        }
        if fallback_from:
            rules[head]["fallback_from"] = fallback_from
        scored = _scored(families, head, metric)
        if not scored:
            winners[head] = None
            continue
        best = max(v for _, v in scored) if higher else min(v for _, v in scored)
        margin = tie_tolerance * max(abs(best), 1e-12)
        tied = [f for f, v in scored if abs(v - best) <= margin]

        def latency(fam: str) -> float:
            value = families[fam].get("timing", {}).get("predict_us_per_row")
            return value if isinstance(value, (int, float)) and math.isfinite(value) else math.inf

        winners[head] = min(tied, key=lambda f: (latency(f), tied.index(f)))
    return winners, rules


def resolve_metric(families: dict[str, dict], head: str) -> tuple[str, bool, str | None]:
    """(metric, higher_is_better, fallback_from) that decides ``head`` for these families.

    The declared metric, unless no family has a finite value of it and the head declares a
    fallback (``WINNER_FALLBACK_METRICS``); then the fallback, and the metric it replaced.
    """
    metric, higher = WINNER_METRICS[head]
    if head in WINNER_FALLBACK_METRICS and not _scored(families, head, metric):
        return (*WINNER_FALLBACK_METRICS[head], metric)
    return metric, higher, None


def _scored(families: dict[str, dict], head: str, metric: str) -> list[tuple[str, float]]:
    """(family, value) for every family with a finite ``metric`` on ``head``."""
    scored = []
    for fam, block in families.items():
        value = block.get(head, {}).get(metric)
        if isinstance(value, (int, float)) and math.isfinite(value):
            scored.append((fam, float(value)))
    return scored
