"""Test-only model families and training sets for the harness tests (not shipped as families).

- ``MeanFamily``: ridge regression for profit, a ridge-on-0/1 clipped probability for success,
  the training mean for duration: small, deterministic, honest.
- ``TreeFamily``: scikit-learn decision trees (single-threaded, fast), flexible enough to
  memorise a time proxy, which is what the planted-leak test needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.targets import Targets, first_row_per_opportunity
from arbscore.families import HeadOutputs
from arbscore.schema import HOLD_COLUMN


class MeanFamily:
    name = "ridge"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def _design(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean_) / self.scale_
        return np.column_stack([np.ones(len(Z)), Z])

    def _solve(self, A: np.ndarray, y: np.ndarray) -> np.ndarray:
        reg = self.alpha * np.eye(A.shape[1])
        reg[0, 0] = 0.0
        return np.linalg.solve(A.T @ A + reg, A.T @ y)

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> MeanFamily:
        assert feature_names[-1] == HOLD_COLUMN
        self.feature_names_ = list(feature_names)
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        A = self._design(X)
        self.profit_w_ = self._solve(A, targets.profit)
        self.success_w_ = self._solve(A, targets.success)
        first = first_row_per_opportunity(targets.opportunity_id)
        self.duration_ = float(np.mean(targets.duration[first]))
        return self

    def predict(self, X: np.ndarray) -> HeadOutputs:
        A = self._design(X)
        return HeadOutputs(
            profit=A @ self.profit_w_,
            success=np.clip(A @ self.success_w_, 0.01, 0.99),
            duration=np.full(len(X), self.duration_),
        )

    def feature_importances(self) -> dict[str, dict[str, float]]:
        return {
            "profit": dict(zip(self.feature_names_, np.abs(self.profit_w_[1:]), strict=True)),
            "success": dict(zip(self.feature_names_, np.abs(self.success_w_[1:]), strict=True)),
        }

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "alpha": self.alpha,
            "feature_names": self.feature_names_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "profit_w": self.profit_w_.tolist(),
            "success_w": self.success_w_.tolist(),
            "duration": self.duration_,
        }
        (path / "ridge.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, path: Path) -> MeanFamily:
        state = json.loads((Path(path) / "ridge.json").read_text())
        model = cls(alpha=state["alpha"])
        model.feature_names_ = state["feature_names"]
        model.mean_, model.scale_ = np.array(state["mean"]), np.array(state["scale"])
        model.profit_w_ = np.array(state["profit_w"])
        model.success_w_ = np.array(state["success_w"])
        model.duration_ = state["duration"]
        return model


class SlowMeanFamily(MeanFamily):
    """Same predictions as MeanFamily, slower predict: for the latency tie-break test."""

    name = "ridge_slow"

    def predict(self, X: np.ndarray) -> HeadOutputs:
        import time

        time.sleep(0.02)
        return super().predict(X)


class TreeFamily:
    name = "trees"

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> TreeFamily:
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        kw = dict(max_depth=10, min_samples_leaf=10, random_state=0)
        self.profit_ = DecisionTreeRegressor(**kw).fit(X, targets.profit)
        if len(np.unique(targets.success)) > 1:
            self.success_ = DecisionTreeClassifier(**kw).fit(X, targets.success)
        else:
            self.success_ = float(targets.success[0])
        first = first_row_per_opportunity(targets.opportunity_id)
        self.duration_ = DecisionTreeRegressor(**kw).fit(X[first, :-1], targets.duration[first])
        return self

    def predict(self, X: np.ndarray) -> HeadOutputs:
        if isinstance(self.success_, float):
            success = np.full(len(X), self.success_)
        else:
            success = self.success_.predict_proba(X)[:, 1]
        return HeadOutputs(self.profit_.predict(X), success, self.duration_.predict(X[:, :-1]))

    def save(self, path: Path) -> None:  # pragma: no cover - not needed by the tests
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> TreeFamily:  # pragma: no cover
        raise NotImplementedError


def make_training_frame(
    days: int = 40,
    step_minutes: int = 60,
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"),
    holds: tuple[int, ...] = (1, 8, 24, 72),
    seed: int = 0,
    leak: bool = False,
) -> pd.DataFrame:
    """A small training set in the canonical layout.

    ``leak=False``: funding persists (AR(1) per symbol), so profit depends on the features.
    ``leak=True``: profit is a random sign per 6-hour block plus noise, independent of every
    feature except that ``btc_price`` rises steadily with time (a time proxy): a model can only
    "predict" it by recognising the block, which works on a random split and nowhere else.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-03-01", tz="UTC")
    times = start + pd.to_timedelta(np.arange(0, days * 24 * 60, step_minutes), unit="min")
    n_t = len(times)
    block_sign = rng.choice([-1.0, 1.0], size=days * 4 + 1)  # one sign per 6 h block
    rows = []
    for s_i, sym in enumerate(symbols):
        f8 = np.zeros(n_t)
        x = 0.02
        for t in range(n_t):
            x = 0.02 + 0.97 * (x - 0.02) + rng.normal(0, 0.01)
            f8[t] = x
        for t in range(n_t):
            ts = times[t]
            cost = 0.2 + 0.02 * s_i
            base = dict(
                timestamp=ts,
                symbol=sym,
                strategy="spot_perp" if s_i % 2 == 0 else "perp_perp",
                long_exchange="binance",
                long_market="spot" if s_i % 2 == 0 else "perp",
                short_exchange="binance" if s_i % 2 == 0 else "bybit",
                short_market="perp",
                fund_profit_8h=f8[t],
                fund_apr=f8[t] * 3 * 365,
                fund_profit_24h_proj=3 * f8[t] + rng.normal(0, 0.005),
                fund_profit_3d_proj=9 * f8[t] + rng.normal(0, 0.01),
                break_even_hours=cost / (f8[t] / 8) if f8[t] > 0 else np.inf,
                spread_volatility_cv=abs(rng.normal(0.3, 0.1)),
                volume_24h=1e8 / (s_i + 1),
                bid_ask_spread=0.01 * (s_i + 1),
                orderbook_depth=1e6 / (s_i + 1),
                liquidity_status=("Good", "Medium", "Low")[s_i % 3],
                btc_price=50_000 + 2.0 * t * step_minutes / 60 + rng.normal(0, 1.0),
                market_regime="Bull",
                hour_of_day=ts.hour,
                day_of_week=ts.day_of_week,
                round_trip_cost_pct=cost,
                data_source="synthetic",
            )
            if leak:
                base["fund_profit_8h"] = rng.normal(0.02, 0.01)
            for h in holds:
                if leak:
                    block = int((ts - start) / pd.Timedelta(hours=6))
                    profit = block_sign[block] * 0.5 + rng.normal(0, 0.2)
                else:
                    future = f8[min(t + int(h * 60 / step_minutes), n_t - 1)]
                    profit = (f8[t] + future) / 2 * h / 8 - cost + rng.normal(0, 0.05)
                rows.append(base | {HOLD_COLUMN: float(h), "actual_profit_pct": profit})
    df = pd.DataFrame(rows)
    df["actual_hold_hours"] = df[HOLD_COLUMN]
    df["was_profitable"] = df["actual_profit_pct"] > 0
    df["peak_profit"] = df["actual_profit_pct"].clip(lower=0) + 0.1
    df["max_drawdown"] = df["actual_profit_pct"].clip(upper=0) - 0.1
    key = df["symbol"] + ":" + df["timestamp"].dt.strftime("%Y%m%dT%H%M")
    df["opportunity_id"] = key
    return df
