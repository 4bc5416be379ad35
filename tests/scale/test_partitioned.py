"""The partitioned build equals the single-frame build row for row (after the stable sort)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from arbscore.data_tools import partitioned as part
from arbscore.data_tools.training_set import build_training_set
from tests.scale.conftest import SYMBOLS, tiny_config, tiny_market


def _round_trip(frame: pd.DataFrame, tmp_path, name: str) -> pd.DataFrame:
    """Through Parquet like the pipeline's training_data.parquet (object -> string dtypes)."""
    frame.to_parquet(tmp_path / name, index=False)
    return pd.read_parquet(tmp_path / name)


@pytest.mark.parametrize("per_partition", [1, 2])
def test_partitioned_build_equals_the_single_frame_build(tmp_path, per_partition):
    market, config = tiny_market(), tiny_config()
    single, marks = build_training_set(market, config, marks=True)
    assert set(single["market_regime"]) >= {"Bear", "Ranging"}  # the BTC context is exercised
    results = part.build_partitioned(market, config, tmp_path / "ds", per_partition=per_partition)
    assert sum(r.rows for r in results) == len(single)
    assert len(results) == -(-len(SYMBOLS) // per_partition)
    frame, got_marks = part.read_partitioned(tmp_path / "ds")
    pd.testing.assert_frame_equal(
        frame, _round_trip(single, tmp_path, "s.parquet"), check_exact=True
    )
    pd.testing.assert_frame_equal(
        got_marks, _round_trip(marks, tmp_path, "m.parquet"), check_exact=True
    )
    # the stream: one partition at a time, each holding only its own symbols
    for piece, r in zip(part.iter_partitions(tmp_path / "ds"), results, strict=True):
        assert set(piece["symbol"]) <= set(r.symbols) and len(piece) == r.rows


def test_a_partition_without_the_regime_symbol_would_lose_the_btc_context():
    """Why each task gets BTC's market too: without it the context feature changes."""
    market, config = tiny_market(), part.pinned_config(tiny_market(), tiny_config())
    with_btc = part.build_partition(
        part.market_slice(market, {"ETHUSDT", "BTCUSDT"}), ("ETHUSDT",), config
    )[0]
    alone = part.build_partition(part.market_slice(market, {"ETHUSDT"}), ("ETHUSDT",), config)[0]
    assert alone["btc_price"].isna().all() and with_btc["btc_price"].notna().all()
    assert not with_btc["market_regime"].equals(alone["market_regime"])


def test_the_snapshot_grid_is_pinned_from_the_whole_market():
    """A symbol listed later would otherwise start its grid at its own first candle."""
    market, config = tiny_market(), tiny_config()
    late = dataclasses.replace(
        market,
        klines=market.klines[
            (market.klines["symbol"] != "SOLUSDT")
            | (
                market.klines["open_time"]
                >= market.klines["open_time"].min() + pd.Timedelta(days=2)
            )
        ].reset_index(drop=True),
    )
    pinned = part.pinned_config(late, config)
    assert pinned.snapshots.start == pd.Timestamp(
        part.snapshot_times(late, config.snapshots)[0], unit="ms", tz="UTC"
    )
    alone = part.market_slice(late, {"SOLUSDT"})
    assert (
        part.snapshot_times(alone, pinned.snapshots)[0]
        == part.snapshot_times(late, config.snapshots)[0]
    )


def test_missing_partition_file_and_plain_directory_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not a partitioned training set"):
        part.partition_files(tmp_path)
    part.build_partitioned(tiny_market(), tiny_config(), tmp_path / "ds")
    (tmp_path / "ds" / "part-ETHUSDT.parquet").unlink()
    with pytest.raises(ValueError, match="part-ETHUSDT.parquet"):
        part.read_partitioned(tmp_path / "ds")
