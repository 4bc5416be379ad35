"""Request and response types of the HTTP API (pydantic), and the serve-time defaults.

Keys arrive camelCase (the guide's C# client: ``fundProfit8h``, ``fundApr``, ``volume24h``) or
snake_case; :func:`arbscore.data_tools.features.normalise_keys` maps them before validation, so
error locations name our snake_case field.

Required per opportunity: ``symbol``, ``fund_profit_8h``, ``fund_apr`` (what the guide's own
curl example sends). Defaults for the rest, documented per field:
- ``strategy``: ``spot_perp`` (the guide's examples omit it); an unknown strategy is a 422;
- ``fund_profit_24h_proj`` / ``fund_profit_3d_proj``: ``fund_profit_8h`` (no trend information);
- ``break_even_hours``, ``spread_volatility_cv``, ``volume_24h``, ``bid_ask_spread``,
  ``orderbook_depth``, ``btc_price``: the training medians saved in the bundle's feature spec;
- ``liquidity_status``: none (scored like "Low", the cautious case); ``market_regime``: none
  (no regime one-hot set);
- ``hour_of_day`` / ``day_of_week``: from ``timestamp`` when given, else the server's UTC clock
  (an opportunity is scored when it is seen);
- ``hold_hours``: the duration head's predicted optimal hold.
Unknown extra keys are ignored (the C# DTO carries many display fields). NaN/inf are rejected.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from arbscore.schema import LIQUIDITY_STATUSES, MARKET_REGIMES, MAX_HOLD_HOURS

_FINITE = ConfigDict(extra="ignore", allow_inf_nan=False, str_strip_whitespace=True)


class Opportunity(BaseModel):
    """One opportunity as the detector sees it (snake_case names; camelCase accepted)."""

    model_config = _FINITE

    symbol: str = Field(min_length=1, max_length=64, examples=["BTCUSDT"])
    fund_profit_8h: float = Field(description="funding profit per 8 h, % of notional")
    fund_apr: float = Field(description="annualised funding, % per year")
    strategy: str = Field("spot_perp", max_length=64, description="spot_perp | perp_perp")
    fund_profit_24h_proj: float | None = Field(None, description="default: fund_profit_8h")
    fund_profit_3d_proj: float | None = Field(None, description="default: fund_profit_8h")
    break_even_hours: float | None = None
    spread_volatility_cv: float | None = Field(None, ge=0)
    volume_24h: float | None = Field(None, ge=0, description="USD")
    bid_ask_spread: float | None = Field(None, ge=0, description="% of price")
    orderbook_depth: float | None = Field(None, ge=0, description="USD")
    liquidity_status: str | None = Field(None, description="Good | Medium | Low")
    btc_price: float | None = Field(None, ge=0)
    market_regime: str | None = Field(None, description="Bull | Bear | Ranging")
    hour_of_day: int | None = Field(None, ge=0, le=23)
    day_of_week: int | None = Field(None, ge=0, le=6)
    timestamp: datetime | None = None
    hold_hours: float | None = Field(
        None, gt=0, le=MAX_HOLD_HOURS, description="evaluate profit/success at this hold"
    )

    @field_validator("liquidity_status")
    @classmethod
    def _liquidity(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for status in LIQUIDITY_STATUSES:
            if value.lower() == status.lower():
                return status
        raise ValueError(
            f"unknown liquidity_status {value!r}; expected one of {list(LIQUIDITY_STATUSES)}"
        )

    @field_validator("market_regime")
    @classmethod
    def _regime(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for regime in MARKET_REGIMES:
            if value.lower() == regime.lower():
                return regime
        raise ValueError(f"unknown market_regime {value!r}; expected one of {list(MARKET_REGIMES)}")

    def to_record(self, now: datetime | None = None) -> dict[str, Any]:
        """The snake_case record ``build_matrix`` reads, with the documented defaults applied."""
        rec = self.model_dump(exclude_none=True)
        rec.setdefault("fund_profit_24h_proj", self.fund_profit_8h)
        rec.setdefault("fund_profit_3d_proj", self.fund_profit_8h)
        when = self.timestamp or now or datetime.now(timezone.utc)
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc)
        rec.setdefault("hour_of_day", when.hour)
        rec.setdefault("day_of_week", when.weekday())
        rec.pop("timestamp", None)
        return rec


class Prediction(BaseModel):
    """The contract users' clients already parse."""

    predicted_profit_pct: float
    success_probability: float
    predicted_hold_hours: float
    composite_score: float
    model_version: str


class Health(BaseModel):
    status: Literal["healthy"]
    service: Literal["ml-api"]
    version: str
    model_version: str


class SizeRequest(BaseModel):
    """Either give ``success_probability`` + ``win_pct`` (+ ``loss_pct``), or an ``opportunity``
    to score (p from the success head; W solved from the profit head; L default = round-trip
    cost). ``orderbook_depth_usd`` defaults to the opportunity's ``orderbook_depth``."""

    model_config = _FINITE

    bankroll_usd: float = Field(gt=0)
    opportunity: dict[str, Any] | None = None
    success_probability: float | None = Field(None, ge=0, le=1)
    win_pct: float | None = Field(None, ge=0)
    loss_pct: float | None = Field(None, gt=0)
    orderbook_depth_usd: float | None = Field(None, ge=0)
    kelly_fraction: float | None = Field(None, gt=0, le=1)
    max_fraction: float | None = Field(None, gt=0, le=10)
    max_depth_share: float | None = Field(None, gt=0, le=1)


class SizeResponse(BaseModel):
    notional_usd: float
    fraction: float
    kelly_full: float
    edge_pct: float
    limited_by: str
    success_probability: float
    win_pct: float
    loss_pct: float
    model_version: str | None


class CurrentState(BaseModel):
    """The market now, for an open position."""

    model_config = _FINITE

    fund_profit_8h: float = Field(description="the position's funding income per 8 h now, %")
    bid_ask_spread: float | None = Field(None, ge=0, description="default: entry spread")
    unrealized_pnl_pct: float = 0.0
    peak_pnl_pct: float | None = Field(None, description="default: max(0, unrealized_pnl_pct)")


class ExitRequest(BaseModel):
    """An open position: entry features and time, the market now. ``predicted_hold_hours``
    defaults to the duration head on the entry features."""

    model_config = _FINITE

    entry: dict[str, Any]
    entry_time: datetime
    now: datetime | None = None
    current: CurrentState
    predicted_hold_hours: float | None = Field(None, gt=0, le=10 * MAX_HOLD_HOURS)


class ExitResponse(BaseModel):
    action: Literal["hold", "exit"]
    reason: str
    details: dict[str, float]
    model_version: str | None


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle: str | None = Field(None, description="new bundle directory; default: reload the same")
