"""Market data sources: the real files under ``../shared/data`` and the synthetic generator.

Each returns an :class:`arbscore.data_tools.market.MarketData`; ``load_embedded_market``
picks the real data when it is present and the synthetic market otherwise.
"""

from arbscore.data_tools.sources.params import SymbolProfile, SyntheticParams
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market

__all__ = [
    "SymbolProfile",
    "SyntheticMarketConfig",
    "SyntheticParams",
    "generate_synthetic_market",
]
