"""Request and response types of the HTTP API (pydantic), and the serve-time defaults.

Keys arrive camelCase (the guide's C# client: ``fundProfit8h``, ``fundApr``, ``volume24h``) or
snake_case; :func:`arbscore.data_tools.features.normalise_keys` maps them before validation, so
error locations name our snake_case field.

The opportunity model is built per bundle (:func:`request_model`) from the manifest's input list
(``"inputs"``, :mod:`arbscore.data_tools.features.inputs`): every input the bundle's models read
is a field, so the opportunity stage's extras (``basis_pct``, ``round_trip_cost_pct``, ...) are
accepted (camelCase or snake_case), validated and, when absent, listed in ``filled_defaults``.
Required per opportunity: ``symbol``, ``fund_profit_8h``, ``fund_apr`` (what the guide's own
curl example sends). Defaults for the rest, documented per field:
- ``strategy``: ``spot_perp`` (the guide's examples omit it); one the bundle does not know is a
  422 (the OpenAPI document lists the served bundle's strategies as the enum);
- ``fund_profit_24h_proj`` / ``fund_profit_3d_proj``: ``fund_profit_8h`` (no trend information);
- ``break_even_hours``, ``spread_volatility_cv``, ``volume_24h``, ``bid_ask_spread``,
  ``orderbook_depth``, ``btc_price`` and the extras: the training medians saved in the bundle's
  feature spec;
- ``liquidity_status``: none (scored like "Low", the cautious case); ``market_regime``: none
  (no regime one-hot set); both matched case-insensitively;
- ``hour_of_day`` / ``day_of_week``: from ``timestamp`` (UTC) when given, else the server's UTC
  clock (an opportunity is scored when it is seen);
- ``hold_hours``: the duration head's predicted optimal hold (at most the bundle's largest
  labelled hold, ``manifest["hold_grid_hours"]``);
- ``notional_usd`` (not a feature; sizes ``expected_pnl_usd``): the training position size.
Each answer lists the fields it filled in as ``filled_defaults``. The same parsing serves the
in-process ``Scorer.predict_records`` (``serve/records.py``).
Unknown extra keys are ignored (the C# DTO carries many display fields).

Numbers are strict: a JSON number, finite, within +-:data:`NUMBER_LIMIT` (1e12; no funding
figure, volume or price comes near it), never ``true``/``false`` or a numeric string. Each
number path of the server stays finite on such inputs; what cannot is refused with 422.
Date-times are RFC 3339 strings (``2026-01-01T08:00:00Z``; no offset = UTC).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    create_model,
    model_validator,
)

from arbscore.data_tools.features.inputs import (
    DEFAULT_STRATEGY,
    NUMBER_LIMIT,
    ModelInput,
    model_inputs,
)
from arbscore.data_tools.features.spec import DEFAULT_FEATURE_SPEC
from arbscore.schema import MAX_HOLD_HOURS
from arbscore.serve.sizing import MIN_LOSS_PCT

_CONFIG = ConfigDict(extra="ignore", allow_inf_nan=False)

Num = Annotated[float, Strict(), Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
NonNeg = Annotated[float, Strict(), Field(ge=0, le=NUMBER_LIMIT)]


def _integral(value: Any) -> Any:
    # JSON Schema's "integer" includes 18.0; booleans stay refused (strict int below)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _integer(low: int, high: int):
    """An integer field in [low, high] (its JSON Schema spelt out: pydantic would write the
    bounds as ``ge``/``le``, which JSON Schema does not know, once a validator is attached)."""
    return Annotated[
        int,
        BeforeValidator(_integral),
        Strict(),
        Field(ge=low, le=high),
        WithJsonSchema({"type": "integer", "minimum": low, "maximum": high}),
    ]


Hour = _integer(0, 23)
Weekday = _integer(0, 6)

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$"
)


def _date_time(value: Any) -> Any:
    # only strings: pydantic alone would also take a number as Unix seconds
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("expected an RFC 3339 date-time string, e.g. 2026-01-01T08:00:00Z")
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_date_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _category(values: tuple[str, ...]):
    """A before-validator mapping any letter case of ``values`` onto its canonical spelling."""

    def match(value: Any) -> Any:
        if isinstance(value, str):
            for v in values:
                if value.strip().lower() == v.lower():
                    return v
        return value

    return BeforeValidator(match)


#: marks where the OpenAPI document puts a ``$ref`` to the Opportunity schema (``app.py``)
OPPORTUNITY_MARK = "x-arbscore-opportunity"
#: a nested opportunity: kept as the raw object (camelCase keys are mapped before validation)
OpportunityObject = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", OPPORTUNITY_MARK: True})
]


def utc_hour_and_weekday(when: datetime) -> tuple[int, int]:
    """(hour of day, day of week) of ``when`` in UTC, naive = UTC; integer arithmetic, so no
    date at the edge of the calendar (year 1 with a positive offset) can overflow."""
    offset = when.utcoffset() or timedelta(0)
    minutes = when.hour * 60 + when.minute - int(offset.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    return minutes // 60, (when.weekday() + days) % 7


class OpportunityBase(BaseModel):
    """The request fields that are not model inputs; :func:`request_model` adds the inputs."""

    model_config = _CONFIG

    symbol: str = Field(min_length=1, max_length=64, examples=["BTCUSDT"])
    timestamp: Timestamp | None = None
    notional_usd: Annotated[float, Strict()] | None = Field(
        None,
        gt=0,
        le=NUMBER_LIMIT,
        description="per-leg position size for expected_pnl_usd; default: the training size",
    )

    def to_record(self, now: datetime | None = None) -> dict[str, Any]:
        """The snake_case record ``build_matrix`` reads, with the documented defaults applied."""
        rec = self.model_dump(exclude_none=True)
        rec.setdefault("strategy", DEFAULT_STRATEGY)
        rec.setdefault("fund_profit_24h_proj", rec["fund_profit_8h"])
        rec.setdefault("fund_profit_3d_proj", rec["fund_profit_8h"])
        hour, weekday = utc_hour_and_weekday(self.timestamp or now or datetime.now(timezone.utc))
        rec.setdefault("hour_of_day", hour)
        rec.setdefault("day_of_week", weekday)
        rec.pop("timestamp", None)
        rec.pop("notional_usd", None)
        return rec


def _input_field(inp: ModelInput) -> tuple[Any, Any]:
    """(annotation, FieldInfo) of one bundle input, its bounds and categories enforced."""
    doc = inp.description + ("" if inp.required else f"; default: {inp.default}")
    if inp.dtype == "int64":
        kind: Any = _integer(int(inp.minimum or 0), int(inp.maximum or NUMBER_LIMIT))
    elif inp.dtype == "string" and inp.closed and inp.values:
        kind = Annotated[Literal[inp.values], _category(inp.values)]  # type: ignore[valid-type]
    elif inp.dtype == "string":
        kind = Annotated[str, Field(min_length=1, max_length=64)]
    else:
        low = {"gt" if inp.exclusive_minimum else "ge": inp.minimum}
        kind = Annotated[float, Strict(), Field(**low, le=inp.maximum)]
    if inp.required:
        return kind, Field(description=doc)
    return kind | None, Field(None, description=doc)


@lru_cache(maxsize=16)
def request_model(inputs: tuple[ModelInput, ...]) -> type[OpportunityBase]:
    """The ``Opportunity`` request model of a bundle: :class:`OpportunityBase` plus one field
    per input the bundle's models read (``inputs``: the manifest's input list), so every
    input is accepted, validated and, when absent, listed as defaulted."""
    fields = {inp.name: _input_field(inp) for inp in inputs}
    return create_model("Opportunity", __base__=OpportunityBase, **fields)  # type: ignore[call-overload]


def defaulted_fields(inputs: tuple[ModelInput, ...]) -> tuple[str, ...]:
    """The optional fields whose absence means "the server filled this in", in input order
    (``notional_usd`` last): what ``filled_defaults`` lists."""
    return (*(i.name for i in inputs if not i.required), "notional_usd")


#: the request model of a bundle with the default feature spec and hold grid
Opportunity = request_model(model_inputs(DEFAULT_FEATURE_SPEC, MAX_HOLD_HOURS))


class Prediction(BaseModel):
    """The contract users' clients already parse (the first five fields), then what a bot
    acts on: the entry decision, expected PnL at a notional, and the defaulted inputs."""

    predicted_profit_pct: float = Field(
        description="% of one leg's notional, net of costs, at evaluated_at_hold_hours"
    )
    success_probability: float = Field(description="0..1, at evaluated_at_hold_hours")
    predicted_hold_hours: float = Field(description="the duration head's optimal hold")
    composite_score: float = Field(description="0..100")
    model_version: str
    decision: Literal["enter", "skip"] = Field(description="the bundle's entry rule")
    notional_usd: float = Field(description="per-leg position size the PnL is for")
    expected_pnl_usd: float = Field(description="predicted_profit_pct / 100 * notional_usd")
    filled_defaults: list[str] = Field(description="optional fields the server filled in")
    capital_usd: float = Field(description="both legs' margin at notional_usd (USD)")
    return_on_capital_pct: float = Field(
        description="predicted_profit_pct as % of capital_usd (not of one leg's notional)"
    )
    evaluated_at_hold_hours: float = Field(
        description="the hold profit and probability were computed at: holdHours when given, "
        "else predicted_hold_hours clipped to the bundle's hold grid"
    )
    profit_interval_pct: list[float] | None = Field(
        None,
        description="[low, high] % around predicted_profit_pct at the bundle's coverage "
        "(manifest profit_interval.coverage); null: the bundle has no interval",
    )


#: the bundle facts (``answers.bundle_facts``) ``/health`` repeats
HEALTH_FACTS = (
    "synthetic",
    "training_start",
    "training_end",
    "created_at",
    "age_days",
    "max_model_age_days",
    "strategy",
    "strategy_verdict",
)


class Health(BaseModel):
    """``status`` is "stale" once the bundle is older than ``--max-model-age-days`` (it still
    serves: a bot decides whether to trust it; the answer stays 200)."""

    status: Literal["healthy", "stale"]
    service: Literal["ml-api"]
    version: str
    model_version: str
    synthetic: bool | None = Field(description="trained on synthetic data (None: not recorded)")
    training_start: str | None
    training_end: str | None
    created_at: str | None
    age_days: float | None = Field(description="days since the bundle was exported")
    max_model_age_days: float | None
    strategy: str | None = Field(
        None, description="the shipped strategy (a family, or a per-head mix); None: not recorded"
    )
    strategy_verdict: str | None = Field(
        None, description="its backtest verdict against the best rule; None: never backtested"
    )


Probability = Annotated[float, Strict(), Field(ge=0, le=1)]


class SizeRequest(BaseModel):
    """Either give ``success_probability`` + ``win_pct`` + ``loss_pct``, or an ``opportunity``
    to score (p from the success head; W solved from the profit head; L default = round-trip
    cost). ``orderbook_depth_usd`` defaults to the opportunity's ``orderbook_depth``."""

    model_config = ConfigDict(
        extra="ignore",
        allow_inf_nan=False,
        json_schema_extra={
            "anyOf": [
                {"required": ["opportunity"], "properties": {"opportunity": {"type": "object"}}},
                {
                    "required": ["success_probability", "win_pct", "loss_pct"],
                    "properties": {
                        "success_probability": {"type": "number"},
                        "win_pct": {"type": "number"},
                        "loss_pct": {"type": "number"},
                    },
                },
            ]
        },
    )

    bankroll_usd: Annotated[float, Strict()] = Field(gt=0, le=NUMBER_LIMIT)
    opportunity: OpportunityObject | None = None
    success_probability: Probability | None = None
    win_pct: NonNeg | None = None
    loss_pct: Annotated[float, Strict()] | None = Field(
        None, ge=MIN_LOSS_PCT, le=NUMBER_LIMIT, description=f"% of notional, >= {MIN_LOSS_PCT}"
    )
    orderbook_depth_usd: NonNeg | None = None
    kelly_fraction: Annotated[float, Strict()] | None = Field(None, gt=0, le=1)
    max_fraction: Annotated[float, Strict()] | None = Field(None, gt=0, le=10)
    max_depth_share: Annotated[float, Strict()] | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _either(self) -> SizeRequest:
        if self.opportunity is None:
            missing = [
                n
                for n in ("success_probability", "win_pct", "loss_pct")
                if getattr(self, n) is None
            ]
            if missing:
                raise ValueError(f"missing {missing}: give them, or an opportunity to score")
        return self


