"""``/size`` and ``/exit-signal``: from a validated request to the response body.

The rules themselves live in ``sizing.py`` and ``exits.py``; this module only fills in what the
request leaves out from the model (success probability, predicted profit and hold).
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime, timezone

from arbscore.calibration import calibration_error
from arbscore.data_tools.costs import FeeSchedule
from arbscore.serve.answers import rounded, usd
from arbscore.serve.errors import BadRequest
from arbscore.serve.exits import ExitConfig, PositionState, exit_signal
from arbscore.serve.requests import parse_opportunity
from arbscore.serve.schemas import ExitRequest, SizeRequest
from arbscore.serve.scorer import Scorer
from arbscore.serve.sizing import SizingConfig, default_loss_pct, size, win_from_expected


def bundle_fees(scorer: Scorer, default: FeeSchedule) -> FeeSchedule:
    """The fee schedule the bundle's model was trained with (manifest ``"fees"``), else
    ``default`` (older bundles carry none)."""
    cached = getattr(scorer, "_bundle_fees", None)
    if cached is None:
        fees = getattr(scorer, "manifest", {}).get("fees")
        cached = (FeeSchedule.from_dict(fees, "manifest.fees"),) if fees is not None else ()
        with contextlib.suppress(AttributeError):
            scorer._bundle_fees = cached  # parsed once per loaded bundle
    return cached[0] if cached else default


def bundle_calibration_error(scorer: Scorer) -> float:
    """The success head's out-of-time calibration error recorded in the bundle: the largest of
    ``metrics.success``'s pooled ``ece`` and ``worst_bin_gap`` over the test folds and the same
    two on the most recent test fold (``ece_folds[-1]``, ``worst_bin_gap_folds[-1]``), so a
    head that drifted out of calibration lately is shrunk by its latest error; 0 when the bundle
    has none of them (older bundles)."""
    success = (getattr(scorer, "manifest", {}).get("metrics") or {}).get("success") or {}
    latest = [
        folds[-1]
        for folds in (success.get("ece_folds"), success.get("worst_bin_gap_folds"))
        if isinstance(folds, list) and folds
    ]
    return calibration_error(success.get("ece"), success.get("worst_bin_gap"), *latest)


def size_response(req: SizeRequest, scorer: Scorer, sizing: SizingConfig) -> dict:
    """``POST /size``: per-request overrides of the sizing limits, then :func:`size`; the
    default loss size is charged at the bundle's fees."""
    cfg = SizingConfig(
        **{
            **sizing.__dict__,
            "fees": bundle_fees(scorer, sizing.fees),
            **{
                k: v
                for k, v in (
                    ("kelly_fraction", req.kelly_fraction),
                    ("max_fraction", req.max_fraction),
                    ("max_depth_share", req.max_depth_share),
                )
                if v is not None
            },
        }
    )
    depth = req.orderbook_depth_usd
    version = None
    if req.opportunity is not None:
        parsed = parse_opportunity(
            req.opportunity, ["body", "opportunity"], scorer, datetime.now(timezone.utc)
        )
        record = parsed.record
        pred = scorer.answer([parsed])[0]
        p = (
            pred["success_probability"]
            if req.success_probability is None
            else req.success_probability
        )
        loss = req.loss_pct or default_loss_pct(
            record.get("bid_ask_spread", 0.0), cfg, str(record.get("strategy", "perp_perp"))
        )
        win = (
            req.win_pct
            if req.win_pct is not None
            else win_from_expected(pred["predicted_profit_pct"], p, loss)
        )
        depth = depth if depth is not None else record.get("orderbook_depth")
        version = pred["model_version"]
        if req.success_probability is None:  # the model's p: shrink by its calibration error
            cfg = dataclasses.replace(cfg, calibration_error=bundle_calibration_error(scorer))
    else:  # SizeRequest checked that all three are given
        p, win, loss = req.success_probability, req.win_pct, req.loss_pct
    result = size(p, win, loss, req.bankroll_usd, depth, config=cfg)
    return {
        "notional_usd": usd(result.notional_usd),
        "bankroll_fraction": rounded(result.fraction),
        "full_kelly_multiple": rounded(result.kelly_full),
        "edge_pct": rounded(result.edge_pct),
        "limited_by": result.limited_by,
        "calibration_shrink_fraction": rounded(result.calibration_shrink_fraction),
        "success_probability": rounded(p),
        "win_pct": rounded(win),
        "loss_pct": rounded(loss),
        "model_version": version,
    }


def exit_response(req: ExitRequest, scorer: Scorer, exits: ExitConfig) -> dict:
    """``POST /exit-signal``: the position state from the request, then :func:`exit_signal`."""
    parsed = parse_opportunity(req.entry, ["body", "entry"], scorer, req.entry_time)
    record = parsed.record
    now = req.now or datetime.now(timezone.utc)
    entry_time = (
        req.entry_time if req.entry_time.tzinfo else req.entry_time.replace(tzinfo=timezone.utc)
    )
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    elapsed = (now - entry_time).total_seconds() / 3600.0
    if elapsed < 0:
        raise BadRequest(422, ["body", "entry_time"], "entry_time is after now")
    hold, version = req.predicted_hold_hours, None
    if hold is None:
        pred = scorer.answer([parsed])[0]
        hold, version = pred["predicted_hold_hours"], pred["model_version"]
    entry_spread = float(record.get("bid_ask_spread", 0.0))
    cur = req.current
    state = PositionState(
        elapsed_hours=elapsed,
        entry_fund_profit_8h=float(record["fund_profit_8h"]),
        current_fund_profit_8h=cur.fund_profit_8h,
        entry_bid_ask_spread=entry_spread,
        current_bid_ask_spread=entry_spread if cur.bid_ask_spread is None else cur.bid_ask_spread,
        unrealized_pnl_pct=cur.unrealized_pnl_pct,
        peak_pnl_pct=max(0.0, cur.unrealized_pnl_pct)
        if cur.peak_pnl_pct is None
        else cur.peak_pnl_pct,
        trailing_edge_pct=cur.trailing_edge_pct,
    )
    exits = dataclasses.replace(exits, fees=bundle_fees(scorer, exits.fees))
    decision = exit_signal(
        state,
        hold,
        exits,
        str(record.get("strategy", "perp_perp")),
        max_hold_hours=scorer.terms.max_hold_hours,
    )
    return {
        "action": decision.action,
        "reason": decision.reason,
        "details": {
            k: rounded(v) if isinstance(v, float) else v for k, v in decision.details.items()
        },
        "model_version": version,
    }
