"""Live snapshots (``arbscore live``) -> scored-ready opportunities, and their realised outcomes.

``live_opportunities`` runs the one detector (``data_tools.opportunities.detect_opportunities``,
priced by ``data_tools.costs.round_trip_cost_pct``) on the live rows: ``live_snapshot_frame``
shapes them into the snapshot frame history builds, with what live knows as data, not as a
second detector: the order book's measured ``spread_pct`` / ``depth_usd`` (so
``bid_ask_spread``/``orderbook_depth`` are measured, not estimated), the funding rate column
the config names (default the last settled ``funding_rate``, as history uses), and trailing
values from earlier live rows of the same market only (no look-ahead): the 24 h / 3 d funding
projections as means over the slots seen, the rate 8 h / 24 h ago, BTC's 7-day return.
Every slot is an entry; too short a history leaves the spread CV, basis z-score and market
regime missing (``neutral_unknowns=False``) rather than neutral.

``realise`` marks a trade entered at a slot and held ``h`` hours to market on later live rows:
funding each perp leg actually settled in ``(entry, exit]`` (the settled ``funding_rate`` at its
``last_funding_time``; for a settlement no row saw settled, the last ``predicted_funding_rate``
published before it), the change in the two legs' mids, 4 fills of fees and half the quoted
spread per fill. It is NaN until the live data reaches the exit: outcomes are
attached only when the hold window exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig, round_trip_cost_pct
from arbscore.data_tools.opportunities import (
    OpportunityConfig,
    candidate_key,
    detect_opportunities,
)
from arbscore.schema import (
    HOLD_GRID_HOURS,
    HORIZON_FEATURE_COLUMNS,
    HORIZON_WINDOWS_DAYS,
    OPPORTUNITY_FEATURE_COLUMNS,
)

HOUR_NS = 3_600 * 10**9
LEG_KEY = ("exchange", "symbol", "market")
#: days of live rows a scan reads: the longest horizon window (``data_tools.horizon``) and a
#: half-day margin, so the newest slot's 30-day statistics see the window training saw
SCAN_HISTORY_DAYS = max(HORIZON_WINDOWS_DAYS) + 0.5
FUNDING_RATE_COLUMNS = ("funding_rate", "predicted_funding_rate")


@dataclass(frozen=True)
class LiveOpportunityConfig:
    """Which candidates to build from live rows, and the costs that price them.

    ``funding_rate_column``: the perp rate the edge is measured with, ``funding_rate`` (last
    settled, as the training data) or ``predicted_funding_rate`` (the exchange's estimate for
    the next settlement).
    """

    strategies: tuple[str, ...] = ("spot_perp", "perp_perp")
    min_fund_profit_8h_pct: float = 0.0
    regime_symbol: str = "BTCUSDT"
    regime_threshold_pct: float = 5.0
    break_even_cap_hours: float = 10_000.0
    funding_rate_column: str = "funding_rate"
    costs: CostConfig = field(default_factory=CostConfig)

    def __post_init__(self) -> None:
        bad = set(self.strategies) - {"spot_perp", "perp_perp"}
        if bad or not self.strategies:
            raise ValueError(f"strategies {sorted(bad) or 'none'}: use spot_perp and/or perp_perp")
        if self.funding_rate_column not in FUNDING_RATE_COLUMNS:
            raise ValueError(
                f"funding_rate_column {self.funding_rate_column!r}: use one of "
                f"{FUNDING_RATE_COLUMNS}"
            )

    def detection(self) -> OpportunityConfig:
        """The shared detector's settings for the live scan (a candidate needs an edge above
        ``min_fund_profit_8h_pct``, every slot is an entry, unknowns stay unknown)."""
        edge = self.min_fund_profit_8h_pct
        return OpportunityConfig(
            strategies=self.strategies,
            entry_stride_minutes=None,
            spot_perp_min_fund_profit_8h_pct=edge,
            perp_perp_min_fund_profit_8h_pct=edge,
            min_edge=edge,
            regime_symbol=self.regime_symbol,
            regime_threshold_pct=self.regime_threshold_pct,
            break_even_cap_hours=self.break_even_cap_hours,
            neutral_unknowns=False,
            costs=self.costs,
        )


def _legs(live: pd.DataFrame) -> pd.DataFrame:
    legs = live.copy()
    legs["snapshot_time"] = pd.to_datetime(legs["snapshot_time"], utc=True)
    mid = (legs["bid"] + legs["ask"]) / 2.0
    legs["mid"] = mid.where(mid > 0, legs["mark_price"].fillna(legs["last_price"]))
    legs["depth"] = np.fmin(legs["bid_depth_usd"], legs["ask_depth_usd"])
    return legs


def _as_of(g: pd.DataFrame, column: str, hours: float) -> np.ndarray:
    """``column`` of this leg's last row at or before ``t - hours`` (NaN before its history)."""
    t = g["timestamp"]
    past = pd.DataFrame({"at": t - pd.Timedelta(hours=hours)})
    known = pd.DataFrame({"at": t, "value": g[column].to_numpy()})
    return pd.merge_asof(past, known, on="at", direction="backward")["value"].to_numpy()


