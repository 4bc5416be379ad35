"""Key and category spellings: the guide's camelCase request keys and strategy aliases.

numpy-free and pandas-free; re-exported by :mod:`arbscore.data_tools.features`, which the
server and the training loader both use, so one mapping serves both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from arbscore.schema import (
    HOLD_COLUMN,
    LABEL_COLUMNS,
    OPPORTUNITY_FEATURE_COLUMNS,
    OPPORTUNITY_KEY_COLUMNS,
)

_STRATEGY_ALIASES = {
    "spot_perp": "spot_perp",
    "spotperp": "spot_perp",
    "cash_and_carry": "spot_perp",
    "cashandcarry": "spot_perp",
    "perp_perp": "perp_perp",
    "perpperp": "perp_perp",
    "cross_exchange": "perp_perp",
    "crossexchange": "perp_perp",
}

#: camelCase / C# names whose generic snake_case form is not our column name
_KEY_ALIASES = {
    "fund_profit_8h_24h_proj": "fund_profit_24h_proj",
    "fund_profit_8h_3d_proj": "fund_profit_3d_proj",
    "bid_ask_spread_percent": "bid_ask_spread",
    "bid_ask_spread_pct": "bid_ask_spread",
    "spread_volatility_c_v": "spread_volatility_cv",
    "fund_a_p_r": "fund_apr",
    "b_t_c_price": "btc_price",
    "btc_price_at_entry": "btc_price",
    "market_regime_at_entry": "market_regime",
    "orderbook_depth_usd": "orderbook_depth",
    "order_book_depth": "orderbook_depth",
    "hold_hours_input": HOLD_COLUMN,
}


def canonical_strategy(value: Any) -> str:
    """Our strategy name for ``value``; spellings we cannot map (e.g. the guide's "CFFF") are
    kept as their own category, stripped, rather than guessed."""
    text = str(value).strip()
    key = re.sub(r"[\s\-]+", "_", text.lower())
    return _STRATEGY_ALIASES.get(key, _STRATEGY_ALIASES.get(key.replace("_", ""), text))


_KNOWN_SNAKE = frozenset(
    (*OPPORTUNITY_KEY_COLUMNS, *OPPORTUNITY_FEATURE_COLUMNS, *LABEL_COLUMNS, HOLD_COLUMN)
)


def _camel_to_snake(key: str) -> str:
    # split lower->Upper and letter->digit boundaries: fundProfit8h -> fund_profit_8h
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    s = re.sub(r"(?<=[A-Za-z])(?=[0-9])", "_", s)
    return s.lower()


@lru_cache(maxsize=4096)  # every request repeats the same keys; bounded: they come from clients
def normalise_key(key: str) -> str:
    """One camelCase/PascalCase/snake_case key -> our snake_case column name."""
    if key in _KNOWN_SNAKE:
        return key
    snake = _camel_to_snake(key)
    return _KEY_ALIASES.get(snake, snake)


def normalise_keys(record: Mapping[str, Any]) -> dict[str, Any]:
    """Map the guide's camelCase keys (``fundProfit8h``, ``fundApr``, ``volume24h``, ...) onto our
    snake_case names; snake_case keys pass through. If both spellings are present the snake_case
    one wins, so an explicit column is never overwritten by an alias."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = normalise_key(key)
        if name in out and key != name:
            continue
        out[name] = value
    return out


def camel_case(name: str) -> str:
    """``fund_profit_8h`` -> ``fundProfit8h`` (the JSON spelling of a C#/JS property)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def key_aliases(name: str) -> tuple[str, ...]:
    """Every camelCase spelling that :func:`normalise_key` maps onto column ``name``: its own
    camelCase form, then the guide's C# property names (``bidAskSpreadPercent``,
    ``fundProfit8h24hProj``, ...). Only spellings that really map are listed."""
    spellings = [camel_case(name)] + [camel_case(k) for k, v in _KEY_ALIASES.items() if v == name]
    out: list[str] = []
    for key in spellings:
        if key != name and key not in out and normalise_key(key) == name:
            out.append(key)
    return tuple(out)
