"""Market data sources: the real files under ``../shared/data`` and the synthetic generator.

Each returns an :class:`arbscore.data_tools.market.MarketData`; ``load_embedded_market``
picks the real data when it is present and the synthetic market otherwise.
"""

from arbscore.data_tools.sources.embedded import (
    DEFAULT_SYMBOLS,
    EmbeddedDataConfig,
    load_embedded_market,
)
from arbscore.data_tools.sources.params import SymbolProfile, SyntheticParams
from arbscore.data_tools.sources.real import find_shared_data, load_shared_market
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market

__all__ = [
    "DEFAULT_SYMBOLS",
    "EmbeddedDataConfig",
    "SymbolProfile",
    "SyntheticMarketConfig",
    "SyntheticParams",
    "find_shared_data",
    "generate_synthetic_market",
    "load_embedded_market",
    "load_shared_market",
]
