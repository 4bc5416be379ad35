"""Opt-in scale-out on Dask (``--cluster``, ``arbscore score``): nothing here imports Dask
until a cluster is opened (docs/scaling.md)."""
