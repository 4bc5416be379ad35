"""Live snapshots (``arbscore live``) -> scored-ready opportunities, and their realised outcomes.

``live_opportunities`` turns the order-book/funding rows of each slot into the same candidate
trades the training pipeline detects (``spot_perp``: long spot, short perp on one exchange,
positive funding; ``perp_perp``: long the lower-funded perp, short the higher across
exchanges), with the SPEC's feature names in percent units. Live rows carry a real order book,
so ``bid_ask_spread``/``orderbook_depth`` are measured, not estimated. Trailing projections
(24 h, 3 d) and the spread CV use only earlier live rows of the same candidate (no look-ahead).

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
from arbscore.data_tools.opportunities import candidate_key, market_regime, pair_features
from arbscore.schema import HOLD_GRID_HOURS, OPPORTUNITY_FEATURE_COLUMNS

HOUR_NS = 3_600 * 10**9
LEG_KEY = ("exchange", "symbol", "market")


@dataclass(frozen=True)
class LiveOpportunityConfig:
    """Which candidates to build from live rows, and the costs that price them."""

    strategies: tuple[str, ...] = ("spot_perp", "perp_perp")
    min_fund_profit_8h_pct: float = 0.0
    regime_symbol: str = "BTCUSDT"
    regime_threshold_pct: float = 5.0
    break_even_cap_hours: float = 10_000.0
    costs: CostConfig = field(default_factory=CostConfig)

    def __post_init__(self) -> None:
        bad = set(self.strategies) - {"spot_perp", "perp_perp"}
        if bad or not self.strategies:
            raise ValueError(f"strategies {sorted(bad) or 'none'}: use spot_perp and/or perp_perp")


def _legs(live: pd.DataFrame) -> pd.DataFrame:
    legs = live.copy()
    legs["snapshot_time"] = pd.to_datetime(legs["snapshot_time"], utc=True)
    mid = (legs["bid"] + legs["ask"]) / 2.0
    legs["mid"] = mid.where(mid > 0, legs["mark_price"].fillna(legs["last_price"]))
    legs["depth"] = np.fmin(legs["bid_depth_usd"], legs["ask_depth_usd"])
    hourly = legs["funding_rate"] / legs["interval_hours"]
    legs["hourly"] = np.where(legs["market"] == "perp", hourly, 0.0)
    return legs


def _pairs(legs: pd.DataFrame, config: LiveOpportunityConfig) -> pd.DataFrame:
    """One row per candidate and slot with ``long_*``/``short_*`` leg columns."""
    cols = [
        "snapshot_time",
        "exchange",
        "symbol",
        "market",
        "mid",
        "spread_pct",
        "depth",
        "quote_volume_24h",
        "hourly",
        "funding_rate",
        "next_funding_time",
    ]
    perp = legs.loc[legs["market"] == "perp", cols].dropna(subset=["hourly"])
    spot = legs.loc[legs["market"] == "spot", cols]
    out = []
    if "spot_perp" in config.strategies:
        sp = spot.merge(perp, on=["snapshot_time", "exchange", "symbol"], suffixes=("_l", "_s"))
        sp = sp[sp["hourly_s"] > 0].assign(strategy="spot_perp")
        out.append(sp)
    if "perp_perp" in config.strategies:
        pp = perp.merge(perp, on=["snapshot_time", "symbol"], suffixes=("_l", "_s"))
        pp = pp[(pp["exchange_l"] != pp["exchange_s"]) & (pp["hourly_s"] > pp["hourly_l"])]
        pp = pp.assign(strategy="perp_perp")
        out.append(pp)
    frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    if frame.empty:
        return frame
    # spot_perp rows share one exchange column (the join key); perp_perp rows have one per leg
    one = frame["exchange"] if "exchange" in frame else pd.Series(None, index=frame.index)
    for side in ("exchange_l", "exchange_s"):
        frame[side] = frame[side].fillna(one) if side in frame else one
    ren = {
        f"{c}_{s}": f"{side}_{c}" for c in cols[1:] for s, side in (("l", "long"), ("s", "short"))
    }
    return frame.rename(columns=ren).drop(columns=["exchange"], errors="ignore")


def live_opportunities(
    live: pd.DataFrame, config: LiveOpportunityConfig = LiveOpportunityConfig()
) -> pd.DataFrame:
    """Candidates of every slot in ``live`` (``live_snapshots`` rows) with their features."""
    if live.empty:
        return pd.DataFrame()
    legs = _legs(live)
    opp = _pairs(legs, config)
    if opp.empty:
        return opp
    edge = (opp["short_hourly"] - opp["long_hourly"]).to_numpy(np.float64)
    opp["timestamp"] = opp["snapshot_time"]
    opp["fund_profit_8h"] = edge * 8 * 100.0
    opp = opp[opp["fund_profit_8h"] > config.min_fund_profit_8h_pct].copy()
    # the one round trip (data_tools.costs): four fills, half the live spread on each
    cost = pd.Series(
        round_trip_cost_pct(
            config.costs,
            opp["long_exchange"].to_numpy(),
            opp["long_market"].to_numpy(),
            opp["short_exchange"].to_numpy(),
            opp["short_market"].to_numpy(),
            opp["long_spread_pct"].fillna(0).to_numpy(np.float64),
            opp["short_spread_pct"].fillna(0).to_numpy(np.float64),
        ),
        index=opp.index,
    )
    opp = pair_features(
        opp,
        cost,
        volume="quote_volume_24h",
        depth="depth",
        liquidity=config.costs.liquidity,
        break_even_cap_hours=config.break_even_cap_hours,
    )
    opp["basis_pct"] = (opp["short_mid"] / opp["long_mid"] - 1.0) * 100.0
    opp = _trailing(opp)
    opp = _btc_context(opp, legs, config)
    opp["opportunity_key"] = candidate_key(opp)
    return opp.sort_values(["timestamp", "opportunity_key"]).reset_index(drop=True)


def _trailing(opp: pd.DataFrame) -> pd.DataFrame:
    """24 h / 3 d projections from the candidate's own earlier slots; spread CV over 3 d."""
    keys = ["strategy", "symbol", "long_exchange", "long_market", "short_exchange", "short_market"]
    opp = opp.sort_values("timestamp", kind="mergesort")
    parts = []
    for _, g in opp.groupby(keys, sort=False):
        g = g.set_index("timestamp", drop=False)
        hourly = g["fund_profit_8h"] / 8.0
        g["fund_profit_24h_proj"] = hourly.rolling("24h").mean().to_numpy() * 24.0
        g["fund_profit_3d_proj"] = hourly.rolling("72h").mean().to_numpy() * 72.0
        basis = g["basis_pct"].rolling("72h", min_periods=3)
        g["spread_volatility_cv"] = (
            (basis.std() / (basis.mean().abs() + 1e-9)).clip(0, 100).to_numpy()
        )
        parts.append(g.reset_index(drop=True))
    return pd.concat(parts, ignore_index=True)


