"""The one request path: a raw opportunity record -> a validated snake_case feature record.

:func:`opportunity_record` is what both ``POST /predict`` (and ``/predict/batch``, ``/size``,
``/exit-signal``) and the in-process :meth:`arbscore.serve.scorer.Scorer.predict_records`
call, so a record scores the same in a bot and over HTTP, and is refused the same way:

- keys camelCase (``fundProfit8h``, the guide's C# DTO) or snake_case, mapped by
  :func:`arbscore.data_tools.features.normalise_keys`;
- required fields, value checks and the documented defaults of
  :class:`arbscore.serve.schemas.Opportunity` (``strategy`` spot_perp, the two projections from
  ``fund_profit_8h``, hour/day from ``timestamp`` or the clock, the rest from the bundle's
  training medians);
- a strategy the bundle does not know is refused.

A refused record raises :class:`RecordError` (a ``ValueError``) carrying the HTTP answer's
status and error list (``loc``/``msg``/``type`` each); the server returns exactly those.
Imports pydantic but no web framework: a bot scoring in-process needs no ASGI stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from arbscore.data_tools.features import FeatureSpec, normalise_keys
from arbscore.data_tools.features.inputs import DEFAULT_STRATEGY, ModelInput
from arbscore.schema import HOLD_COLUMN
from arbscore.serve.schemas import OpportunityBase, defaulted_fields, request_model


@dataclass(frozen=True)
class RequestSchema:
    """What a bundle accepts per opportunity: its ``inputs`` (the manifest's list), the pydantic
    ``model`` built from them, the fields ``filled_defaults`` may name, and its feature
    ``spec`` (the strategies it knows)."""

    inputs: tuple[ModelInput, ...]
    spec: FeatureSpec
    model: type[OpportunityBase]
    defaulted: tuple[str, ...]

    @classmethod
    def build(cls, inputs: tuple[ModelInput, ...], spec: FeatureSpec) -> RequestSchema:
        return cls(tuple(inputs), spec, request_model(tuple(inputs)), defaulted_fields(inputs))


class RecordError(ValueError):
    """A record the caller can fix: ``status`` (HTTP) and ``errors`` (``loc``, ``msg``,
    ``type`` each, the HTTP error body's ``detail``); ``str()`` names every field."""

    def __init__(self, status: int, errors: list[dict]) -> None:
        self.status, self.errors = status, errors
        super().__init__(
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                for e in errors
            )
        )


def pydantic_errors(errors: Sequence[dict], prefix: Sequence = ("body",)) -> list[dict]:
    """Pydantic errors without the offending input (it may be NaN, which JSON cannot carry)."""
    return [
        {
            "loc": [*prefix, *e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "value_error")),
        }
        for e in errors
    ]


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (what the client sent, in its words)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


@dataclass(frozen=True)
class Parsed:
    """One validated opportunity: ``record`` (snake_case, defaults applied, the feature
    layer's input), ``filled`` (the optional fields the caller left out) and ``notional_usd``
    (None = the bundle's training position size)."""

    record: dict[str, Any]
    filled: tuple[str, ...]
    notional_usd: float | None


def opportunity_record(
    data: Any, schema: RequestSchema, now: datetime, loc: Sequence = ("body",)
) -> Parsed:
    """The validated record with the documented defaults applied, and what was filled in.

    ``now``: the clock hour/day come from when no ``timestamp`` and no ``hour_of_day`` /
    ``day_of_week`` are given. ``loc``: where the record sits in the request (error paths).
    The record keeps ``hold_hours`` only when the caller gave one. ``filled`` names every
    optional field the caller left out (``hold_hours`` included: the predicted hold is used).
    Raises :class:`RecordError` (422) naming the field."""
    if not isinstance(data, dict):
        raise RecordError(
            422,
            [
                {
                    "loc": [*loc],
                    "msg": f"expected a JSON object, got {json_type(data)}",
                    "type": "dict_type",
                }
            ],
        )
    try:
        opp = schema.model.model_validate(normalise_keys(data))
    except ValidationError as exc:
        raise RecordError(422, pydantic_errors(exc.errors(), loc)) from exc
    strategy = getattr(opp, "strategy", None) or DEFAULT_STRATEGY
    if not schema.spec.knows_strategy(strategy):
        raise RecordError(
            422,
            [
                {
                    "loc": [*loc, "strategy"],
                    "msg": f"unknown strategy {strategy!r}; "
                    f"this bundle knows {list(schema.spec.strategies)}",
                    "type": "value_error",
                }
            ],
        )
    given = {k for k in opp.model_fields_set if getattr(opp, k) is not None}
    filled = [name for name in schema.defaulted if name not in given]
    return Parsed(opp.to_record(now), tuple(filled), opp.notional_usd)


def without_hold(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without its ``hold_hours`` (the duration head must not see a caller's hold)."""
    return (
        {k: v for k, v in record.items() if k != HOLD_COLUMN} if HOLD_COLUMN in record else record
    )
