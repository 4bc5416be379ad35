"""Fit the synthetic market's defaults to statistics of the real data in ../shared/data.

    nice .venv/bin/python benchmarks/calibrate_synthetic.py            # writes calibration.json
    nice .venv/bin/python benchmarks/calibrate_synthetic.py --quick    # fewer optimiser steps

Measures on Binance perp+spot and Bybit perp 1 h bars and funding from 2024-12-31, Hyperliquid
hourly funding (01, 2025-08-21 on; the embedded default's sources) and OKX funding (05, 2025-10
on): funding mean/std/autocorrelation/share positive/share at the 0.01 % interest rate per
exchange, the perp_perp funding edge between each venue pair, perp-spot basis level, std and
half-life, cross-exchange perp spread, hourly return volatility and BTC beta, volume level and
intraday profile. Then fits the generator's parameters by simulation (Nelder-Mead on common
random numbers, using the generator itself) and writes our fitted numbers, the measured targets
and the check run to src/arbscore/data_tools/sources/calibration.json. No market data is
written, only statistics.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from arbscore.data_tools.sources import (
    SymbolProfile,
    SyntheticMarketConfig,
    SyntheticParams,
    generate_synthetic_market,
    load_shared_market,
)
from arbscore.data_tools.sources import stats as st
from arbscore.data_tools.sources.embedded import DEFAULT_SYMBOLS, REAL_VENUE_START
from arbscore.data_tools.sources.params import BUILTIN_SYMBOLS, CALIBRATION_FILE
from arbscore.data_tools.sources.real import require_shared_data

REF = ("BTCUSDT", "ETHUSDT")
SYMBOLS = DEFAULT_SYMBOLS  # every symbol of the embedded default (13)
EXCHANGES = ("binance", "bybit")  # the premium process (stage B) is fitted on these
VENUES = ("binance", "bybit", "hyperliquid")
PAIRS = (("binance", "bybit"), ("binance", "hyperliquid"), ("bybit", "hyperliquid"))
START = "2024-12-31"
SIM_DAYS = 1095  # long simulated runs so the fit chases the model, not its sampling noise
SYMBOL_SIM_DAYS = 730  # stage C: 13 symbols x ~80 evaluations; two years keep it ~15 min
OUT = Path(__file__).resolve().parents[1] / "src/arbscore/data_tools/sources" / CALIBRATION_FILE


def _mean(values) -> float:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def measure(funding: pd.DataFrame, klines: pd.DataFrame, ref=REF, core: bool = False) -> dict:
    """Every statistic the fit and the tests compare (same functions on real and synthetic).

    ``core`` skips the price/volume/per-series numbers the premium fit does not use (speed).
    """
    closes = st.hourly_closes(klines)
    if core:
        ref_f = funding[funding["symbol"].isin(ref)]
        basis = st.basis_stats(closes, "binance")
        cross = st.cross_perp_stats(closes, "binance", "bybit")
        return {
            "funding_ref": st.funding_exchange_stats(ref_f),
            "funding_corr_binance_bybit_ref": st.cross_exchange_funding_corr(ref_f, *EXCHANGES),
            "basis_ref": {
                k: _mean(basis[s][k] for s in ref) for k in ("mean", "std", "ar1", "kurtosis")
            },
            "cross_ref": {k: _mean(cross[s][k] for s in ref) for k in ("std", "ar1")},
        }
    ref_f = funding[funding["symbol"].isin(ref)]
    basis = st.basis_stats(closes, "binance")
    cross = st.cross_perp_stats(closes, "binance", "bybit")
    return {
        "funding_ref": st.funding_exchange_stats(ref_f),
        "funding_all": st.funding_exchange_stats(funding),
        "funding_series": st.funding_series_stats(funding).to_dict(orient="records"),
        "funding_corr_binance_bybit_ref": st.cross_exchange_funding_corr(ref_f, *EXCHANGES),
        "basis_binance": basis,
        "basis_ref": {
            k: _mean(basis[s][k] for s in ref if s in basis)
            for k in ("mean", "std", "ar1", "kurtosis")
        },
        "cross_perp_binance_bybit": cross,
        "cross_ref": {k: _mean(cross[s][k] for s in ref if s in cross) for k in ("std", "ar1")},
        "price_binance": st.price_stats(closes, "binance"),
        "volume": st.volume_stats(klines),
        "funding_edges": {f"{a}/{b}": st.funding_edge_stats(funding, a, b) for a, b in PAIRS},
    }


def _simulate(
    params: SyntheticParams, symbols, exchanges, spot, overrides=(), seed=11, days=SIM_DAYS
):
    cfg = SyntheticMarketConfig(
        seed=seed,
        start="2025-01-01",
        days=days,
        exchanges=tuple(exchanges),
        symbols=tuple(symbols),
        kline_minutes=60,
        spot_exchanges=tuple(spot),
        interval_overrides=tuple(overrides),
        params=params,
    )
    return generate_synthetic_market(cfg)


# --- stage A: prices and volumes, measured directly -------------------------------------------
def fit_prices_volumes(real, targets: dict, base: SyntheticParams) -> tuple[SyntheticParams, dict]:
    closes = st.hourly_closes(real.klines)
    btc = np.log(closes[("binance", "perp", "BTCUSDT")]).diff().dropna()
    daily_rv = np.log(np.sqrt((btc**2).groupby(btc.index.floor("D")).sum()))
    vov = math.sqrt(max(daily_rv.var() - 2.0 / 24.0 / 4.0, 0.01))  # minus sampling noise of log RV
    vol_hl = st.half_life_hours(st.ar1_coef(daily_rv.to_numpy()), 24.0)
    vols = targets["volume"]
    perp = {s: vols.get(f"binance:perp:{s}", {}).get("mean_usd_per_hour") for s in SYMBOLS}
    spot_ratio = np.median(
        [
            vols[f"binance:spot:{s}"]["mean_usd_per_hour"] / perp[s]
            for s in SYMBOLS
            if f"binance:spot:{s}" in vols and perp[s]
        ]
    )
    bybit_share = np.median(
        [
            vols[f"bybit:perp:{s}"]["mean_usd_per_hour"] / perp[s]
            for s in SYMBOLS
            if f"bybit:perp:{s}" in vols and perp[s]
        ]
    )
    prof = [v for k, v in vols.items() if k.startswith("binance:perp:")]
    amp = float(np.mean([v["intraday_amplitude"] for v in prof]))
    peak = float(np.median([v["intraday_peak_hour"] for v in prof]))
    # volume noise: log volume around its 7-day mean and hour-of-day profile (BTC perp)
    bk = real.klines[
        (real.klines["exchange"] == "binance")
        & (real.klines["symbol"] == "BTCUSDT")
        & (real.klines["market"] == "perp")
    ].set_index("open_time")["quote_volume"]
    lv = np.log(bk)
    resid = lv - lv.rolling(24 * 7, min_periods=24).mean()
    resid = resid - resid.groupby(resid.index.hour).transform("mean")
    shares = dict(base.exchange_volume_share)
    shares["bybit"] = float(bybit_share)
    params = replace(
        base,
        btc_hourly_vol=float(btc.std()),
        vol_of_vol=float(vov),
        vol_half_life_hours=float(min(max(vol_hl, 24.0), 24.0 * 30)),
        spot_volume_ratio=float(spot_ratio),
        exchange_volume_share=MappingProxyType(shares),
        intraday_amplitude=amp,
        intraday_peak_hour=peak,
        volume_noise_std=float(resid.std()),
    )
    profiles = {}
    prices = targets["price_binance"]
    median_close = closes.median()
    for s in SYMBOLS:
        old = BUILTIN_SYMBOLS.get(s)
        ex = "binance" if ("binance", "perp", s) in closes else "bybit"
        if ex == "binance" and s in prices:
            vol, beta = prices[s]["hourly_vol"], prices[s]["beta"]
        else:
            r = np.log(closes[(ex, "perp", s)]).diff()
            rb = np.log(closes[(ex, "perp", "BTCUSDT")]).diff()
            both = pd.concat([r, rb], axis=1).dropna()
            vol = float(r.std())
            beta = float(np.cov(both.iloc[:, 0], both.iloc[:, 1])[0, 1] / both.iloc[:, 1].var())
        volume = perp[s] or vols[f"bybit:perp:{s}"]["mean_usd_per_hour"] / bybit_share
        own = real.funding[
            (real.funding["symbol"] == s) & (real.funding["exchange"] != "hyperliquid")
        ]
        intervals = own["interval_hours"]  # Hyperliquid's hourly interval is the venue's own
        profiles[s] = SymbolProfile(
            price0=float(median_close[(ex, "perp", s)]),
            hourly_vol=float(vol),
            beta=float(beta),
            premium_scale=old.premium_scale if old else 1.0,
            premium_bias=old.premium_bias if old else 0.0,
            basis_scale=old.basis_scale if old else 1.0,
            volume_usd_per_hour=float(volume),
            funding_interval_hours=int(intervals.mode().iloc[0]) if len(intervals) else 8,
        )
    return replace(params, symbols=MappingProxyType(profiles)), {
        "daily_log_rv_std": float(daily_rv.std())
    }


# --- stage B: the premium/funding/basis process on BTC+ETH ------------------------------------
_B_NAMES = (
    "premium_mean",
    "hot_excess",
    "neg_excess",
    "premium_std",
    "premium_half_life_hours",
    "premium_exchange_corr",
    "bybit_scale",
    "basis_std",
    "basis_half_life_hours",
    "basis_exchange_corr",
)


def _b_params(theta, base: SyntheticParams) -> SyntheticParams:
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
    scales = dict(base.exchange_premium_scale)
    scales["bybit"] = math.exp(theta[6])
    unit = {
        s: replace(base.symbols[s], premium_scale=1.0, premium_bias=0.0, basis_scale=1.0)
        for s in REF
    }
    symbols = dict(base.symbols)
    symbols.update(unit)
    return replace(
        base,
        premium_mean=theta[0] * 1e-4,
        hot_excess=math.exp(theta[1]) * 1e-4,
        neg_excess=-math.exp(theta[2]) * 1e-4,
        premium_std=math.exp(theta[3]) * 1e-4,
        premium_half_life_hours=math.exp(theta[4]),
        premium_exchange_corr=sig(theta[5]),
        exchange_premium_scale=MappingProxyType(scales),
        basis_std=math.exp(theta[7]) * 1e-4,
        basis_half_life_hours=math.exp(theta[8]),
        basis_exchange_corr=sig(theta[9]),
        symbols=MappingProxyType(symbols),
    )


def _b_loss(sim: dict, tgt: dict) -> float:
    loss = 0.0
    for ex in EXCHANGES:
        a, b = sim["funding_ref"][ex], tgt["funding_ref"][ex]
        sd = b["std"]
        loss += ((a["mean"] - b["mean"]) / sd) ** 2 + (math.log(a["std"] / sd)) ** 2
        loss += ((a["p05"] - b["p05"]) / sd) ** 2 * 0.5
        for k in ("ac1", "ac3", "pos_share"):
            loss += ((a[k] - b[k]) / 0.1) ** 2
        loss += ((a["at_interest"] - b["at_interest"]) / 0.05) ** 2  # the 0.01 % mass point
    loss += (
        (sim["funding_corr_binance_bybit_ref"] - tgt["funding_corr_binance_bybit_ref"]) / 0.1
    ) ** 2
    bs, bt = sim["basis_ref"], tgt["basis_ref"]
    loss += ((bs["mean"] - bt["mean"]) / bt["std"]) ** 2 + math.log(bs["std"] / bt["std"]) ** 2
    loss += ((bs["ar1"] - bt["ar1"]) / 0.1) ** 2
    cs, ct = sim["cross_ref"], tgt["cross_ref"]
    loss += math.log(cs["std"] / ct["std"]) ** 2 + ((cs["ar1"] - ct["ar1"]) / 0.1) ** 2
    return float(loss)


def _theta_from(p: SyntheticParams) -> np.ndarray:
    logit = lambda v: math.log(max(v, 1e-3) / max(1.0 - v, 1e-3))  # noqa: E731
    return np.array(
        [
            p.premium_mean * 1e4,
            math.log(p.hot_excess * 1e4),
            math.log(-p.neg_excess * 1e4),
            math.log(p.premium_std * 1e4),
            math.log(p.premium_half_life_hours),
            logit(p.premium_exchange_corr),
            math.log(p.exchange_premium_scale["bybit"]),
            math.log(p.basis_std * 1e4),
            math.log(p.basis_half_life_hours),
            logit(p.basis_exchange_corr),
        ]
    )


def fit_premium(
    base: SyntheticParams, tgt: dict, maxiter: int, init: SyntheticParams | None = None
) -> tuple[SyntheticParams, float]:
    theta0 = (
        _theta_from(init)
        if init is not None
        else np.array(
            [
                -4.0,
                math.log(8.0),
                math.log(4.0),
                math.log(0.6),
                math.log(10.0),
                1.0,
                0.2,
                math.log(1.0),
                math.log(1.2),
                -0.5,
            ]
        )
    )

    def objective(theta):
        p = _b_params(theta, base)
        loss = 0.0
        for seed in (11, 12):  # two paths: the slow premium makes one year a small sample
            m = _simulate(p, REF, EXCHANGES, ("binance",), days=730, seed=seed)
            loss += _b_loss(measure(m.funding, m.klines, core=True), tgt) / 2
        return loss

    res = minimize(
        objective,
        theta0,
        method="Nelder-Mead",
        options={"maxiter": maxiter, "xatol": 1e-3, "fatol": 1e-3},
    )
    return _b_params(res.x, base), float(res.fun)


def _with_premium(init: SyntheticParams, base: SyntheticParams) -> SyntheticParams:
    """``base`` (prices, volumes) with the premium/basis numbers of a previous fit."""
    return _b_params(_theta_from(init), base)


def fit_tail(base: SyntheticParams, tgt: dict) -> SyntheticParams:
    """Student-t df of the basis noise: the grid value whose basis kurtosis is closest (log)."""
    want = math.log(3.0 + tgt["basis_ref"]["kurtosis"])
    best, best_err = base.basis_tail_df, float("inf")
    for df in (2.5, 3.0, 4.0, 6.0):
        p = replace(base, basis_tail_df=df)
        kurt = []
        for seed in (11, 12):
            m = _simulate(p, REF, ("binance",), ("binance",), days=730, seed=seed)
            basis = st.basis_stats(st.hourly_closes(m.klines), "binance")
            kurt += [basis[s]["kurtosis"] for s in REF]
        err = abs(math.log(3.0 + float(np.median(kurt))) - want)
        if err < best_err:
            best, best_err = df, err
    return replace(base, basis_tail_df=best)


# --- stage C: each symbol's premium scale/bias and basis scale --------------------------------
def fit_symbol(
    base: SyntheticParams,
    symbol: str,
    real_series: pd.DataFrame,
    basis_t: dict | None,
    edges_t: dict,
    maxiter: int,
) -> tuple[SymbolProfile, float]:
    """One symbol's premium scale/bias, basis scale and spread scale.

    Matched: per venue funding mean/std/share positive/lag-1 autocorrelation, the Binance
    basis, and per venue pair
    the perp_perp funding edge (std, share above 1 bp): the edge is what perp_perp trades.
    """
    exchanges = tuple(real_series["exchange"])
    tgt = real_series.set_index("exchange")
    pairs = [(a, b) for a, b in PAIRS if a in exchanges and b in exchanges]
    pairs = [(a, b) for a, b in pairs if symbol in edges_t.get(f"{a}/{b}", {})]

    def with_theta(theta):
        prof = replace(
            base.symbols[symbol],
            premium_scale=math.exp(theta[0]),
            premium_bias=theta[1] * 1e-4,
            basis_scale=math.exp(theta[2]),
            spread_scale=math.exp(theta[3]),
        )
        syms = dict(base.symbols)
        syms[symbol] = prof
        return prof, replace(base, symbols=MappingProxyType(syms))

    def objective(theta):
        _, p = with_theta(theta)
        spot = ("binance",) if "binance" in exchanges else ()
        m = _simulate(p, (symbol,), exchanges, spot, days=SYMBOL_SIM_DAYS)
        s = st.funding_series_stats(m.funding).set_index("exchange")
        loss = 0.0
        for ex in exchanges:
            a, b = s.loc[ex], tgt.loc[ex]
            loss += ((a["mean"] - b["mean"]) / b["std"]) ** 2 + math.log(a["std"] / b["std"]) ** 2
            loss += ((a["pos_share"] - b["pos_share"]) / 0.1) ** 2
            # persistence too: without it a small slow premium plus fast noise matches the
            # level and spread but halves the autocorrelation
            loss += ((a["ac1"] - b["ac1"]) / 0.1) ** 2
        if basis_t is not None:
            bs = st.basis_stats(st.hourly_closes(m.klines), "binance")[symbol]
            loss += ((bs["mean"] - basis_t["mean"]) / basis_t["std"]) ** 2
            loss += math.log(bs["std"] / basis_t["std"]) ** 2
        for a, b in pairs:
            got = st.funding_edge_stats(m.funding, a, b)[symbol]
            want = edges_t[f"{a}/{b}"][symbol]
            loss += math.log(max(got["std"], 1e-9) / want["std"]) ** 2
            loss += ((got["abs_gt_1bp"] - want["abs_gt_1bp"]) / 0.1) ** 2
        return loss

    old = base.symbols[symbol]
    theta0 = np.array(
        [
            math.log(max(old.premium_scale, 0.1)),
            old.premium_bias * 1e4,
            math.log(max(old.basis_scale, 0.1)),
            math.log(max(old.spread_scale, 0.05)),
        ]
    )
    res = minimize(
        objective,
        theta0,
        method="Nelder-Mead",
        options={
            "maxiter": maxiter,
            "xatol": 1e-3,
            "fatol": 1e-3,
            "initial_simplex": _simplex(theta0),
        },
    )
    return with_theta(res.x)[0], float(res.fun)


# --- stage B2: Hyperliquid's level and scale against Binance over its window -------------------
def fit_hyperliquid(
    base: SyntheticParams, tgt: dict, maxiter: int
) -> tuple[SyntheticParams, float]:
    """Hyperliquid premium bias and scale: its funding (BTC+ETH, per 8 h) minus Binance's mean,
    std ratio, share at the interest rate and share positive, as in the common real window."""
    want = tgt["hyperliquid_window_funding"]

    def with_theta(theta):
        bias = dict(base.exchange_premium_bias)
        scale = dict(base.exchange_premium_scale)
        bias["hyperliquid"] = theta[0] * 1e-4
        scale["hyperliquid"] = math.exp(theta[1])
        return replace(
            base,
            exchange_premium_bias=MappingProxyType(bias),
            exchange_premium_scale=MappingProxyType(scale),
        )

    def objective(theta):
        p = with_theta(theta)
        loss = 0.0
        for seed in (11, 12):
            m = _simulate(p, REF, ("binance", "hyperliquid"), ("binance",), days=365, seed=seed)
            got = st.funding_exchange_stats(m.funding)
            wb, wh, gb, gh = (
                want["binance"],
                want["hyperliquid"],
                got["binance"],
                got["hyperliquid"],
            )
            loss += (((gh["mean"] - gb["mean"]) - (wh["mean"] - wb["mean"])) / wb["std"]) ** 2 / 2
            loss += math.log((gh["std"] / gb["std"]) / (wh["std"] / wb["std"])) ** 2 / 2
            loss += ((gh["at_interest"] - wh["at_interest"]) / 0.05) ** 2 / 2
            loss += ((gh["pos_share"] - wh["pos_share"]) / 0.1) ** 2 / 2
        return loss

    old_bias = float(base.exchange_premium_bias.get("hyperliquid", 0.0))
    old_scale = float(base.exchange_premium_scale.get("hyperliquid", 1.0))
    theta0 = np.array([old_bias * 1e4, math.log(old_scale)])
    res = minimize(
        objective,
        theta0,
        method="Nelder-Mead",
        options={
            "maxiter": maxiter,
            "xatol": 1e-3,
            "fatol": 1e-3,
            "initial_simplex": _simplex(theta0),
        },
    )
    return with_theta(res.x), float(res.fun)


def _simplex(theta0: np.ndarray, step: float = 0.3) -> np.ndarray:
    """Nelder-Mead's first simplex: ``step`` along each axis. SciPy's default steps 0.00025
    from a zero coordinate, so a warm start at 0 (a log-scale of 1, a bias of 0) stopped at
    once within xatol; these parameters live on unit scales (logs, 1e-4 units)."""
    return np.vstack([theta0, theta0 + step * np.eye(len(theta0))])


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if not np.isfinite(obj) else round(float(obj), 10)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="real data folder (default: ../shared/data)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--quick", action="store_true", help="fewer optimiser iterations")
    ap.add_argument("--init", default=None, help="warm start from this calibration.json")
    ap.add_argument(
        "--keep-premium",
        action="store_true",
        help="with --init: keep its basis tail and premium process (stage B) instead of refitting",
    )
    args = ap.parse_args()
    if args.keep_premium and not args.init:
        ap.error("--keep-premium needs --init")
    t0 = time.perf_counter()
    root = require_shared_data(args.root)
    real = load_shared_market(root, exchanges=VENUES, symbols=SYMBOLS, start=START)
    targets = measure(real.funding, real.klines)
    hl_start = REAL_VENUE_START["hyperliquid"]
    window = real.funding[
        (real.funding["funding_time"] >= pd.Timestamp(hl_start, tz="UTC"))
        & real.funding["symbol"].isin(REF)
        & real.funding["exchange"].isin(["binance", "hyperliquid"])
    ]
    targets["hyperliquid_window_funding"] = st.funding_exchange_stats(window)
    okx = load_shared_market(
        root,
        exchanges=("okx", "binance"),
        symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"),
        start="2025-10-13",
        spot=False,
    )
    okx_stats = st.funding_exchange_stats(okx.funding)
    targets["okx_window_funding"] = okx_stats
    print(f"measured real statistics in {time.perf_counter() - t0:.1f}s", flush=True)

    params, extra = fit_prices_volumes(real, targets, SyntheticParams())
    targets.update(extra)
    scales = dict(params.exchange_premium_scale)
    scales["okx"] = okx_stats["okx"]["std"] / okx_stats["binance"]["std"]
    params = replace(params, exchange_premium_scale=MappingProxyType(scales))
    init = None
    if args.init:
        init = SyntheticParams.from_dict(json.loads(Path(args.init).read_text())["params"])
    if init is not None:
        params = replace(params, basis_tail_df=init.basis_tail_df)
        syms = dict(params.symbols)
        for sym, old in init.symbols.items():  # warm-start stage C from the previous profiles
            if sym in syms and sym in SYMBOLS:
                syms[sym] = replace(
                    syms[sym],
                    premium_scale=old.premium_scale,
                    premium_bias=old.premium_bias,
                    basis_scale=old.basis_scale,
                    spread_scale=old.spread_scale,
                )
        params = replace(params, symbols=MappingProxyType(syms))
        for key in ("exchange_premium_bias", "exchange_premium_scale"):
            if "hyperliquid" in getattr(init, key):
                merged = dict(getattr(params, key))
                merged["hyperliquid"] = getattr(init, key)["hyperliquid"]
                params = replace(params, **{key: MappingProxyType(merged)})
    if args.keep_premium:
        params = _with_premium(init, params)
        loss_b = None
        print("stage B kept from --init (basis tail and premium process)", flush=True)
    else:
        params = fit_tail(params if init is None else _with_premium(init, params), targets)
        print(f"basis tail df {params.basis_tail_df} ({time.perf_counter() - t0:.0f}s)", flush=True)
        params, loss_b = fit_premium(params, targets, maxiter=60 if args.quick else 250, init=init)
        print(f"stage B loss {loss_b:.3f} ({time.perf_counter() - t0:.0f}s)", flush=True)
    params, loss_hl = fit_hyperliquid(params, targets, maxiter=30 if args.quick else 80)
    print(
        f"Hyperliquid bias {params.exchange_premium_bias['hyperliquid']:.2e} scale "
        f"{params.exchange_premium_scale['hyperliquid']:.2f} loss {loss_hl:.3f} "
        f"({time.perf_counter() - t0:.0f}s)",
        flush=True,
    )
    series = pd.DataFrame(targets["funding_series"])
    symbol_loss = {}
    for s in SYMBOLS:
        prof, loss = fit_symbol(
            params,
            s,
            series[series["symbol"] == s],
            targets["basis_binance"].get(s),
            targets["funding_edges"],
            maxiter=20 if args.quick else 45,
        )
        syms = dict(params.symbols)
        syms[s] = prof
        params = replace(params, symbols=MappingProxyType(syms))
        symbol_loss[s] = loss
        print(
            f"  {s}: loss {loss:.3f} scale {prof.premium_scale:.2f} bias {prof.premium_bias:.2e}"
            f" spread {prof.spread_scale:.2f} ({time.perf_counter() - t0:.0f}s)",
            flush=True,
        )

    check = _simulate(
        params, ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"), VENUES, ("binance",), seed=0
    )
    sim = measure(check.funding, check.klines)
    out = {
        "about": "Synthetic market defaults fitted to statistics of the real data (our own "
        "numbers; no market data). Written by benchmarks/calibrate_synthetic.py.",
        "command": "nice .venv/bin/python benchmarks/calibrate_synthetic.py"
        + (" --quick" if args.quick else "")
        + (" --init <previous calibration.json> (warm start)" if args.init else "")
        + (" --keep-premium" if args.keep_premium else ""),
        "data": {
            "window_start": START,
            "window_end": str(real.details["end"]),
            "exchanges": list(VENUES),
            "symbols": list(SYMBOLS),
            "sources": [
                "02_harthor_marketlab_binance",
                "03_mohsenjfar_trade_bybit",
                "01_zushen168_funding_rate_data (Hyperliquid funding, 2025-08-21 on)",
                "05_huckhuck12_okx (funding std ratio only)",
            ],
        },
        "params": params.to_dict(),
        "targets": {k: v for k, v in targets.items() if k != "funding_series"},
        "targets_funding_series": targets["funding_series"],
        "fit": {
            "stage_b_loss": loss_b,
            "hyperliquid_loss": loss_hl,
            "symbol_loss": symbol_loss,
            "seconds": round(time.perf_counter() - t0, 1),
        },
        "check_synthetic": {k: v for k, v in sim.items() if k != "funding_series"},
        "check_synthetic_series": sim["funding_series"],
    }
    Path(args.out).write_text(json.dumps(_jsonable(out), indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
