"""``import``: the exchanges' bulk layouts and ours, validated, each file all-or-nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from arbscore.data_tools.collect.importer import ImportOptions, import_files
from arbscore.data_tools.store import FUNDING, KLINES
from arbscore.errors import UserInputError

H = 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01 ms


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def binance_kline_lines(n, t0=T0, scale=1, bad_at=None):
    lines = []
    for i in range(n):
        t = (t0 + i * 300_000) * scale
        high = "99.0" if i == bad_at else "101.0"  # bad: high below open/close
        lines.append(f"{t},100.0,{high},99.5,100.5,12.5,{t + 299_999},1256.2,10,6.0,600.1,0")
    return "\n".join(lines) + "\n"


def test_binance_bulk_layouts(tmp_path, duck):
    funding = write(
        tmp_path / "BTCUSDT-fundingRate-2025-01.csv",
        "calc_time,funding_interval_hours,last_funding_rate\n"
        + "".join(f"{T0 + i * 8 * H + 6},8,0.000{i + 1}\n" for i in range(3)),
    )
    perp = write(
        tmp_path / "futures/um/monthly/klines/BTCUSDT-5m-2025-01.csv", binance_kline_lines(4)
    )  # old files: no header
    spot = write(
        tmp_path / "spot/monthly/klines/BTCUSDT-5m-2025-01.csv",
        ",".join(
            [
                "open_time",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "close_time",
                "quote_volume",
                "count",
                "taker_buy_volume",
                "taker_buy_quote_volume",
                "ignore",
            ]
        )
        + "\n"
        + binance_kline_lines(3, scale=1000),
    )  # 2025+ spot files: microseconds
    results = import_files(duck, [funding, perp, spot])
    assert [(r.layout, r.rows) for r in results] == [
        ("binance_funding", 3),
        ("binance_klines", 4),
        ("binance_klines", 3),
    ]
    stored = duck.read(FUNDING)
    # settlement jitter (+6 ms in the file) floored to the second, as backfill does
    assert stored["funding_time"].iloc[0] == pd.Timestamp("2025-01-01 00:00:00", tz="UTC")
    assert stored["rate"].tolist() == [0.0001, 0.0002, 0.0003]
    assert (stored["exchange"] == "binance").all() and (stored["interval_hours"] == 8).all()
    klines = duck.read(KLINES)
    assert klines.groupby("market").size().to_dict() == {"perp": 4, "spot": 3}
    assert klines["open_time"].min() == pd.Timestamp("2025-01-01", tz="UTC")
    assert (klines["interval_minutes"] == 5).all() and (klines["quote_volume"] == 1256.2).all()


def test_bybit_and_okx_layouts_derive_the_interval(tmp_path, duck):
    bybit = write(
        tmp_path / "bybit_funding.csv",
        "symbol,fundingRate,fundingRateTimestamp\n"
        + "".join(f"ETHUSDT,0.0001,{T0 + i * 4 * H}\n" for i in range(4)),
    )
    okx = write(
        tmp_path / "okx_funding.csv",
        "instId,fundingRate,realizedRate,fundingTime\n"
        + "".join(f"BTC-USDT-SWAP,0.00012,0.0001,{T0 + i * 8 * H}\n" for i in (0, 1, 3)),
    )
    candles = write(
        tmp_path / "okx-candles.csv",
        "instId,ts,o,h,l,c,vol,volCcy,volCcyQuote\n"
        + "".join(f"BTC-USDT-SWAP,{T0 + i * 60_000},1,2,0.5,1.5,100,1,1.5\n" for i in range(5)),
    )
    import_files(duck, [bybit, okx, candles], ImportOptions(interval="1m"))
    funding = duck.read(FUNDING).set_index("exchange")
    assert (funding.loc["bybit", "interval_hours"] == 4.0).all()
    assert (funding.loc["okx", "interval_hours"] == 8.0).all()  # not 16 across the gap
    assert (funding.loc["okx", "rate"] == 0.0001).all()  # the realised rate
    assert duck.status().set_index(["exchange", "dataset"]).loc[("okx", "funding"), "gaps"] == 1
    klines = duck.read(KLINES)
    assert len(klines) == 5 and set(klines["market"]) == {"perp"}
    assert (klines["volume"] == 1).all() and (klines["interval_minutes"] == 1).all()


def test_own_layout_parquet_round_trip(tmp_path, duck):
    frame = pd.DataFrame(
        {
            "exchange": "okx",
            "symbol": "SOLUSDT",
            "funding_time": pd.date_range("2025-01-01", periods=3, freq="8h", tz="UTC"),
            "rate": [0.0001, -0.0002, 0.0],
            "interval_hours": 8.0,
            "mark_price": [1.0, None, 2.0],
        }
    )
    frame.to_parquet(tmp_path / "f.parquet")
    import_files(duck, [tmp_path / "f.parquet"])
    import_files(duck, [tmp_path / "f.parquet"])  # idempotent
    stored = duck.read(FUNDING)
    assert len(stored) == 3 and stored["mark_price"].isna().sum() == 1


def test_bad_row_reported_with_file_and_line_and_nothing_stored(tmp_path, duck):
    good = write(tmp_path / "futures/BTCUSDT-5m-2025-01.csv", binance_kline_lines(6))
    bad = write(tmp_path / "futures/ETHUSDT-5m-2025-01.csv", binance_kline_lines(6, bad_at=3))
    with pytest.raises(UserInputError) as info:
        import_files(duck, [good, bad])
    message = str(info.value)
    assert f"{bad}:line 4: high/low do not bound open and close" in message  # headerless: row 4
    assert str(good) not in message
    assert duck.count(KLINES) == 0  # not even the good file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "calc_time,funding_interval_hours,last_funding_rate\n1735689600000,8,0.0001\n"
            "yesterday,8,0.0001\n",
            ":line 3: funding time is not a timestamp",
        ),
        (
            "calc_time,funding_interval_hours,last_funding_rate\n1735689600000,8,0.0001\n"
            "1735718400000,8,1.5\n",
            ":line 3: rate is not a decimal rate",
        ),
        (
            "calc_time,funding_interval_hours,last_funding_rate\n1735689600000,0,0.0001\n",
            ":line 2: interval_hours must be in (0, 24]",
        ),
        ("when,what\n1,2\n", "unrecognised columns"),
    ],
)
def test_each_kind_of_bad_funding_row_is_named(tmp_path, duck, text, expected):
    path = write(tmp_path / "BTCUSDT-fundingRate-2025-01.csv", text)
    with pytest.raises(UserInputError, match="nothing imported") as info:
        import_files(duck, [path])
    assert expected in str(info.value)
    assert duck.count(FUNDING) == 0


def test_missing_context_is_asked_for(tmp_path, duck):
    path = write(tmp_path / "klines.csv", binance_kline_lines(2))
    with pytest.raises(UserInputError, match="symbol unknown"):
        import_files(duck, [path])
    result = import_files(
        duck, [path], ImportOptions(symbol="BTCUSDT", market="spot", interval="5m")
    )
    assert result[0].rows == 2
    with pytest.raises(FileNotFoundError, match="PATH"):
        import_files(duck, [tmp_path / "nope.csv"])


def test_okx_bulk_funding_layout_prefers_the_real_rate(tmp_path, duck):
    path = write(
        tmp_path / "okx-swaprate.csv",
        "instrument_name,contract_type,funding_rate,real_funding_rate,funding_time\n"
        + "".join(
            f"ETH-USDT-SWAP,SWAP,0.0003,0.0002,2025-01-01 {h:02d}:00:00\n" for h in (0, 8, 16)
        ),
    )
    assert import_files(duck, [path])[0].layout == "okx_bulk_funding"
    stored = duck.read(FUNDING)
    assert stored["symbol"].unique().tolist() == ["ETHUSDT"]
    assert (stored["rate"] == 0.0002).all() and (stored["interval_hours"] == 8.0).all()
    assert stored["funding_time"].iloc[1] == pd.Timestamp("2025-01-01 08:00", tz="UTC")


def test_bad_parquet_row_is_named_by_row_number(tmp_path, duck):
    frame = pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": ["BTCUSDT", "btc-usdt"],
            "market": "perp",
            "open_time": pd.date_range("2025-01-01", periods=2, freq="5min", tz="UTC"),
            "interval_minutes": 5,
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 1.0,
            "quote_volume": 1.5,
        }
    )
    frame.to_parquet(tmp_path / "k.parquet")
    with pytest.raises(UserInputError, match=r"k\.parquet:row 2: symbol must be canonical"):
        import_files(duck, [tmp_path / "k.parquet"])
    assert duck.count(KLINES) == 0
