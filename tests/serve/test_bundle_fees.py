"""/size and /exit-signal charge the fees the bundle's model was trained with."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from arbscore.data_tools.costs import FeeSchedule
from arbscore.serve.exits import ExitConfig, exit_cost_pct
from arbscore.serve.positions import bundle_fees
from arbscore.serve.sizing import SizingConfig, default_loss_pct


def test_the_manifest_fees_are_used_and_older_bundles_fall_back():
    maker = FeeSchedule(entry_order="maker", bnb_discount=True)
    scorer = SimpleNamespace(manifest={"fees": maker.to_dict()})
    assert bundle_fees(scorer, FeeSchedule()) == maker
    assert bundle_fees(SimpleNamespace(manifest={}), FeeSchedule()) == FeeSchedule()
    # Binance perp_perp: maker entry 0.018 % x 2 (BNB), taker exit 0.045 % x 2, spread 0.02 % x 2
    loss = default_loss_pct(0.02, SizingConfig(fees=maker), "perp_perp")
    assert loss == pytest.approx(2 * 0.018 + 2 * 0.045 + 2 * 0.02)
    # spot_perp taker: 0.10 + 0.05 per side; the exit alone is half of it plus the spread
    assert default_loss_pct(0.0, SizingConfig(), "spot_perp") == pytest.approx(0.30)
    assert exit_cost_pct(0.02, ExitConfig(), "spot_perp") == pytest.approx(0.15 + 0.02)
    assert SizingConfig(fees=maker.to_dict()).fees == maker  # a config file's mapping
