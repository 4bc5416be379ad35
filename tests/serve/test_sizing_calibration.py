"""/size shrinks its Kelly multiplier by the success head's out-of-sample calibration error."""

from __future__ import annotations

import dataclasses
import json

import pytest
from serve_helpers import copy_bundle

from arbscore.serve.positions import bundle_calibration_error, size_response
from arbscore.serve.schemas import SizeRequest
from arbscore.serve.scorer import Scorer
from arbscore.serve.sizing import SizingConfig, calibration_shrink, size

OPPORTUNITY = {
    "symbol": "BTCUSDT",
    "strategy": "perp_perp",
    "fundProfit8h": 0.5,
    "fundApr": 200.0,
    "fundProfit24hProj": 1.5,
    "fundProfit3dProj": 4.5,
    "volume24h": 2e9,
    "bidAskSpread": 0.002,
    "orderbookDepth": 5e6,
    "hourOfDay": 8,
    "dayOfWeek": 2,
}


def test_shrink_is_linear_in_the_calibration_error_and_zero_at_the_tolerance():
    assert calibration_shrink(SizingConfig()) == 1.0
    assert calibration_shrink(SizingConfig(calibration_error=0.25)) == pytest.approx(0.5)
    assert calibration_shrink(SizingConfig(calibration_error=0.5)) == 0.0
    assert calibration_shrink(SizingConfig(calibration_error=0.9)) == 0.0


def test_size_uses_the_shrunk_multiplier_and_names_calibration_when_it_zeroes():
    base = SizingConfig(kelly_fraction=0.5, max_fraction=10.0)
    full = size(0.35, 2.0, 1.0, 10_000, config=base)
    half = size(0.35, 2.0, 1.0, 10_000, config=dataclasses.replace(base, calibration_error=0.25))
    assert half.fraction == pytest.approx(full.fraction / 2)
    assert half.calibration_shrink_fraction == pytest.approx(0.5)
    zero = size(0.35, 2.0, 1.0, 10_000, config=dataclasses.replace(base, calibration_error=0.5))
    assert (zero.notional_usd, zero.limited_by) == (0.0, "calibration")
    with pytest.raises(ValueError, match="calibration_error"):
        SizingConfig(calibration_error=float("nan"))


def _bundle_with_gap(tmp_path, gap: float, **folds):
    bundle = copy_bundle(tmp_path / f"b{len(list(tmp_path.iterdir()))}")
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.setdefault("metrics", {})["success"] = {"ece": 0.01, "worst_bin_gap": gap, **folds}
    path.write_text(json.dumps(manifest, indent=2))
    return Scorer(bundle)


def test_size_response_reads_the_bundles_calibration_error(tmp_path):
    trusted, poor = _bundle_with_gap(tmp_path, 0.0), _bundle_with_gap(tmp_path, 0.3)
    assert bundle_calibration_error(trusted) == pytest.approx(0.01)
    assert bundle_calibration_error(poor) == pytest.approx(0.3)
    req = SizeRequest(bankroll_usd=100_000, opportunity=OPPORTUNITY, win_pct=3.0, loss_pct=0.5)
    a = size_response(req, trusted, SizingConfig())
    b = size_response(req, poor, SizingConfig())
    assert a["success_probability"] == b["success_probability"]  # same model, same p
    assert b["calibration_shrink_fraction"] == pytest.approx(1 - 0.3 / 0.5)
    if a["limited_by"] == "kelly":
        assert b["bankroll_fraction"] == pytest.approx(a["bankroll_fraction"] * 0.4 / 0.98)
    # the caller's own probability is not shrunk
    own = SizeRequest(
        bankroll_usd=100_000,
        opportunity=OPPORTUNITY,
        success_probability=0.6,
        win_pct=3.0,
        loss_pct=0.5,
    )
    assert size_response(own, poor, SizingConfig())["calibration_shrink_fraction"] == 1.0


def test_the_shrink_uses_the_latest_folds_error_when_the_head_drifted(tmp_path):
    drifted = _bundle_with_gap(
        tmp_path, 0.05, ece_folds=[0.01, 0.02, 0.12], worst_bin_gap_folds=[0.05, 0.1, 0.35]
    )
    assert bundle_calibration_error(drifted) == pytest.approx(0.35)
    steady = _bundle_with_gap(tmp_path, 0.05, ece_folds=[0.02, 0.01], worst_bin_gap_folds=[])
    assert bundle_calibration_error(steady) == pytest.approx(0.05)