class SizeResponse(BaseModel):
    """Units in the names: USD, fractions of bankroll (0..1 after caps), a multiple of
    bankroll (full Kelly may stake many bankrolls before the caps), percents of notional."""

    notional_usd: float = Field(description="USD per leg to enter")
    bankroll_fraction: float = Field(description="notional_usd / bankroll_usd, after the caps")
    full_kelly_multiple: float = Field(
        description="f*: full Kelly stake as a multiple of bankroll, before the fractional "
        "multiplier and caps (may be negative: no edge)"
    )
    edge_pct: float = Field(description="p * win_pct - (1 - p) * loss_pct, % of notional")
    limited_by: Literal["kelly", "no_edge", "max_fraction", "liquidity"]
    calibration_shrink_fraction: float
    success_probability: float
    win_pct: float = Field(description="% of notional won when the trade succeeds")
    loss_pct: float = Field(description="% of notional lost when it does not")
    model_version: str | None


class CurrentState(BaseModel):
    """The market now, for an open position."""

    model_config = _CONFIG

    fund_profit_8h: Num = Field(description="the position's funding income per 8 h now, %")
    bid_ask_spread: NonNeg | None = Field(None, description="default: entry spread")
    unrealized_pnl_pct: Num = 0.0
    peak_pnl_pct: Num | None = Field(None, description="default: max(0, unrealized_pnl_pct)")
    trailing_edge_pct: Num | None = Field(
        None,
        description="the funding the position's legs earned over the trailing 72 h of settled "
        "rates (short leg received minus long leg paid), % of notional: the signal exit rule's "
        "input (exit when <= 0); without it the signal rule is not checked",
    )


class ExitRequest(BaseModel):
    """An open position: entry features and time, the market now. ``predicted_hold_hours``
    defaults to the duration head on the entry features. ``entry_time`` must not be after
    ``now`` (a 422 naming ``entry_time``)."""

    model_config = _CONFIG

    entry: OpportunityObject
    entry_time: Timestamp
    now: Timestamp | None = None
    current: CurrentState
    predicted_hold_hours: Annotated[float, Strict()] | None = Field(
        None, gt=0, le=10 * MAX_HOLD_HOURS
    )


class ExitResponse(BaseModel):
    action: Literal["hold", "exit"]
    reason: str
    details: dict[str, float]
    model_version: str | None


class ReloadRequest(BaseModel):
    """``bundle``: a directory under the server's reload root (relative to it, or absolute
    inside it); none = reload the bundle being served."""

    model_config = ConfigDict(extra="forbid")

    bundle: str | None = Field(
        None, min_length=1, max_length=4096, description="default: reload the same bundle"
    )


class ReloadResponse(BaseModel):
    status: Literal["reloaded"]
    model_version: str
    bundle: str
