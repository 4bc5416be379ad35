"""The complete list of a bundle's inputs: every field a model reads, with its type, bounds,
camelCase aliases and how a missing value is filled.

Written into the bundle manifest (``"inputs"``) at export; the server builds its request model
from that list (``serve/schemas.py``), so a field the models read cannot be left out of
``/predict`` again. Older bundles without the list get it derived from their feature spec by
the same function. numpy-free apart from the spec it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from arbscore.data_tools.features.columns import CATEGORICAL, RAW_NUMERIC
from arbscore.data_tools.features.keys import key_aliases
from arbscore.data_tools.features.spec import FeatureSpec
from arbscore.schema import (
    BASIS_WINDOWS_DAYS,
    HOLD_COLUMN,
    HORIZON_WINDOWS_DAYS,
    OPPORTUNITY_FEATURE_COLUMNS,
)

#: the most any number of a request may be in absolute value (no funding figure, volume or
#: price comes near it); keeps every number path finite
NUMBER_LIMIT = 1e12

#: (unit or meaning, lowest value) per numeric input; None: any finite number within the limit
_NUMBERS: dict[str, tuple[str, float | None]] = {
    "fund_profit_8h": ("funding profit per 8 h, % of notional", None),
    "fund_apr": ("annualised funding, % per year", None),
    "fund_profit_24h_proj": ("projected funding over 24 h, % of notional", None),
    "fund_profit_3d_proj": ("projected funding over 3 days, % of notional", None),
    "break_even_hours": ("hours of funding that pay the round trip", None),
    "spread_volatility_cv": ("coefficient of variation of the spread", 0.0),
    "volume_24h": ("traded volume over 24 h, USD", 0.0),
    "bid_ask_spread": ("bid-ask spread, % of price", 0.0),
    "orderbook_depth": ("order book depth, USD", 0.0),
    "btc_price": ("BTC price, USD", 0.0),
    "long_funding_rate_pct": ("long leg's last settled funding rate, %", None),
    "short_funding_rate_pct": ("short leg's last settled funding rate, %", None),
    "long_interval_hours": ("long leg's funding interval, hours", 0.0),
    "short_interval_hours": ("short leg's funding interval, hours", 0.0),
    "hours_to_next_funding": ("hours to the next settlement", 0.0),
    "basis_pct": ("price gap between the legs, % of price", None),
    "basis_zscore": ("basis against its trailing mean, in standard deviations", None),
    "realised_vol_24h_pct": ("realised volatility over 24 h, %", 0.0),
    "rate_change_8h": ("change of the funding rate over 8 h, %", None),
    "rate_change_24h": ("change of the funding rate over 24 h, %", None),
    "round_trip_cost_pct": ("fees and slippage of a round trip, % of notional", 0.0),
}


def _horizon_numbers() -> dict[str, tuple[str, float | None]]:
    """The horizon features' descriptions (``data_tools.horizon``; formulas in
    docs/serving.md): trailing windows over the pair's own history up to the request's time."""
    legs = {
        "long": "long leg's funding rate",
        "short": "short leg's funding rate",
        "edge": "edge (short leg's rate - long leg's)",
    }
    out: dict[str, tuple[str, float | None]] = {}
    for leg, what in legs.items():
        for d in HORIZON_WINDOWS_DAYS:
            out[f"{leg}_funding_mean_{d}d_pct"] = (
                f"trailing {d}-day mean of the {what}, % per 8 h",
                None,
            )
            out[f"{leg}_funding_vol_{d}d_pct"] = (
                f"trailing {d}-day std of the {what}, % per 8 h",
                0.0,
            )
    out["edge_positive_fraction_30d"] = (
        "share of the trailing 30 days' rows with a positive edge, fraction",
        0.0,
    )
    out["edge_positive_streak_hours"] = (
        f"hours the edge has stayed positive (at most {24 * max(HORIZON_WINDOWS_DAYS)})",
        0.0,
    )
    out["edge_autocorr_30d"] = (
        "correlation of the edge with itself 8 h earlier, trailing 30 days",
        None,
    )
    for d in BASIS_WINDOWS_DAYS:
        out[f"basis_mean_{d}d_pct"] = (f"trailing {d}-day mean of basis_pct, %", None)
        out[f"basis_zscore_{d}d"] = (
            f"basis_pct against its trailing {d}-day mean, in standard deviations",
            None,
        )
    out["interval_changes_30d"] = (
        "funding-interval changes of either leg in the trailing 30 days",
        0.0,
    )
    return out


_NUMBERS.update(_horizon_numbers())
#: the strategy of a request that names none (the guide's examples omit it)
DEFAULT_STRATEGY = "spot_perp"
#: inputs without which nothing is scored (what the guide's own curl example sends)
REQUIRED: tuple[str, ...] = ("fund_profit_8h", "fund_apr")
_DEFAULTS = {
    "fund_profit_24h_proj": "fund_profit_8h",
    "fund_profit_3d_proj": "fund_profit_8h",
    "hour_of_day": "from timestamp (UTC), else the server's clock",
    "day_of_week": "from timestamp (UTC), else the server's clock",
    "strategy": DEFAULT_STRATEGY,
    "liquidity_status": "none (scored like the lowest liquidity)",
    "market_regime": "none (no regime column set)",
    HOLD_COLUMN: "the duration head's predicted optimal hold",
}


@dataclass(frozen=True)
class ModelInput:
    """One input field. ``dtype``: float64, int64 or string; ``minimum``/``maximum``
    inclusive bounds (``exclusive_minimum``: the lowest value itself is refused);
    ``values``: the categories (``closed``: any other is refused; an open one, the strategy,
    is matched through its aliases and then checked against the bundle); ``aliases``: camelCase
    spellings accepted; ``default``: what a missing value becomes."""

    name: str
    dtype: str
    description: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    values: tuple[str, ...] = ()
    closed: bool = True
    aliases: tuple[str, ...] = ()
    default: str = "the training median"

    def __post_init__(self) -> None:
        if self.dtype not in ("float64", "int64", "string"):
            raise ValueError(
                f"input {self.name!r}: dtype {self.dtype!r}, expected float64|int64|string"
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["values"], d["aliases"] = list(self.values), list(self.aliases)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInput:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"input {data.get('name')!r} has unknown keys {unknown}")
        return cls(
            **{
                **dict(data),
                "values": tuple(data.get("values", ())),
                "aliases": tuple(data.get("aliases", ())),
            }
        )


def _number(name: str, description: str, low: float | None) -> ModelInput:
    return ModelInput(
        name,
        "float64",
        description,
        required=name in REQUIRED,
        minimum=-NUMBER_LIMIT if low is None else low,
        maximum=NUMBER_LIMIT,
        aliases=key_aliases(name),
        default="" if name in REQUIRED else _DEFAULTS.get(name, "the training median"),
    )


def model_inputs(spec: FeatureSpec, max_hold_hours: float) -> tuple[ModelInput, ...]:
    """Every raw input the models of ``spec`` read, in request order: the strategy, the
    SPEC's opportunity features, the opportunity stage's extras the spec was fitted with, the
    hold (bounded by the bundle's largest labelled hold ``max_hold_hours``)."""
    out = [
        ModelInput(
            "strategy",
            "string",
            "strategy name (aliases such as cash_and_carry accepted)",
            values=tuple(spec.strategies),
            closed=False,
            aliases=key_aliases("strategy"),
            default=_DEFAULTS["strategy"],
        )
    ]
    categories = {
        "liquidity_status": ("liquidity class", tuple(k for k, _ in spec.liquidity_scores)),
        "market_regime": ("market regime", tuple(spec.market_regimes)),
    }
    for name in OPPORTUNITY_FEATURE_COLUMNS:
        if name in ("hour_of_day", "day_of_week"):
            high = 23 if name == "hour_of_day" else 6
            what = "hour of day, UTC" if high == 23 else "day of week, 0 = Monday, UTC"
            out.append(
                ModelInput(
                    name,
                    "int64",
                    what,
                    minimum=0,
                    maximum=high,
                    aliases=key_aliases(name),
                    default=_DEFAULTS[name],
                )
            )
        elif name in RAW_NUMERIC:
            out.append(_number(name, *_NUMBERS[name]))
        else:
            assert name in CATEGORICAL, name
            what, values = categories[name]
            out.append(
                ModelInput(
                    name,
                    "string",
                    what + " (any letter case)",
                    values=values,
                    aliases=key_aliases(name),
                    default=_DEFAULTS[name],
                )
            )
    for name in spec.extra_numeric:
        description, low = _NUMBERS.get(name, (f"{name} (as in the training data)", None))
        out.append(_number(name, description, low))
    out.append(
        ModelInput(
            HOLD_COLUMN,
            "float64",
            "evaluate profit and success at this hold, hours",
            minimum=0.0,
            maximum=float(max_hold_hours),
            exclusive_minimum=True,
            aliases=key_aliases(HOLD_COLUMN),
            default=_DEFAULTS[HOLD_COLUMN],
        )
    )
    return tuple(out)


def inputs_from_manifest(
    entries: Any, spec: FeatureSpec, max_hold_hours: float
) -> tuple[ModelInput, ...]:
    """The manifest's ``"inputs"`` (a bundle exported before the list existed: derived from its
    feature spec); ValueError when the list misses an input the spec's models read."""
    if entries is None:
        return model_inputs(spec, max_hold_hours)
    if not isinstance(entries, list):
        raise ValueError("manifest inputs: expected a list of input objects")
    inputs = tuple(ModelInput.from_dict(e) for e in entries)
    needed = {*spec._plan.inputs, "strategy"}
    missing = sorted(needed - {i.name for i in inputs})
    if missing:
        raise ValueError(f"manifest inputs lack {missing}, which the bundle's models read")
    return inputs
