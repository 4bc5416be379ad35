"""Batch scoring of a dataset with an ONNX bundle: ``arbscore score``.

Each partition (a file of the dataset) is scored by :func:`score_frame` with the bundle's
in-process scorer (``serve.scorer.Scorer``, loaded once per process): the feature layer's
matrix of the rows (the hold column at the spec's fill value for the duration head, as the
server does), profit and success evaluated at the row's ``hold_hours`` when the row has one,
else at the predicted optimal hold. Without a cluster the partitions are scored one after
another in this process; with one, through ``dask.dataframe`` ``map_partitions``. Either way
``OUT`` is a directory of ``part-<i>.parquet`` files, one per input partition, in order, and
``scores.json`` (the files and their rows), which appears with them in one rename.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.dataset_files import feature_columns
from arbscore.data_tools.features import build_matrix
from arbscore.data_tools.partitioned import is_partitioned, partition_files
from arbscore.export.manifest import MANIFEST_FILE, sha256_file
from arbscore.export.staging import check_replaceable, staged
from arbscore.schema import HOLD_COLUMN, MAX_HOLD_HOURS
from arbscore.serve.scorer import Scorer

#: row keys copied from the input when present
KEY_COLUMNS: tuple[str, ...] = ("opportunity_id", "timestamp", "symbol", "strategy", HOLD_COLUMN)
SCORE_COLUMNS: tuple[str, ...] = (
    "predicted_profit_pct",
    "success_probability",
    "predicted_hold_hours",
    "composite_score",
)


#: written last into a score output: its files and rows (a directory without it is not one)
SCORES_FILE = "scores.json"


@functools.lru_cache(maxsize=4)
def _scorer(bundle_dir: str, manifest_sha256: str) -> Scorer:
    """The scorer of one bundle version: cached by directory and manifest hash, so a bundle
    re-exported to the same path is loaded afresh (a long-lived Dask worker keeps this
    cache between runs); a directory whose manifest no longer has that hash is refused."""
    scorer = Scorer(bundle_dir)
    if scorer.manifest_sha256 != manifest_sha256:
        raise ValueError(
            f"bundle {bundle_dir} changed while scoring (manifest sha256 "
            f"{scorer.manifest_sha256[:12]}..., expected {manifest_sha256[:12]}...); score again"
        )
    return scorer


def _is_score_output(path: Path) -> bool:
    return (path / SCORES_FILE).is_file()


def dataset_files(path: str | Path) -> list[Path]:
    """The Parquet files of ``path``: a partitioned set, a score output (the files its
    ``scores.json`` lists), a directory of ``*.parquet`` files or one ``.parquet`` file;
    ``ValueError`` naming the path otherwise."""
    path = Path(path)
    if path.is_file() and path.name.endswith(".parquet"):
        return [path]
    if path.is_dir():
        if is_partitioned(path):
            return partition_files(path)
        if _is_score_output(path):
            listed = json.loads((path / SCORES_FILE).read_text(encoding="utf-8"))["files"]
            missing = [name for name in listed if not (path / name).is_file()]
            if missing:
                raise ValueError(f"--data {path}: {SCORES_FILE} lists missing files {missing}")
            return [path / name for name in listed]
        files = sorted(path.glob("*.parquet"))
        if files:
            return files
    raise ValueError(f"--data {path}: expected a .parquet file or a directory of .parquet files")


def _check_holds(frame: pd.DataFrame) -> None:
    """The holds ``POST /predict`` accepts: (0, MAX_HOLD_HOURS] hours, or none (NaN)."""
    if HOLD_COLUMN not in frame:
        return
    hold = frame[HOLD_COLUMN].to_numpy(np.float64)
    bad = ~np.isnan(hold) & ~((hold > 0) & (hold <= MAX_HOLD_HOURS))
    if bad.any():
        raise ValueError(
            f"--data: {int(bad.sum())} rows have {HOLD_COLUMN} outside (0, {MAX_HOLD_HOURS}] "
            f"(first: {hold[bad][0]!r}); a hold is a positive number of hours, as /predict takes"
        )


def score_frame(frame: pd.DataFrame, bundle_dir: str, manifest_sha256: str) -> pd.DataFrame:
    """The rows' keys and the bundle's four predictions (``SCORE_COLUMNS``) per row."""
    scorer = _scorer(str(bundle_dir), manifest_sha256)
    _check_holds(frame)
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


def _overlaps(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def score_dataset(
    data: str | Path, bundle_dir: str | Path, out_dir: str | Path, *, cluster=None
) -> list[Path]:
    """Score every partition of ``data`` into ``out_dir`` (see the module docstring).

    The parts are written into a hidden sibling of ``out_dir`` with ``scores.json`` last and
    swapped in whole (:mod:`arbscore.export.staging`): a killed run leaves ``out_dir`` as it
    was. ``out_dir`` must not hold or lie inside the input, and an existing one must be an
    earlier score output (or empty)."""
    files = dataset_files(data)
    out = Path(out_dir)
    if _overlaps(out, Path(data)):
        raise ValueError(f"--out {out} overlaps --data {data}; write the scores elsewhere")
    check_replaceable(out, _is_score_output, "--out", "an earlier `arbscore score` output")
    bundle = str(Path(bundle_dir).resolve())
    manifest = Path(bundle) / MANIFEST_FILE
    token = sha256_file(manifest) if manifest.is_file() else ""  # else the Scorer says why
    scorer = _scorer(bundle, token)  # a bad bundle fails here, before any partition is read
    names = [f"part-{i}.parquet" for i in range(len(files))]
    with staged(out, "score") as tmp:
        if cluster is None:
            for file, name in zip(files, names, strict=True):
                score_frame(pd.read_parquet(file), bundle, token).to_parquet(
                    tmp / name, index=False
                )
        else:
            import dask
            import dask.dataframe as dd

            # keep pandas' own string dtype, so both paths write the same Parquet schema
            with dask.config.set({"dataframe.convert-string": False}):
                frames = dd.from_map(pd.read_parquet, [str(f) for f in files])
                meta = score_frame(pd.read_parquet(files[0]).head(0), bundle, token)
                scored = frames.map_partitions(score_frame, bundle, token, meta=meta)
                scored.to_parquet(
                    str(tmp), name_function=lambda i: f"part-{i}.parquet", write_index=False
                )
        import pyarrow.parquet as pq

        rows = [pq.ParquetFile(tmp / name).metadata.num_rows for name in names]
        summary = {
            "files": names,
            "rows": rows,
            "total_rows": sum(rows),
            "model_version": scorer.model_version,
            "data": str(data),
        }
        (tmp / SCORES_FILE).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return [out / name for name in names]
