"""The out-of-time flags ``run`` and ``evaluate`` share: ``--test-start`` (walk-forward folds
from a date) and ``--start/--end`` (the embedded market's window for ``run``, the entries read
for ``evaluate``), resolved into the stage configs once (defaults < --config file < flags)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

TestStartOpt = Annotated[
    str | None,
    typer.Option(
        "--test-start",
        help="first day of the out-of-time test (UTC date): the folds are cut from it to the "
        "data's end instead of from the end",
    ),
]
StartOpt = Annotated[
    str | None,
    typer.Option(
        "--start",
        help="first day of the data read: the embedded market (run), the entries (evaluate)",
    ),
]
EndOpt = Annotated[
    str | None,
    typer.Option("--end", help="end of the data read (UTC date, exclusive); default: the config's"),
]


def apply_window(
    stages: dict[str, Any], test_start: str | None, start: str | None, end: str | None
) -> dict[str, Any]:
    """``stages`` (``load_stage_configs``'s dict) with the flags applied: ``test_start`` to
    the evaluation config, ``start``/``end`` to the embedded market's config."""
    out = dict(stages)
    if test_start is not None:
        from arbscore.evaluation import EvaluationConfig

        base = out.get("evaluation") or EvaluationConfig()
        out["evaluation"] = dataclasses.replace(base, test_start=test_start)
    if start is not None or end is not None:
        from arbscore.data_tools.sources.embedded import EmbeddedDataConfig

        base = out.get("embedded") or EmbeddedDataConfig()
        changes = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
        out["embedded"] = dataclasses.replace(base, **changes)
    return out
