"""What one prediction answers a bot: rounding, the entry decision, expected PnL in USD.

Every figure is rounded once, here, before it leaves the scorer (in-process and HTTP alike):
percents, probabilities, hours and the composite score to :data:`SIGNIFICANT_DIGITS`
significant digits (the heads compute in float32, whose ~7 digits beyond that are noise: no
``62.71743392944336``), US dollars to cents.

The entry rule (:class:`EntryRule`, one definition): **enter** when ``success_probability >=
min_success_probability`` and ``predicted_profit_pct > min_expected_profit_pct``, else
**skip**: the rule the evaluation's threshold baselines and backtest use
(``EvaluationConfig``'s defaults 0.5 and 0.0 %). A bundle may carry its own thresholds in
``manifest["serve"]["entry_rule"]``; the server applies those.

Profit interval: ``profit_interval_pct`` = [low, high] (percent, like ``predicted_profit_pct``)
= the profit -/+ the bundle's split-conformal half-width at the served hold (manifest
``profit_interval``, ``arbscore.conformal``; its ``coverage``, 0.8 by default, is the share of
realised profits it should hold); null for a bundle without one.

Expected PnL: ``predicted_profit_pct / 100 * notional_usd`` (profits are percent of one leg's
notional, net of the round trip's costs); ``notional_usd`` defaults to the position size the
training set was simulated at (``manifest["training_data"]["position_size_usd"]``, else
the cost model's default, 10,000 USD).

Units: every percent is percent, with its base named. ``predicted_profit_pct`` is % of one
leg's notional (the labels' ``actual_profit_pct``); ``return_on_capital_pct`` is the same profit
as % of the capital the position ties up (``capital_usd``: both legs' margin,
:func:`arbscore.schema.capital_per_notional` at the bundle's ``book.perp_leverage``, the labels'
``return_on_capital_pct``); ``success_probability`` is a probability in [0, 1].
``evaluated_at_hold_hours`` is the hold profit and probability were computed at: the caller's
``holdHours`` when given, else ``predicted_hold_hours`` clipped to the bundle's hold grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

import numpy as np

from arbscore.conformal import IntervalTable
from arbscore.export.manifest import BundleTerms
from arbscore.schema import DEFAULT_PERP_LEVERAGE, capital_per_notional

SIGNIFICANT_DIGITS = 6
#: the position size the cost model simulates when a bundle does not say (USD per leg)
DEFAULT_NOTIONAL_USD = 10_000.0


def rounded(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` to ``digits`` significant digits (non-finite values unchanged)."""
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else value


def usd(value: float) -> float:
    """A US-dollar amount rounded to cents."""
    value = float(value)
    return round(value, 2) if math.isfinite(value) else value


@dataclass(frozen=True)
class EntryRule:
    """Enter when ``success_probability >= min_success_probability`` and
    ``predicted_profit_pct > min_expected_profit_pct`` (see the module docstring)."""

    min_success_probability: float = 0.5
    min_expected_profit_pct: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_success_probability <= 1.0:
            raise ValueError(
                f"entry rule: min_success_probability={self.min_success_probability} "
                "must be within [0, 1]"
            )
        if not math.isfinite(self.min_expected_profit_pct):
            raise ValueError("entry rule: min_expected_profit_pct must be finite")

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> EntryRule:
        """The bundle's rule (``serve.entry_rule``), else the documented defaults."""
        given = dict((manifest.get("serve") or {}).get("entry_rule") or {})
        try:
            return cls(**given)
        except TypeError as exc:
            raise ValueError(f"manifest serve.entry_rule: {exc}") from exc

    def decide(self, profit_pct: float, success_probability: float) -> Literal["enter", "skip"]:
        """``"enter"`` or ``"skip"`` for one prediction."""
        ok = (
            success_probability >= self.min_success_probability
            and profit_pct > self.min_expected_profit_pct
        )
        return "enter" if ok else "skip"

    def to_dict(self) -> dict[str, float]:
        return {
            "min_success_probability": self.min_success_probability,
            "min_expected_profit_pct": self.min_expected_profit_pct,
        }


def training_notional_usd(manifest: Mapping[str, Any]) -> float:
    """The per-leg position size the bundle's labels were simulated at (USD)."""
    for block in ("training_data", "fees"):
        value = (manifest.get(block) or {}).get("position_size_usd")
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
    return DEFAULT_NOTIONAL_USD


