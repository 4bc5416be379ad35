"""Market statistics measured the same way on real and synthetic data.

The calibration script fits the generator to these numbers on the real data; the tests measure
them on generated data and compare with the committed targets. All rates are normalised to
per 8 h (rate x 8 / interval) so 4 h and 8 h symbols are comparable; prices are sampled on the
hour so 5-minute and 1-hour bars give comparable basis and volatility numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the exchanges' default interest component per 8 h (0.01 %): calm funding sits exactly on it
INTEREST_8H = 1e-4


def ar1_coef(x: np.ndarray) -> float:
    """Lag-1 autocorrelation (AR(1) coefficient) of a series, NaNs dropped."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 3:
        return float("nan")
    x = x - x.mean()
    den = float(np.dot(x[:-1], x[:-1]))
    return float(np.dot(x[1:], x[:-1]) / den) if den > 0 else float("nan")


def autocorr(x: np.ndarray, lag: int) -> float:
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)] - np.nanmean(x)
    if len(x) <= lag + 2:
        return float("nan")
    return float(np.dot(x[lag:], x[:-lag]) / np.dot(x, x))


def half_life_hours(phi: float, step_hours: float = 1.0) -> float:
    """Half-life of an AR(1) with coefficient ``phi`` sampled every ``step_hours``."""
    if not 0.0 < phi < 1.0:
        return float("inf") if phi >= 1.0 else 0.0
    return float(step_hours * np.log(0.5) / np.log(phi))


def per8h(funding: pd.DataFrame) -> pd.Series:
    return funding["rate"] * 8.0 / funding["interval_hours"]


def funding_series_stats(funding: pd.DataFrame) -> pd.DataFrame:
    """Per (exchange, symbol): mean, std, lag-1 and lag-3 autocorr, share of positive rates."""
    rows = []
    f = funding.assign(r8=per8h(funding))
    for (ex, sym), g in f.groupby(["exchange", "symbol"], sort=True):
        r = g.sort_values("funding_time")["r8"].to_numpy()
        rows.append(
            {
                "exchange": ex,
                "symbol": sym,
                "n": len(r),
                "mean": float(r.mean()),
                "std": float(r.std()),
                "ac1": ar1_coef(r),
                "ac3": autocorr(r, 3),
                "pos_share": float((r > 0).mean()),
            }
        )
    return pd.DataFrame(rows)


