"""A typed view of metrics.json (issue 4's schema as the harness writes it).

Per-fold values sit beside each mean (``name`` and ``name_folds``, with a ``std`` dict); the
parser also reads the other layouts a harness might write, so the report never needs to know.
``null`` means undefined (AUC on a one-class fold, win rate without trades) and stays NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from arbscore.evaluation.config import WINNER_METRICS
from arbscore.schema import HEADS


@dataclass(frozen=True)
class Stat:
    """One metric: the mean across folds as the harness wrote it, and the per-fold values."""

    mean: float
    folds: tuple[float, ...] = ()
    spread: float | None = None  # the harness's own std across folds, when it wrote one

    @property
    def std(self) -> float:
        if self.spread is not None:
            return self.spread
        vals = [v for v in self.folds if _finite(v)]
        if len(vals) < 2:
            return float("nan")
        m = sum(vals) / len(vals)
        return math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))

    @property
    def lo(self) -> float:
        vals = [v for v in self.folds if _finite(v)]
        return min(vals) if vals else float("nan")

    @property
    def hi(self) -> float:
        vals = [v for v in self.folds if _finite(v)]
        return max(vals) if vals else float("nan")


@dataclass(frozen=True)
class Calibration:
    """Reliability table of the success head: mean predicted probability vs observed rate."""

    predicted: tuple[float, ...]
    observed: tuple[float, ...]
    count: tuple[int, ...]
    lower: tuple[float, ...] = ()  # bin edges when the table has them (empty bins left out)
    upper: tuple[float, ...] = ()


@dataclass(frozen=True)
class FamilyMetrics:
    """Out-of-sample metrics of one strategy (a family or a baseline)."""

    heads: dict[str, dict[str, Stat]]  # head -> metric -> Stat ("backtest" is a head here)
    timing: dict[str, Stat] = field(default_factory=dict)  # train seconds, latency ...
    calibration: Calibration | None = None


@dataclass(frozen=True)
class Winner:
    head: str
    family: str
    metric: str
    higher_is_better: bool
    value: float
    runner_up: str | None
    runner_up_value: float | None
    tie_tolerance: float | None = None  # relative; within it the faster family wins
    tie_break: str | None = None

    @property
    def tied(self) -> bool:
        """Winner and runner-up within the declared tolerance (the tie-break decided)."""
        if self.tie_tolerance is None or self.runner_up_value is None:
            return False
        if not (_finite(self.value) and _finite(self.runner_up_value)):
            return False
        best = max(abs(self.value), abs(self.runner_up_value))
        return abs(self.value - self.runner_up_value) <= self.tie_tolerance * max(best, 1e-12)

    @property
    def margin(self) -> float | None:
        if self.runner_up_value is None or not _finite(self.runner_up_value):
            return None
        diff = self.value - self.runner_up_value
        return diff if self.higher_is_better else -diff


@dataclass(frozen=True)
class Metrics:
    raw: dict
    scheme: str
    purge_hours: float | None
    embargo_hours: float | None
    folds: list[dict]
    families: dict[str, FamilyMetrics]
    baselines: dict[str, FamilyMetrics]
    winners: list[Winner]


#: the metric each head's winner is judged by when metrics.json does not declare one
#: (name, higher_is_better): the harness's own declaration
DEFAULT_WINNER_METRIC: dict[str, tuple[str, bool]] = dict(WINNER_METRICS)
HIGHER_IS_BETTER = {
    "r2",
    "auc",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "net_return",
    "sharpe",
    "win_rate",
    "trades",
    "max_drawdown",  # drawdown is reported as a negative number: closer to 0 is better
    "annual_return_pct",
    "max_drawdown_pct",
    "sortino",
    "calmar",
    "mae_skill",
    "brier_skill",
    "mae_hours_skill",
}


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num(v: object) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return None


def _parse_head(block: dict) -> dict[str, Stat]:
    """Metrics of one head, whichever way the per-fold values sit beside the means.

    Accepted: ``{"mae": 0.3, "mae_folds": [...]}``, ``{"mae": {"mean": .., "folds": [..]}}`` and
    ``{"mae": 0.3, "per_fold": [{"mae": ..}, ..]}`` (also under the key ``"folds"``).
    """
    per_fold = None
    for key in ("per_fold", "folds", "by_fold"):
        if isinstance(block.get(key), list) and all(isinstance(x, dict) for x in block[key]):
            per_fold = block[key]
    out: dict[str, Stat] = {}
    for name, value in block.items():
        if name.endswith("_folds") or name in ("per_fold", "folds", "by_fold", "std"):
            continue
        if isinstance(value, dict) and "mean" in value:
            mean = _num(value["mean"])
            raw_folds = value.get("folds") or value.get("per_fold") or []
            folds = tuple(_num(x) if _num(x) is not None else float("nan") for x in raw_folds)
        elif _num(value) is not None or (value is None and f"{name}_folds" in block):
            mean = _num(value) if value is not None else float("nan")  # null = undefined
            if isinstance(block.get(f"{name}_folds"), list):
                folds = tuple(
                    _num(x) if _num(x) is not None else float("nan") for x in block[f"{name}_folds"]
                )
            elif per_fold is not None:
                folds = tuple(
                    _num(f.get(name)) if _num(f.get(name)) is not None else float("nan")
                    for f in per_fold
                )
            else:
                folds = ()
        else:
            continue  # tables (calibration), labels, nested detail
        if mean is not None:
            spread = block.get("std", {}).get(name) if isinstance(block.get("std"), dict) else None
            out[name] = Stat(mean, folds, _num(spread))
    return out


def _parse_calibration(block: object) -> Calibration | None:
    """A calibration table as a list of bins or as parallel arrays."""
    if isinstance(block, dict):
        keys = {k.lower(): k for k in block}
        pred = next(
            (
                block[keys[k]]
                for k in ("mean_predicted", "predicted", "prob_pred", "mean_pred")
                if k in keys
            ),
            None,
        )
        obs = next(
            (
                block[keys[k]]
                for k in ("fraction_positive", "observed", "prob_true", "frac_pos", "observed_rate")
                if k in keys
            ),
            None,
        )
        cnt = next((block[keys[k]] for k in ("count", "counts", "n") if k in keys), None)
        if pred is None or obs is None:
            return None
        cnt = cnt if cnt is not None else [0] * len(pred)
        lo, hi = block.get("bin_lower") or (), block.get("bin_upper") or ()
        return Calibration(
            tuple(map(float, pred)),
            tuple(map(float, obs)),
            tuple(map(int, cnt)),
            tuple(map(float, lo)),
            tuple(map(float, hi)),
        )
    if isinstance(block, list) and block and all(isinstance(b, dict) for b in block):
        cols = {k: [b.get(k) for b in block] for k in block[0]}
        return _parse_calibration(cols)
    return None


def _parse_strategy(block: dict) -> FamilyMetrics:
    heads: dict[str, dict[str, Stat]] = {}
    timing: dict[str, Stat] = {}
    timing_folds = block.get("timing_folds") if isinstance(block.get("timing_folds"), dict) else {}
    calibration = None
    for key, value in block.items():
        if key in HEADS or key == "backtest":
            if isinstance(value, dict):
                heads[key] = _parse_head(value)
                if key == "success":
                    calibration = _parse_calibration(value.get("calibration"))
        elif key in ("timing", "timings", "time") and isinstance(value, dict):
            for k, v in value.items():
                if _num(v) is not None:
                    folds = tuple(
                        _num(x) if _num(x) is not None else float("nan")
                        for x in timing_folds.get(k) or ()
                    )
                    timing[k] = Stat(float(v), folds)
    # a baseline may be written as bare backtest metrics
    if not heads and any(k in block for k in ("net_return", "sharpe")):
        heads["backtest"] = _parse_head(block)
    return FamilyMetrics(heads=heads, timing=timing, calibration=calibration)


def _winners(raw: dict, families: dict[str, FamilyMetrics]) -> list[Winner]:
    declared = raw.get("winner", {}) or {}
    metric_decl = raw.get("winner_metric") or raw.get("winner_metrics") or {}
    out = []
    for head in HEADS:
        entry = declared.get(head)
        fam = entry.get("family") if isinstance(entry, dict) else entry
        if not fam:
            continue
        metric, higher = DEFAULT_WINNER_METRIC[head]
        decl = entry.get("metric") if isinstance(entry, dict) else metric_decl.get(head)
        tol, tie_break = None, None
        if isinstance(decl, dict):
            metric = decl.get("name", metric)
            higher = bool(decl.get("higher_is_better", metric in HIGHER_IS_BETTER))
            tol, tie_break = _num(decl.get("tie_tolerance")), decl.get("tie_break")
        elif isinstance(decl, str):
            metric, higher = decl, decl in HIGHER_IS_BETTER
        if isinstance(entry, dict) and "higher_is_better" in entry:
            higher = bool(entry["higher_is_better"])
        value = families.get(fam, FamilyMetrics({})).heads.get(head, {}).get(metric)
        others = [
            (f, m.heads[head][metric].mean)
            for f, m in families.items()
            if f != fam and metric in m.heads.get(head, {})
        ]
        others.sort(key=lambda t: -t[1] if higher else t[1])
        out.append(
            Winner(
                head=head,
                family=fam,
                metric=metric,
                higher_is_better=higher,
                value=value.mean if value else float("nan"),
                runner_up=others[0][0] if others else None,
                runner_up_value=others[0][1] if others else None,
                tie_tolerance=tol,
                tie_break=tie_break,
            )
        )
    return out


def parse_metrics(raw: dict) -> Metrics:
    """Typed view of metrics.json; raises ``ValueError`` naming what is missing."""
    for key in ("families",):
        if key not in raw:
            raise ValueError(
                f"metrics.json has no '{key}' key; expected issue 4's schema "
                f"(scheme, folds, families, baselines, winner)"
            )
    families = {f: _parse_strategy(b) for f, b in raw["families"].items()}
    baselines = {b: _parse_strategy(v) for b, v in (raw.get("baselines") or {}).items()}
    return Metrics(
        raw=raw,
        scheme=str(raw.get("scheme", "?")),
        purge_hours=_num(raw.get("purge_hours")),
        embargo_hours=_num(raw.get("embargo_hours")),
        folds=list(raw.get("folds") or []),
        families=families,
        baselines=baselines,
        winners=_winners(raw, families),
    )