def live_snapshot_frame(live: pd.DataFrame, rate_column: str = "funding_rate") -> pd.DataFrame:
    """Live rows as the snapshot frame :func:`detect_opportunities` reads (one row per market
    and slot), every value from that slot or earlier slots of the same market."""
    legs = _legs(live).sort_values("snapshot_time", kind="mergesort")
    perp = (legs["market"] == "perp").to_numpy()
    to_next = (pd.to_datetime(legs["next_funding_time"], utc=True) - legs["snapshot_time"]) / (
        pd.Timedelta(hours=1)
    )
    frame = pd.DataFrame(
        {
            "timestamp": legs["snapshot_time"],
            "exchange": legs["exchange"],
            "symbol": legs["symbol"],
            "market": legs["market"],
            "price": legs["mid"],
            "funding_rate": legs[rate_column].where(perp),
            "funding_interval_hours": legs["interval_hours"].where(perp),
            "hours_to_next_funding": to_next.clip(lower=0).where(perp),
            "volume_24h": legs["quote_volume_24h"],
            "realised_vol_24h_pct": np.nan,  # not measured live
            "spread_pct": legs["spread_pct"],  # the measured book, not the volume estimate
            "depth_usd": legs["depth"],
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["hourly"] = frame["funding_rate"] / frame["funding_interval_hours"]
    parts = []
    for _, g in frame.groupby(list(LEG_KEY), sort=False):
        g = g.drop_duplicates("timestamp", keep="last")
        rolled = g.set_index("timestamp")["hourly"]
        for name, window in (("24h", "24h"), ("3d", "72h")):
            # mean hourly rate over the slots seen (history: over the settlements seen)
            g[f"rate_sum_{name}"] = rolled.rolling(window).sum().to_numpy()
            g[f"interval_sum_{name}"] = rolled.rolling(window).count().to_numpy()
        g["rate_hourly_8h_ago"] = _as_of(g, "hourly", 8.0)
        g["rate_hourly_24h_ago"] = _as_of(g, "hourly", 24.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            g["return_7d_pct"] = (g["price"].to_numpy() / _as_of(g, "price", 168.0) - 1.0) * 100
        parts.append(g)
    return pd.concat(parts, ignore_index=True).drop(columns=["hourly"])


def live_opportunities(
    live: pd.DataFrame, config: LiveOpportunityConfig = LiveOpportunityConfig()
) -> pd.DataFrame:
    """Candidates of every slot in ``live`` (``live_snapshots`` rows) with their features: the
    shared detector's columns plus ``opportunity_key`` and each leg's ``hourly`` rate."""
    if live.empty:
        return pd.DataFrame()
    snapshots = live_snapshot_frame(live, config.funding_rate_column)
    opp = detect_opportunities(snapshots, config.detection())
    if opp.empty:
        return pd.DataFrame()
    for side in ("long", "short"):
        with np.errstate(invalid="ignore", divide="ignore"):
            hourly = opp[f"{side}_funding_rate_pct"] / 100.0 / opp[f"{side}_interval_hours"]
        opp[f"{side}_hourly"] = np.where(opp[f"{side}_market"] == "spot", 0.0, hourly)
    opp["opportunity_key"] = candidate_key(opp)
    return opp.sort_values(["timestamp", "opportunity_key"]).reset_index(drop=True)


#: columns of a scored-ready record (what ``records`` hands the scorer / the HTTP API)
RECORD_COLUMNS: tuple[str, ...] = (
    ("symbol", "strategy")
    + OPPORTUNITY_FEATURE_COLUMNS
    + ("basis_pct", "round_trip_cost_pct")
    + HORIZON_FEATURE_COLUMNS
)


def records(opp: pd.DataFrame) -> list[dict]:
    """Opportunity rows as snake_case dicts for ``Scorer.predict_records`` (None for NaN)."""
    cols = [c for c in RECORD_COLUMNS if c in opp.columns]
    out = []
    for row in opp[cols].itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row, strict=True):
            if v is None or (isinstance(v, float) and not np.isfinite(v)):
                continue
            rec[c] = v.item() if hasattr(v, "item") else v
        out.append(rec)
    return out


# --- realised outcomes --------------------------------------------------------------------------
def _ns(values) -> np.ndarray:
    """UTC times as int64 nanoseconds whatever unit pandas stored them in."""
    return pd.to_datetime(pd.Series(values), utc=True).dt.as_unit("ns").astype("int64").to_numpy()


@dataclass
class _Series:
    times: np.ndarray  # slot times, int64 ns, sorted
    mid: np.ndarray
    spread: np.ndarray
    settle_times: np.ndarray  # settlement times observed (ns), sorted
    settle_cum: np.ndarray  # cumulative settled rate (decimal), len = len(settle_times) + 1


def _series(legs: pd.DataFrame) -> dict[tuple, _Series]:
    out = {}
    for key, g in legs.sort_values("snapshot_time").groupby(list(LEG_KEY), sort=False):
        times = _ns(g["snapshot_time"])
        settle_t, settle_r = np.empty(0, np.int64), np.empty(0)
        if key[2] == "perp":
            # settled rates where a row saw them; else the last prediction before settling
            events = _settlements(g, "next_funding_time", "predicted_funding_rate", times.max())
            events.update(_settlements(g, "last_funding_time", "funding_rate", times.max()))
            settle_t = np.array(sorted(events), dtype=np.int64)
            settle_r = np.array([events[t] for t in settle_t], dtype=np.float64)
        out[key] = _Series(
            times,
            g["mid"].to_numpy(float),
            g["spread_pct"].fillna(0).to_numpy(float),
            settle_t,
            np.concatenate([[0.0], np.cumsum(settle_r)]),
        )
    return out


def _settlements(g: pd.DataFrame, time_col: str, rate_col: str, until_ns: int) -> dict:
    """settlement time (ns) -> rate from one leg's rows (the last row per time wins); only
    settlements the data has seen happen (<= ``until_ns``). Empty where a column is absent."""
    if time_col not in g or rate_col not in g:
        return {}
    f = g.dropna(subset=[time_col, rate_col])
    f = f.assign(_t=_ns(f[time_col]))
    f = f[f["_t"] <= until_ns].drop_duplicates("_t", keep="last")
    return dict(zip(f["_t"].tolist(), f[rate_col].astype(float).tolist(), strict=True))


def _leg_path(s: _Series, t0: np.ndarray, t1: np.ndarray):
    """Entry/exit mid and spread and settled funding in (t0, t1]; NaN where data ends early."""
    i0 = np.searchsorted(s.times, t0, side="left")
    i1 = np.searchsorted(s.times, t1, side="left")  # first slot at or after the exit time
    ok = (i0 < s.times.size) & (i1 < s.times.size)
    i0c, i1c = np.minimum(i0, s.times.size - 1), np.minimum(i1, s.times.size - 1)
    ok &= s.times[i0c] == t0
    funding = (
        s.settle_cum[np.searchsorted(s.settle_times, t1, side="right")]
        - s.settle_cum[np.searchsorted(s.settle_times, t0, side="right")]
    )
    nan = np.where(ok, 1.0, np.nan)
    return s.mid[i0c] * nan, s.mid[i1c] * nan, s.spread[i0c], s.spread[i1c], funding


def realise(
    opp: pd.DataFrame,
    live: pd.DataFrame,
    hold_hours: np.ndarray | float,
    costs: CostConfig | None = None,
) -> np.ndarray:
    """Net realised PnL (% of notional) of each row of ``opp`` held ``hold_hours``; NaN where
    the live data does not reach entry + hold yet (or misses a leg at entry)."""
    if opp.empty:
        return np.empty(0)
    costs = costs or CostConfig()
    series = _series(_legs(live))
    hold = np.broadcast_to(np.asarray(hold_hours, np.float64), (len(opp),))
    t0 = _ns(opp["timestamp"])
    t1 = t0 + np.round(hold * HOUR_NS).astype(np.int64)
    result = np.full(len(opp), np.nan)
    keys = ["long_exchange", "symbol", "long_market", "short_exchange", "short_market"]
    for (le, sym, lm, se, sm), idx in opp.groupby(keys, sort=False).indices.items():
        ls, ss = series.get((le, sym, lm)), series.get((se, sym, sm))
        if ls is None or ss is None:
            continue
        l0, l1, lsp0, lsp1, lf = _leg_path(ls, t0[idx], t1[idx])
        s0, s1, ssp0, ssp1, sf = _leg_path(ss, t0[idx], t1[idx])
        price = ((l1 / l0 - 1.0) - (s1 / s0 - 1.0)) * 100.0
        funding = (sf - (lf if lm == "perp" else 0.0)) * 100.0
        fees = round_trip_cost_pct(costs, le, lm, se, sm, 0.0, 0.0)[0]  # fees only
        spread = (lsp0 + lsp1 + ssp0 + ssp1) / 2.0
        result[idx] = funding + price - fees - spread
    return result


def realised_optimal_hold(
    opp: pd.DataFrame,
    live: pd.DataFrame,
    holds: Sequence[float] = HOLD_GRID_HOURS,
    costs: CostConfig | None = None,
) -> np.ndarray:
    """The grid hold with the best realised PnL, NaN until the data covers the longest hold."""
    costs = costs or CostConfig()
    grid = np.column_stack([realise(opp, live, h, costs) for h in holds])
    done = np.isfinite(grid).all(axis=1)
    best = np.asarray(holds, float)[np.argmax(np.where(np.isfinite(grid), grid, -np.inf), axis=1)]
    return np.where(done, best, np.nan)
