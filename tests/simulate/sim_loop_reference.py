"""A straightforward per-position Python loop simulator: the oracle for the vectorised one.

Written from the SPEC's words, independently of ``arbscore.data_tools.simulate``: for one
position it walks the path point by point (every 5 minutes to 168 h, every hour beyond), looks
prices up with ``bisect`` in the raw klines, adds each funding settlement as the path passes it,
checks each candle's high/low against the perp legs' liquidation prices (or a unified
spot_perp account's equity) as it closes -- a liquidation closes the hedge at the same instant
and ends the position -- and applies the signal exit rule at every settlement. Slow on purpose
(used by the tests on small markets and by ``benchmarks/simulate.py`` on a sample, for the
speed-up).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.exit_rule import SignalExitConfig
from arbscore.data_tools.liquidity import abdi_ranaldo_spread_terms, corwin_schultz_spreads
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.market import MarketData

MIN = 60_000
HOUR = 3_600_000
SIDES = ("long", "short")
FINE_HOURS = 168


class LoopMarket:
    """Raw klines and funding events as sorted Python lists per series."""

    def __init__(self, market: MarketData) -> None:
        self.candles: dict[tuple, list[tuple[int, float, float, float, float]]] = {}
        self.ends: dict[tuple, list[int]] = {}
        for key, k in market.klines.groupby(["exchange", "symbol", "market"]):
            k = k.sort_values("open_time")
            opens = k["open_time"].astype("datetime64[ms, UTC]").astype("int64").tolist()
            rows = []
            for o, m, c, h, lo, qv, v in zip(
                opens,
                k["interval_minutes"],
                k["close"],
                k["high"],
                k["low"],
                k["quote_volume"],
                k["volume"],
                strict=True,
            ):
                quote = float(qv) if qv == qv else float(v) * float(c)
                rows.append((o + int(m) * MIN, float(c), float(h), float(lo), quote))
            self.candles[key] = rows
            self.ends[key] = [r[0] for r in rows]
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
        i = bisect.bisect_right(self.ends[key], t) - 1
        return self.candles[key][i][1] if i >= 0 else math.nan

    def closed_between(self, key: tuple, a: int, b: int) -> list[tuple]:
        """Candles with close in (a, b]."""
        ends = self.ends[key]
        return self.candles[key][bisect.bisect_right(ends, a) : bisect.bisect_right(ends, b)]

    def volume_24h(self, key: tuple, t: int) -> float:
        return sum(c[4] for c in self.closed_between(key, t - 24 * HOUR, t))

    def volatility_pct(self, key: tuple, t: int) -> float:
        """Std of the log returns of candles closed in (t - 24 h, t] whose previous candle
        closed there too, scaled to 24 h (percent); NaN with fewer than 2."""
        ends = self.ends[key]
        lo = bisect.bisect_right(ends, t - 24 * HOUR)
        hi = bisect.bisect_right(ends, t)
        rows = self.candles[key]
        rets = [math.log(rows[i][1] / rows[i - 1][1]) for i in range(max(lo + 1, 1), hi)]
        if len(rets) < 2:
            return math.nan
        return float(np.std(rets, ddof=1) * math.sqrt(len(rets)) * 100)

    def _spread_terms(self, key: tuple, estimator: str) -> np.ndarray:
        """The estimator's per-pair terms of a series (computed once per series)."""
        cache = self.__dict__.setdefault("_terms", {})
        if (key, estimator) not in cache:
            rows = self.candles[key]
            close = np.array([c[1] for c in rows])
            high = np.array([c[2] for c in rows])
            low = np.array([c[3] for c in rows])
            with np.errstate(invalid="ignore", divide="ignore"):
                if estimator == "abdi_ranaldo":
                    cache[(key, estimator)] = abdi_ranaldo_spread_terms(close, high, low)
                else:
                    cache[(key, estimator)] = corwin_schultz_spreads(high, low)
        return cache[(key, estimator)]

    def spread_pct(self, key: tuple, t: int, model) -> float:
        """The candle spread estimate over pairs closed in (t - window, t], clipped."""
        ends = self.ends[key]
        lo = bisect.bisect_right(ends, t - int(model.spread_window_hours * HOUR))
        hi = bisect.bisect_right(ends, t)
        terms = self._spread_terms(key, model.spread_estimator)[lo:hi]
        terms = terms[np.isfinite(terms)]
        if len(terms) < 3:
            return model.max_spread_pct
        mean = float(np.mean(terms))
        spread = math.sqrt(max(mean, 0.0)) if model.spread_estimator == "abdi_ranaldo" else mean
        return min(max(spread * 100, model.min_spread_pct), model.max_spread_pct)

    def covered_until(self, key: tuple) -> int:
        end = self.ends[key][-1]
        if key[2] == "perp":
            t, _, iv, _ = self.events[key[:2]][-1]
            end = min(end, t + int(iv * HOUR) - 1)
        return end

    def settlements(self, key: tuple) -> list[tuple[int, float, float]]:
        """(time, per-unit payment = settlement price x rate, rate) of a perp's events."""
        out = []
        for t, rate, _, mark in self.events.get(key[:2], []):
            price = mark if (mark == mark and mark > 0) else self.price(key, t)
            out.append((t, (0.0 if price != price else price) * rate, rate))
        return out


