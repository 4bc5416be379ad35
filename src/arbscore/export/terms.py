"""The terms a run's bundle carries (like a checkpoint's model args): the hold grid its labels
were simulated at, the entry rule and book it was backtested with, the data window and
universe, and the shipped strategy with its backtest verdict. Read from the run directory's
files (``training_data.parquet``, ``metrics.json``, ``market.json``); each key is absent where
the run did not record it, and the server states the default it uses then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arbscore.evaluation.mix import mix_name
from arbscore.evaluation.verdict import verdict_sentence
from arbscore.export.interval import run_interval
from arbscore.schema import HEADS, HOLD_COLUMN, HOLD_GRID_HOURS

#: the book settings of ``EvaluationConfig`` a bundle repeats (its backtest's terms)
BOOK_KEYS = (
    "capital_usd",
    "position_usd",
    "top_k",
    "max_open_positions",
    "max_positions_per_symbol",
    "max_positions_per_venue",
    "perp_leverage",
    "model_exit",
    "rule_expected_hold_hours",
)


def run_hold_grid(run: Path) -> tuple[float, ...]:
    """The holds the run's labels were simulated at: the distinct ``hold_hours`` of its
    training set (the grid the models saw); the default grid where the run has no set."""
    file = Path(run) / "training_data.parquet"
    if not file.is_file():
        return tuple(float(h) for h in HOLD_GRID_HOURS)
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    column = pq.read_table(file, columns=[HOLD_COLUMN]).column(HOLD_COLUMN)
    return tuple(sorted(float(h) for h in pc.unique(column).to_pylist() if h is not None))


def shipped_strategy(metrics: Mapping[str, Any], chosen: Mapping[str, str]) -> dict[str, Any]:
    """The strategy a bundle ships (head -> family ``chosen``) and what its backtest said: one
    family's three heads carry that family's pooled book and verdict against the best rule, a
    per-head mix the mix's (``evaluation.mix``); a mix no book traded says so (``verdict``
    None). ``versus`` holds its comparison with every baseline (the best rule, ``always_on``,
    ``cash``) and ``sentence`` the verdict in the words the console and the report use."""
    families = sorted(set(chosen[h] for h in HEADS))
    name = families[0] if len(families) == 1 else mix_name(chosen)
    backtest = metrics.get("backtest") or {}
    pooled = (backtest.get("pooled") or {}).get(name) or {}
    vs_rule = (backtest.get("vs_rule") or {}).get(name) or {}
    keep = ("annual_return_pct", "annual_return_ci95", "sharpe", "max_drawdown_pct", "trades")
    return {
        "name": name,
        "heads": {h: chosen[h] for h in HEADS},
        "backtested": bool(pooled),
        "recommended_family": backtest.get("recommended_family"),
        "rule": backtest.get("rule"),
        "verdict": vs_rule.get("verdict") if pooled else None,
        "vs_rule": {k: v for k, v in vs_rule.items() if k != "rule"},
        "versus": (backtest.get("versus") or {}).get(name) or {},
        "sentence": verdict_sentence(backtest, name) if pooled else None,
        "pooled": {k: pooled[k] for k in keep if k in pooled},
        "span": backtest.get("span"),
    }


def run_terms(run: Path, metrics: Mapping[str, Any], chosen: Mapping[str, str]) -> dict[str, Any]:
    """The manifest keys of a run's terms (module docstring); ``chosen``: head -> family."""
    terms: dict[str, Any] = {}
    config = metrics.get("config") or {}
    if config:
        terms["serve"] = {
            "entry_rule": {
                k: config[k]
                for k in ("min_success_probability", "min_expected_profit_pct")
                if k in config
            }
        }
        terms["book"] = {k: config[k] for k in BOOK_KEYS if k in config}
    data = dict(metrics.get("data") or {})
    market_file = Path(run) / "market.json"
    market = json.loads(market_file.read_text(encoding="utf-8")) if market_file.is_file() else {}
    if data or market:
        terms["data_window"] = {
            "start": data.get("start"),
            "end": data.get("end"),
            "source": market.get("source", data.get("data_source")),
            "synthetic": market.get("synthetic", data.get("synthetic")),
        }
        terms["universe"] = {
            "symbols": market.get("symbols"),
            "exchanges": market.get("exchanges"),
        }
    if metrics.get("backtest"):
        terms["strategy"] = shipped_strategy(metrics, chosen)
    terms.update(run_interval(Path(run), metrics, chosen.get("profit")))
    return terms
