"""Batch scoring of a dataset with an ONNX bundle: ``arbscore score``.

Each partition (a file of the dataset) is scored by :func:`score_frame` with the bundle's
in-process scorer (``serve.scorer.Scorer``, loaded once per process): the feature layer's
matrix of the rows (the hold column at the spec's fill value for the duration head, as the
server does), profit and success evaluated at the row's ``hold_hours`` when the row has one,
else at the predicted optimal hold. Without a cluster the partitions are scored one after
another in this process; with one, through ``dask.dataframe`` ``map_partitions``. Either way
``OUT`` is a directory of ``part-<i>.parquet`` files, one per input partition, in order.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.dataset_files import feature_columns
from arbscore.data_tools.features import build_matrix
from arbscore.data_tools.partitioned import is_partitioned, partition_files
from arbscore.schema import HOLD_COLUMN
from arbscore.serve.scorer import Scorer

#: row keys copied from the input when present
KEY_COLUMNS: tuple[str, ...] = ("opportunity_id", "timestamp", "symbol", "strategy", HOLD_COLUMN)
SCORE_COLUMNS: tuple[str, ...] = (
    "predicted_profit_pct",
    "success_probability",
    "predicted_hold_hours",
    "composite_score",
)


@functools.lru_cache(maxsize=4)
def _scorer(bundle_dir: str) -> Scorer:
    return Scorer(bundle_dir)


def dataset_files(path: str | Path) -> list[Path]:
    """The Parquet files of ``path``: a partitioned set, a directory of ``*.parquet`` files or
    one ``.parquet`` file; ``ValueError`` naming the path otherwise."""
    path = Path(path)
    if path.is_file() and path.name.endswith(".parquet"):
        return [path]
    if path.is_dir():
        if is_partitioned(path):
            return partition_files(path)
        files = sorted(path.glob("*.parquet"))
        if files:
            return files
    raise ValueError(f"--data {path}: expected a .parquet file or a directory of .parquet files")


def score_frame(frame: pd.DataFrame, bundle_dir: str) -> pd.DataFrame:
    """The rows' keys and the bundle's four predictions (``SCORE_COLUMNS``) per row."""
    scorer = _scorer(str(bundle_dir))
    columns = {k: v for k, v in feature_columns(frame).items() if k != HOLD_COLUMN}
    X = build_matrix(columns, scorer.spec)
    hold = (
        frame[HOLD_COLUMN].to_numpy(np.float64)
        if HOLD_COLUMN in frame
        else np.full(len(frame), np.nan)
    )
    p = scorer.predict_matrix(X, hold) if len(frame) else None
    out = frame[[c for c in KEY_COLUMNS if c in frame.columns]].reset_index(drop=True)
    for name, values in zip(
        SCORE_COLUMNS,
        (p.profit_pct, p.success_probability, p.hold_hours, p.composite) if p else [[]] * 4,
        strict=True,
    ):
        out[name] = np.asarray(values, dtype=np.float64)
    out["model_version"] = scorer.model_version
    return out


def score_dataset(
    data: str | Path, bundle_dir: str | Path, out_dir: str | Path, *, cluster=None
) -> list[Path]:
    """Score every partition of ``data`` into ``out_dir`` (see the module docstring)."""
    files = dataset_files(data)
    bundle = str(Path(bundle_dir).resolve())
    _scorer(bundle)  # a bad bundle fails here, before any partition is read
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.parquet"):
        old.unlink()
    written = [out / f"part-{i}.parquet" for i in range(len(files))]
    if cluster is None:
        for file, target in zip(files, written, strict=True):
            score_frame(pd.read_parquet(file), bundle).to_parquet(target, index=False)
        return written
    import dask
    import dask.dataframe as dd

    # keep pandas' own string dtype, so both paths write the same Parquet schema
    with dask.config.set({"dataframe.convert-string": False}):
        frames = dd.from_map(pd.read_parquet, [str(f) for f in files])
        meta = score_frame(pd.read_parquet(files[0]).head(0), bundle)
        scored = frames.map_partitions(score_frame, bundle, meta=meta)
        scored.to_parquet(str(out), name_function=lambda i: f"part-{i}.parquet", write_index=False)
    return written