def funding_exchange_stats(funding: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per exchange, pooled over its symbols (autocorrelations averaged over series)."""
    out: dict[str, dict[str, float]] = {}
    series = funding_series_stats(funding)
    f = funding.assign(r8=per8h(funding))
    for ex, g in f.groupby("exchange", sort=True):
        s = series[series["exchange"] == ex]
        r = g["r8"].to_numpy()
        out[str(ex)] = {
            "mean": float(r.mean()),
            "std": float(r.std()),
            "ac1": float(s["ac1"].mean()),
            "ac3": float(s["ac3"].mean()),
            "pos_share": float((r > 0).mean()),
            "at_interest": float(np.isclose(r, INTEREST_8H, rtol=0, atol=1e-9).mean()),
            "p05": float(np.quantile(r, 0.05)),
            "p95": float(np.quantile(r, 0.95)),
        }
    return out


def cross_exchange_funding_corr(funding: pd.DataFrame, a: str, b: str) -> float:
    """Correlation of per-8h rates of the same symbol at the same time on two exchanges."""
    f = funding.assign(r8=per8h(funding)).drop_duplicates(["symbol", "funding_time", "exchange"])
    wide = f.set_index(["symbol", "funding_time", "exchange"])["r8"].unstack("exchange")
    if a not in wide or b not in wide:
        return float("nan")
    both = wide[[a, b]].dropna()
    return float(both[a].corr(both[b])) if len(both) > 2 else float("nan")


def hourly_closes(klines: pd.DataFrame) -> pd.DataFrame:
    """Close prices on the hour: index open_time of the hour, columns (exchange, market, symbol).

    For sub-hour bars the close of the bar ending on the hour is used.
    """
    k = klines
    end = k["open_time"] + pd.to_timedelta(k["interval_minutes"], unit="min")
    on_hour = (end.dt.minute == 0).to_numpy()
    k = k.loc[on_hour, ["exchange", "market", "symbol", "close"]]
    k = k.assign(hour=end[on_hour] - pd.Timedelta(hours=1))
    k = k.drop_duplicates(["hour", "exchange", "market", "symbol"], keep="last")
    wide = k.set_index(["hour", "exchange", "market", "symbol"])["close"].unstack([1, 2, 3])
    return wide.sort_index(axis=1)


def price_stats(closes: pd.DataFrame, exchange: str, btc: str = "BTCUSDT") -> dict[str, dict]:
    """Per symbol on ``exchange`` perp: hourly log-return std and beta to BTC.

    ``closes`` is :func:`hourly_closes` of the klines (computed once, used by several stats).
    """
    out: dict[str, dict] = {}
    if (exchange, "perp", btc) not in closes:
        return out
    r_btc = np.log(closes[(exchange, "perp", btc)]).diff()
    for (ex, mkt, sym), col in closes.items():
        if ex != exchange or mkt != "perp":
            continue
        r = np.log(col).diff()
        both = pd.concat([r, r_btc], axis=1).dropna()
        beta = float(np.cov(both.iloc[:, 0], both.iloc[:, 1])[0, 1] / both.iloc[:, 1].var())
        out[str(sym)] = {"hourly_vol": float(r.std()), "beta": beta}
    return out


def basis_stats(closes: pd.DataFrame, exchange: str) -> dict[str, dict]:
    """Per symbol: log(perp/spot) on ``exchange`` at hourly closes: mean, std, AR(1), half-life."""
    out: dict[str, dict] = {}
    for (ex, mkt, sym), perp in closes.items():
        if ex != exchange or mkt != "perp" or (ex, "spot", sym) not in closes:
            continue
        b = np.log(perp / closes[(ex, "spot", sym)]).dropna().to_numpy()
        phi = ar1_coef(b)
        z = (b - b.mean()) / b.std()
        out[str(sym)] = {
            "mean": float(b.mean()),
            "std": float(b.std()),
            "kurtosis": float(np.mean(z**4) - 3.0),
            "q001": float(np.quantile(b, 0.001)),
            "q999": float(np.quantile(b, 0.999)),
            "ar1": phi,
            "half_life_hours": half_life_hours(phi),
        }
    return out


def cross_perp_stats(closes: pd.DataFrame, a: str, b: str) -> dict[str, dict]:
    """Per symbol: log(perp_a / perp_b) at hourly closes: std, AR(1), half-life."""
    out: dict[str, dict] = {}
    for (ex, mkt, sym), pa in closes.items():
        if ex != a or mkt != "perp" or (b, "perp", sym) not in closes:
            continue
        s = np.log(pa / closes[(b, "perp", sym)]).dropna().to_numpy()
        phi = ar1_coef(s)
        out[str(sym)] = {
            "mean": float(s.mean()),
            "std": float(s.std()),
            "ar1": phi,
            "half_life_hours": half_life_hours(phi),
        }
    return out


def volume_stats(klines: pd.DataFrame) -> dict[str, dict]:
    """Per exchange:market:symbol the mean hourly quote volume (USD), and the intraday profile."""
    k = klines.dropna(subset=["quote_volume"])
    hours = k["interval_minutes"] / 60.0
    k = k.assign(qv_h=k["quote_volume"] / hours, hod=k["open_time"].dt.hour)
    out: dict[str, dict] = {}
    for (ex, mkt, sym), g in k.groupby(["exchange", "market", "symbol"], sort=True):
        profile = g.groupby("hod")["qv_h"].mean()
        profile = profile / profile.mean()
        out[f"{ex}:{mkt}:{sym}"] = {
            "mean_usd_per_hour": float(g["qv_h"].mean()),
            "intraday_peak_hour": int(profile.idxmax()),
            "intraday_amplitude": float((profile.max() - profile.min()) / 2.0),
        }
    return out


def funding_edge_stats(funding: pd.DataFrame, a: str, b: str) -> dict[str, dict]:
    """Per symbol listed on both: the perp_perp funding edge between ``a`` and ``b``.

    On the hourly grid where both have settled, the last settled rate of each, per hour and
    scaled to 8 h (so 1 h and 8 h venues compare); edge = b - a. Returns its std, mean and the
    share of hours with |edge| above 0.01 % / 8 h (1 bp). This is what a perp_perp entry sees:
    the generator must not make it wider than the data does.
    """
    f = funding.assign(rh=funding["rate"] / funding["interval_hours"] * 8.0)
    out: dict[str, dict] = {}
    for sym in sorted(
        set(f.loc[f["exchange"] == a, "symbol"]) & set(f.loc[f["exchange"] == b, "symbol"])
    ):
        sides = []
        for ex in (a, b):
            g = f[(f["exchange"] == ex) & (f["symbol"] == sym)]
            s = g.set_index(g["funding_time"].dt.floor("h"))["rh"]
            sides.append(s[~s.index.duplicated(keep="last")])
        lo = max(s.index.min() for s in sides)
        hi = min(s.index.max() for s in sides)
        if hi <= lo:
            continue
        hours = pd.date_range(lo, hi, freq="h")
        ra, rb = (s.reindex(s.index.union(hours)).ffill().reindex(hours) for s in sides)
        edge = (rb - ra).to_numpy()
        edge = edge[np.isfinite(edge)]
        if len(edge) < 48:
            continue
        out[str(sym)] = {
            "n_hours": len(edge),
            "mean": float(edge.mean()),
            "std": float(edge.std()),
            "abs_gt_1bp": float((np.abs(edge) > 1e-4).mean()),
        }
    return out