def _btc_context(
    opp: pd.DataFrame, legs: pd.DataFrame, config: LiveOpportunityConfig
) -> pd.DataFrame:
    btc = legs[(legs["symbol"] == config.regime_symbol)].sort_values(
        ["snapshot_time", "market", "exchange"], ascending=[True, False, True]
    )
    btc = btc.drop_duplicates("snapshot_time")[["snapshot_time", "mid"]].set_index("snapshot_time")
    if btc.empty:
        return opp
    price = btc["mid"]
    week_ago = price.reindex(price.index - pd.Timedelta(hours=168), method="pad")
    ret = (price.to_numpy() / week_ago.to_numpy() - 1.0) * 100.0
    regime = market_regime(ret, config.regime_threshold_pct)
    regime = np.where(np.isfinite(ret), regime, None)
    ctx = pd.DataFrame(
        {"timestamp": price.index, "btc_price": price.to_numpy(), "market_regime": regime}
    )
    return opp.merge(ctx, on="timestamp", how="left")


#: columns of a scored-ready record (what ``records`` hands the scorer / the HTTP API)
RECORD_COLUMNS: tuple[str, ...] = (
    ("symbol", "strategy") + OPPORTUNITY_FEATURE_COLUMNS + ("basis_pct", "round_trip_cost_pct")
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
