"""A straightforward per-position Python loop simulator: the oracle for the vectorised one.

Written from the SPEC's words, independently of ``arbscore.data_tools.simulate``: for one
position it walks the 5-minute path step by step, looks prices up with ``bisect`` in the raw
klines and adds each funding settlement as the path passes it. Slow on purpose (used by the
tests on small markets and by ``benchmarks/simulate.py`` on a sample, for the speed-up).
"""

from __future__ import annotations

import bisect
import math

import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.market import MarketData

MIN = 60_000
HOUR = 3_600_000
SIDES = ("long", "short")


class LoopMarket:
    """Raw klines and funding events as sorted Python lists per series."""

    def __init__(self, market: MarketData) -> None:
        self.closes: dict[tuple, tuple[list[int], list[float]]] = {}
        for key, k in market.klines.groupby(["exchange", "symbol", "market"]):
            k = k.sort_values("open_time")
            opens = k["open_time"].astype("datetime64[ms, UTC]").astype("int64").tolist()
            ends = [o + int(m) * MIN for o, m in zip(opens, k["interval_minutes"], strict=True)]
            self.closes[key] = (ends, [float(c) for c in k["close"]])
        self.events: dict[tuple, list[tuple[int, float, float, float]]] = {}
        for (ex, sym), f in market.funding.groupby(["exchange", "symbol"]):
            raw = f["funding_time"].astype("datetime64[ms, UTC]").astype("int64").tolist()
            rows = []
            for t, rate, iv, mark in zip(
                raw, f["rate"], f["interval_hours"], f["mark_price"], strict=True
            ):
                rows.append((t, float(rate), float(iv), float(mark)))
            rows.sort()
            self.events[(ex, sym)] = rows

    def price(self, key: tuple, t: int) -> float:
        """Close of the last candle closed at or before ``t``."""
        ends, closes = self.closes[key]
        i = bisect.bisect_right(ends, t) - 1
        return closes[i] if i >= 0 else math.nan

    def covered_until(self, key: tuple) -> int:
        ends, _ = self.closes[key]
        end = ends[-1]
        if key[2] == "perp":
            t, _, iv, _ = self.events[key[:2]][-1]
            end = min(end, t + int(iv * HOUR) - 1)
        return end

    def settlements(self, key: tuple) -> list[tuple[int, float]]:
        """(time, per-unit payment = settlement price x rate) of a perp's events."""
        out = []
        for t, rate, _, mark in self.events.get(key[:2], []):
            price = mark if (mark == mark and mark > 0) else self.price(key, t)
            out.append((t, (0.0 if price != price else price) * rate))
        return out


def _tier(costs: CostConfig, depth: float) -> float:
    ratio = costs.position_size_usd / max(depth, 1e-9)
    for bound, mult in zip(costs.slippage.bounds, costs.slippage.multipliers, strict=False):
        if ratio < bound:
            return mult
    return costs.slippage.multipliers[-1]


def _value_path(lm: LoopMarket, opp: dict, costs: CostConfig, steps: int, step_ms: int) -> list:
    """[(value_usd, funding_usd, fees_usd, slippage_usd, count)] for steps 1..steps."""
    n = costs.position_size_usd
    t0 = int(pd.Timestamp(opp["timestamp"]).value // 1_000_000)
    legs = {}
    for side in ("long", "short"):
        key = (opp[f"{side}_exchange"], opp["symbol"], opp[f"{side}_market"])
        fee = costs.fees.rate(key[0], key[2])
        tier = _tier(costs, opp[f"{side}_orderbook_depth"])
        slip = opp[f"{side}_bid_ask_spread"] / 100 / 2 * tier
        p0 = lm.price(key, t0)
        events = lm.settlements(key) if key[2] == "perp" else []
        legs[side] = {
            "key": key,
            "fee": fee,
            "slip": slip,
            "p0": p0,
            "q": n / p0,
            "events": [e for e in events if e[0] > t0],
            "next": 0,
        }
    out = []
    funding_usd = 0.0
    count = 0
    for k in range(1, steps + 1):
        t = t0 + k * step_ms
        for side, sign in (("long", -1.0), ("short", 1.0)):
            leg = legs[side]
            while leg["next"] < len(leg["events"]) and leg["events"][leg["next"]][0] <= t:
                funding_usd += sign * leg["q"] * leg["events"][leg["next"]][1]
                count += 1
                leg["next"] += 1
        pnl = 0.0
        fees = 0.0
        slippage = 0.0
        for side, sign in (("long", 1.0), ("short", -1.0)):
            leg = legs[side]
            price = lm.price(leg["key"], t)
            pnl += sign * leg["q"] * (price - leg["p0"])
            exit_notional = leg["q"] * price
            fees += n * leg["fee"] + exit_notional * leg["fee"]
            slippage += n * leg["slip"] + exit_notional * leg["slip"]
        out.append((pnl + funding_usd - fees - slippage, funding_usd, fees, slippage, count))
    return out


def simulate_loop(
    market: MarketData | LoopMarket,
    opportunities: pd.DataFrame,
    costs: CostConfig,
    holds_hours: tuple[int, ...],
    horizon_hours: int,
    step_minutes: int = 5,
    full_horizon_only: bool = True,
) -> pd.DataFrame:
    """Labels for every (opportunity, hold that fits), one position at a time."""
    lm = market if isinstance(market, LoopMarket) else LoopMarket(market)
    n = costs.position_size_usd
    step_ms = step_minutes * MIN
    rows = []
    for opp in opportunities.to_dict("records"):
        t0 = int(pd.Timestamp(opp["timestamp"]).value // 1_000_000)
        keys = [(opp[f"{s}_exchange"], opp["symbol"], opp[f"{s}_market"]) for s in SIDES]
        if any(k not in lm.closes or (k[2] == "perp" and k[:2] not in lm.events) for k in keys):
            continue
        covered = min(lm.covered_until(k) for k in keys)
        horizon = horizon_hours * 60 // step_minutes
        if full_horizon_only and t0 + horizon * step_ms > covered:
            continue
        fit = min(horizon, (covered - t0) // step_ms)
        if fit <= 0 or any(math.isnan(lm.price(k, t0)) for k in keys):
            continue
        # the optimum: one walk over the whole horizon that fits
        best_path = _value_path(lm, opp, costs, fit, step_ms)
        best_k = max(range(fit), key=lambda i: (best_path[i][0], -i))
        for hours in holds_hours:
            steps = hours * 60 // step_minutes
            if steps > fit:
                continue
            path = _value_path(lm, opp, costs, steps, step_ms)  # each hold walked on its own
            values = [p[0] for p in path]
            value, funding_usd, fees, slippage, count = path[-1]
            rows.append(
                {
                    "opportunity_id": opp["opportunity_id"],
                    "hold_hours": hours,
                    "actual_profit_pct": value / n * 100,
                    "actual_profit_usd": value,
                    "was_profitable": value > 0,
                    "peak_profit": max(values) / n * 100,
                    "max_drawdown": min(values) / n * 100,
                    "funding_payments_count": count,
                    "total_funding_earned_usd": funding_usd,
                    "total_slippage_pct": slippage / n * 100,
                    "total_fees_usd": fees,
                    "optimal_hold_hours": (best_k + 1) * step_minutes / 60,
                    "best_profit_pct": best_path[best_k][0] / n * 100,
                }
            )
    return pd.DataFrame(rows)