def bundle_perp_leverage(manifest: Mapping[str, Any]) -> float:
    """The perp leverage the bundle's book was backtested at (``book.perp_leverage``), else
    :data:`arbscore.schema.DEFAULT_PERP_LEVERAGE`."""
    value = (manifest.get("book") or {}).get("perp_leverage")
    if isinstance(value, (int, float)) and math.isfinite(value) and value >= 1:
        return float(value)
    return DEFAULT_PERP_LEVERAGE


@dataclass(frozen=True)
class Units:
    """The answer's keys that put the profit on capital and say at which hold it was computed
    (module docstring), at the bundle's ``perp_leverage``."""

    perp_leverage: float = DEFAULT_PERP_LEVERAGE

    @classmethod
    def of_bundle(cls, manifest: Mapping[str, Any]) -> Units:
        """The bundle's book leverage (:func:`bundle_perp_leverage`)."""
        return cls(bundle_perp_leverage(manifest))

    def __call__(
        self,
        profit_pct: float,
        served_hold_hours: float,
        notional_usd: float,
        record: Mapping[str, Any],
    ) -> dict[str, float]:
        """``capital_usd``, ``return_on_capital_pct`` and ``evaluated_at_hold_hours`` of one
        answer; ``served_hold_hours`` the hold the heads were evaluated at
        (``two_pass.served_hold``), ``record`` the parsed request (its ``strategy``)."""
        multiple = capital_per_notional(record.get("strategy") == "spot_perp", self.perp_leverage)
        return {
            "capital_usd": usd(notional_usd * multiple),
            "return_on_capital_pct": rounded(profit_pct / multiple),
            "evaluated_at_hold_hours": rounded(served_hold_hours),
        }


def bundle_facts(
    manifest: Mapping[str, Any], now: datetime, max_age_days: float | None = None
) -> dict[str, Any]:
    """What ``/health`` and ``/models`` say about the served bundle: trained on synthetic or
    real data, the training data's time range, when it was exported, its age in days, and
    ``stale`` (age over ``max_age_days``; never stale without a limit, or with an unknown
    age). FreqAI retires models past ``expiration_hours`` the same way."""
    data = manifest.get("training_data") or {}
    strategy = manifest.get("strategy")
    strategy = strategy if isinstance(strategy, Mapping) else {}
    try:
        terms = BundleTerms.from_manifest(dict(manifest))
    except ValueError:
        terms = BundleTerms(source="default: the manifest's hold_grid_hours is malformed")
    created = manifest.get("created_at")
    age = None
    if isinstance(created, str):
        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
            age = round((now - when).total_seconds() / 86400.0, 3)
    synthetic = data.get("synthetic")
    sources = data.get("data_source")
    if not isinstance(synthetic, bool):  # older bundles: the run's data sources, if recorded
        synthetic = (
            any("synthetic" in str(s) for s in sources) if isinstance(sources, list) else None
        )
    return {
        "synthetic": synthetic,
        "data_source": sources,
        "training_start": data.get("start"),
        "training_end": data.get("end"),
        "created_at": created,
        "age_days": age,
        "max_model_age_days": max_age_days,
        "stale": bool(max_age_days is not None and age is not None and age > max_age_days),
        "entry_rule": EntryRule.from_manifest(manifest).to_dict(),
        "hold_grid_hours": list(terms.hold_grid_hours),
        "hold_grid_source": terms.source,
        "strategy": strategy.get("name"),
        "strategy_verdict": strategy.get("verdict"),
        "notional_usd": training_notional_usd(manifest),
    }


def profit_interval(manifest: Mapping[str, Any], where: object) -> IntervalTable | None:
    """The bundle's profit interval table (manifest ``profit_interval``), None without one."""
    given = manifest.get("profit_interval")
    return None if given is None else IntervalTable.from_dict(given, f"{where}: profit_interval")


def interval_answer(table: IntervalTable | None, profit: float, hold: float) -> list | None:
    """[low, high] around the (rounded) profit at the served ``hold`` (module docstring)."""
    if table is None:
        return None
    width = float(table.half_width(np.array([hold]))[0])
    return [rounded(profit - width), rounded(profit + width)]
