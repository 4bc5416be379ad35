"""arbscore: score crypto funding-rate arbitrage opportunities."""

__version__ = "0.1.0"