def _entry_slip(spread_pct: float, impact_pct: float) -> float:
    """Half the entry's spread plus its impact, as fractions."""
    return spread_pct / 100 / 2 + impact_pct / 100


def _points(horizon_hours: int, step_minutes: int) -> list[int]:
    """Minutes after entry of the path points."""
    fine = min(horizon_hours, FINE_HOURS) * 60
    out = list(range(step_minutes, fine + 1, step_minutes))
    return out + list(range(fine + 60, horizon_hours * 60 + 1, 60))


def _grid_time(t: int, step_ms: int) -> int:
    """First grid time at or after ``t`` (the grid is aligned on multiples of the step)."""
    return -(-t // step_ms) * step_ms


def _landing(lm, key, a, b, step_ms) -> dict[int, tuple[float, float]]:
    """Grid time -> (highest high, lowest low) of ``key``'s candles closed in (a, b]."""
    out: dict[int, tuple[float, float]] = {}
    for c in lm.closed_between(key, a, b):
        g = _grid_time(c[0], step_ms)
        hi, lo = out.get(g, (-math.inf, math.inf))
        out[g] = (max(hi, c[2]), min(lo, c[3]))
    return out


def _liquidation(lm, legs, margin, unified, n, a, b, step_ms, liq_price):
    """First liquidation with a candle closed in (a, b]: (grid time, {side: exit price}) or
    None. Isolated legs against their own liquidation price, a unified spot_perp account
    against its equity (``data_tools.margin``'s formulas, written out here)."""
    ext = {s: _landing(lm, legs[s]["key"], a, b, step_ms) for s in SIDES}
    lev = margin.leverage
    for g in sorted(set(ext["long"]) | set(ext["short"])):
        short, long = legs["short"], legs["long"]
        hit = {}
        if unified:
            if g in ext["short"]:
                ph = ext["short"][g][0]
                if g in ext["long"]:
                    r = ext["long"][g][0] / ph
                else:
                    r = lm.price(long["key"], g) / lm.price(short["key"], g)
                h, m = margin.spot_collateral_haircut, short["mmr"]
                div = short["q"] * (1 + m) - long["q"] * r * (1 - h)
                if div > 0:
                    p_liq = (n / lev + short["q"] * short["p0"]) / div
                    if ph >= p_liq:
                        hit["short"] = p_liq
        else:
            for side in SIDES:
                leg = legs[side]
                if leg["perp"] and g in ext[side]:
                    hi, lo = ext[side][g]
                    liq = liq_price(side, g)
                    if (side == "short" and hi >= liq) or (side == "long" and lo <= liq):
                        hit[side] = liq
        if not hit:
            continue
        prices = dict(hit)
        if len(hit) == 1:
            (side,) = hit
            other = "long" if side == "short" else "short"
            j = 0 if side == "short" else 1  # highs for a short's liquidation, lows for a long's
            if g in ext[other]:
                ratio = ext[other][g][j] / ext[side][g][j]
            else:
                ratio = lm.price(legs[other]["key"], g) / lm.price(legs[side]["key"], g)
            prices[other] = hit[side] * ratio
        return g, prices, set(hit)
    return None


def _walk(lm, opp, costs, margin, signal, minutes, cap_minutes, delay_minutes, step_minutes):
    """The path: one dict per point with value, funding, fees, slippage, price PnL, count,
    liquidated, hours (the liquidation's where liquidated), plus the signal exit point."""
    n = costs.position_size_usd
    step_ms = step_minutes * MIN
    t0 = int(pd.Timestamp(opp["timestamp"]).value // 1_000_000)
    legs = {}
    for side in SIDES:
        key = (opp[f"{side}_exchange"], opp["symbol"], opp[f"{side}_market"])
        spread, impact = opp[f"{side}_bid_ask_spread"], opp[f"{side}_impact_pct"]
        p0 = lm.price(key, t0)
        mmr = margin.maintenance_rate(key[0])
        lev = margin.leverage
        sign = 1.0 if side == "short" else -1.0  # short: liquidated above, long: below
        liq = p0 * (1 + sign / lev) / (1 + sign * mmr)
        legs[side] = {
            "key": key,
            "perp": key[2] == "perp",
            "fee_in": costs.fees.rate(key[0], key[2], "entry"),
            "fee_out": costs.fees.rate(key[0], key[2], "exit"),
            "slip_in": _entry_slip(spread, impact),
            "p0": p0,
            "q": n / p0,
            "mmr": mmr,
            "liq": liq,
            "events": lm.settlements(key) if key[2] == "perp" else [],
        }
    unified = (
        margin.spot_perp_account == "unified"
        and legs["long"]["key"][2] == "spot"
        and legs["short"]["key"][2] == "perp"
        and legs["long"]["key"][0] == legs["short"]["key"][0]
    )

    rebalance = margin.cross_venue_rebalance_hours
    both_perp = legs["long"]["perp"] and legs["short"]["perp"]

    def liq_price(side, g):
        """The leg's liquidation price for a candle landing at grid time ``g``: isolated, or
        after the last cross-venue rebalance (half the pair's equity on each leg)."""
        leg = legs[side]
        if rebalance is None or not both_perp:
            return leg["liq"]
        every = int(rebalance * 60 / step_minutes)
        j = ((g - t0) // step_ms - 1) // every
        t_r = t0 + j * every * step_ms
        long, short = legs["long"], legs["short"]
        p_l, p_s = lm.price(long["key"], t_r), lm.price(short["key"], t_r)
        pnl = long["q"] * (p_l - long["p0"]) - short["q"] * (p_s - short["p0"])
        half = n / margin.leverage + pnl / 2
        if side == "short":
            return (half + short["q"] * p_s) / (short["q"] * (1 + short["mmr"]))
        return (long["q"] * p_l - half) / (long["q"] * (1 - long["mmr"]))

    def exit_slip(key, t):
        model = costs.liquidity
        vol = lm.volatility_pct(key, t)
        vol = model.fallback_volatility_pct if vol != vol else vol
        volume = lm.volume_24h(key, t)
        impact = (
            model.impact_coefficient * vol / 100 * math.sqrt(n / volume) if volume > 0 else math.inf
        )
        impact = min(impact, model.max_impact_pct / 100)
        return lm.spread_pct(key, t, model) / 100 / 2 + impact

    def point_at(t, prices=None, liquidated=(), hedge_t=None):
        funding = 0.0
        count = 0
        for side, sign in (("long", -1.0), ("short", 1.0)):
            leg = legs[side]
            for te, pay, _ in leg["events"]:
                if t0 < te <= t:
                    funding += sign * leg["q"] * pay
                    count += 1
        pnl = fees = slippage = 0.0
        for side, sign in (("long", 1.0), ("short", -1.0)):
            leg = legs[side]
            fees += n * leg["fee_in"]
            slippage += n * leg["slip_in"]
            if side in liquidated:
                price = prices[side]
                fees += leg["q"] * price * margin.liquidation_fee_rate
            else:
                at = t if hedge_t is None else hedge_t
                price = prices[side] if prices else lm.price(leg["key"], at)
                fees += leg["q"] * price * leg["fee_out"]
                slippage += leg["q"] * price * exit_slip(leg["key"], at)
            pnl += sign * leg["q"] * (price - leg["p0"])
        return {
            "value": pnl + funding - fees - slippage,
            "funding": funding,
            "fees": fees,
            "slippage": slippage,
            "price_pnl": pnl,
            "count": count,
            "liquidated": bool(liquidated),
            "hours": (t - t0) / HOUR,
        }

    out = []
    frozen = None
    signal_at = None
    prev = t0
    for i, minute in enumerate(minutes):
        t = t0 + minute * MIN
        if frozen is not None:
            out.append(frozen)
            prev = t
            continue
        found = _liquidation(lm, legs, margin, unified, n, prev, t, step_ms, liq_price)
        if found is not None:
            g, prices, hit = found
            if delay_minutes:
                hedge_t = g + delay_minutes * MIN
                for side in SIDES:
                    if side not in hit:
                        prices[side] = lm.price(legs[side]["key"], hedge_t)
            else:
                hedge_t = g
            point = point_at(g, prices, hit, hedge_t)
        else:
            point = point_at(t)
        liquidated = point["liquidated"]
        out.append(point)
        if signal_at is None:
            if liquidated or minute >= cap_minutes:
                signal_at = i
            else:
                settled = any(prev < te <= t for side in SIDES for te, _, _ in legs[side]["events"])
                if settled:
                    w = signal.window_hours * HOUR
                    edge = sum(r for te, _, r in legs["short"]["events"] if t - w < te <= t)
                    edge -= sum(r for te, _, r in legs["long"]["events"] if t - w < te <= t)
                    if edge * 100 <= signal.exit_edge_pct:
                        signal_at = i
        if liquidated:
            frozen = point
        prev = t
    return out, signal_at


def simulate_loop(
    market: MarketData | LoopMarket,
    opportunities: pd.DataFrame,
    costs: CostConfig,
    holds_hours: tuple[int, ...],
    horizon_hours: int,
    step_minutes: int = 5,
    full_horizon_only: bool = True,
    margin: MarginConfig | None = None,
    signal: SignalExitConfig | None = None,
    marks: list | None = None,
    hedge_close_delay_minutes: int = 0,
    estimated: frozenset = frozenset(),
) -> pd.DataFrame:
    """Labels for every (opportunity, hold that fits), one position at a time.

    ``marks``: a list to append the daily marks' rows to (dicts of ``schema.MARK_COLUMNS``).
    """
    lm = market if isinstance(market, LoopMarket) else LoopMarket(market)
    margin = margin or MarginConfig()
    signal = signal or SignalExitConfig()
    n = costs.position_size_usd
    minutes = _points(horizon_hours, step_minutes)
    cap_hours = signal.max_hold_hours or max(holds_hours)
    cap_minutes = min(cap_hours, horizon_hours) * 60
    rows = []
    for opp in opportunities.to_dict("records"):
        t0 = int(pd.Timestamp(opp["timestamp"]).value // 1_000_000)
        keys = [(opp[f"{s}_exchange"], opp["symbol"], opp[f"{s}_market"]) for s in SIDES]
        if any(k not in lm.candles or (k[2] == "perp" and k[:2] not in lm.events) for k in keys):
            continue
        covered = min(lm.covered_until(k) for k in keys)
        if full_horizon_only and t0 + horizon_hours * HOUR > covered:
            continue
        fit = [m for m in minutes if t0 + m * MIN <= covered]
        if not fit or any(math.isnan(lm.price(k, t0)) for k in keys):
            continue
        if not full_horizon_only and t0 + min(holds_hours) * HOUR > covered:
            continue
        path, signal_at = _walk(
            lm,
            opp,
            costs,
            margin,
            signal,
            fit,
            cap_minutes,
            hedge_close_delay_minutes,
            step_minutes,
        )
        values = [p["value"] for p in path]
        best_k = max(range(len(fit)), key=lambda i: (values[i], -i))
        capital = sum(n / margin.leverage if k[2] == "perp" else n for k in keys)
        sig = path[signal_at] if signal_at is not None else None
        sig_hours = sig["hours"] if sig is not None else math.nan
        sig_value = sig["value"] if sig is not None else math.nan
        oid = int(
            pd.util.hash_array(np.array([str(opp["opportunity_id"])], object)).view(np.int64)[0]
        )
        estimated_price = any(k in estimated for k in keys)
        if marks is not None:
            for day in range(1, 31):
                if day * 24 * 60 in fit:
                    p = path[fit.index(day * 24 * 60)]
                    marks.append(
                        {
                            "opportunity_id": oid,
                            "day": day,
                            "mark_pct": p["value"] / n * 100,
                            "funding_pct": p["funding"] / n * 100,
                        }
                    )
        for hours in holds_hours:
            if hours * 60 not in fit:
                continue
            end = fit.index(hours * 60)
            p = path[end]
            rows.append(
                {
                    "opportunity_id": oid,
                    "hold_hours": hours,
                    "actual_hold_hours": p["hours"],
                    "actual_profit_pct": p["value"] / n * 100,
                    "actual_profit_usd": p["value"],
                    "was_profitable": p["value"] > 0,
                    "peak_profit": max(values[: end + 1]) / n * 100,
                    "max_drawdown": min(values[: end + 1]) / n * 100,
                    "funding_payments_count": p["count"],
                    "total_funding_earned_usd": p["funding"],
                    "total_slippage_pct": p["slippage"] / n * 100,
                    "total_fees_usd": p["fees"],
                    "liquidated": p["liquidated"],
                    "capital_usd": capital,
                    "return_on_capital_pct": p["value"] / capital * 100,
                    "funding_pct": p["funding"] / n * 100,
                    "fees_pct": p["fees"] / n * 100,
                    "slippage_pct": p["slippage"] / n * 100,
                    "price_pnl_pct": p["price_pnl"] / n * 100,
                    "optimal_hold_hours": path[best_k]["hours"],
                    "best_profit_pct": values[best_k] / n * 100,
                    "signal_exit_hours": sig_hours,
                    "signal_exit_profit_pct": sig_value / n * 100,
                    "signal_exit_return_on_capital_pct": sig_value / capital * 100,
                    **{
                        f"signal_exit_{part}_pct": (sig[part] / n * 100 if sig else math.nan)
                        for part in ("funding", "fees", "slippage", "price_pnl")
                    },
                    "signal_exit_liquidated": bool(sig and sig["liquidated"]),
                    "price_estimated": estimated_price,
                }
            )
    return pd.DataFrame(rows)
