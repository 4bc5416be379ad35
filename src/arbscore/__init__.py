"""arbscore: score crypto funding-rate arbitrage opportunities.

The package root is the base of the stage order (docs/architecture.md): it imports nothing.
Position sizing is ``arbscore.serve.size`` (``arbscore.serve.sizing``).
"""

__version__ = "0.1.0"
