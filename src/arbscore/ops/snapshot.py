"""The read verbs beside a server that holds the DuckDB store.

A DuckDB file has one writer and, while that writer runs, no other process may open it, not
even read-only. ``arbscore serve --ops-db FILE`` holds the file for its tracking, so after each
ops round (every ``--ops-interval`` seconds, and once at start) it also writes a consistent copy,
``FILE`` with ``.snapshot`` before its suffix (``market.duckdb`` -> ``market.snapshot.duckdb``),
through DuckDB's ``COPY FROM DATABASE`` into a new file renamed over the last one.
:func:`open_for_reading` opens the store itself when it can, else a private copy of that
snapshot, and says which (and how old) so a report on it is never mistaken for a live one.
PostgreSQL has no such limit: there every verb opens the store itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arbscore.data_tools.store import MarketStore, default_store_url, open_store


def snapshot_path(db: str | os.PathLike) -> Path:
    """Where the server writes the readable copy of the DuckDB store ``db``."""
    path = Path(db)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def write_snapshot(store: MarketStore, lock: Any = None) -> Path | None:
    """Copy a DuckDB ``store`` to :func:`snapshot_path` (atomically: a new file renamed over
    the last); None for PostgreSQL or an in-memory store, which need none."""
    if store.kind != "duckdb" or store.location == ":memory:":
        return None
    target = snapshot_path(store.location)
    partial = target.with_name(f"{target.name}.partial")
    partial.unlink(missing_ok=True)
    with lock if lock is not None else contextlib.nullcontext():
        store.copy_to(partial)
    os.replace(partial, target)
    return target


@dataclass(frozen=True)
class Reading:
    """What a read verb opened: the ``store``, and ``note`` when it is the server's snapshot."""

    store: MarketStore
    note: str | None = None


def held_by_another_process(path: str) -> bool:
    """True when another process holds the DuckDB file ``path`` (it cannot be opened here)."""
    import duckdb

    try:
        duckdb.connect(path, read_only=True).close()
    except duckdb.IOException as exc:
        return "lock" in str(exc).lower()
    return False


@contextlib.contextmanager
def open_for_reading(db: str | None) -> Iterator[Reading]:
    """The store at ``db`` for reading; the server's snapshot of it when a server holds it.

    ``ValueError`` (exit 2) when the file is held and no snapshot exists yet."""
    target = str(db) if db is not None else default_store_url()
    is_file = "://" not in target and target != ":memory:" and os.path.exists(target)
    if not (is_file and held_by_another_process(target)):
        with open_store(target, must_exist=True) as store:
            yield Reading(store)
        return
    snapshot = snapshot_path(target)
    if not snapshot.exists():
        raise ValueError(
            f"--db: {target} is held by another process and has no snapshot {snapshot} yet "
            "(`arbscore serve --ops-db` writes one after each ops round); wait for it, stop "
            "that process, or use PostgreSQL (--db postgresql://...)"
        )
    age_s = time.time() - snapshot.stat().st_mtime
    with tempfile.TemporaryDirectory(prefix="arbscore-read-") as tmp:
        copy = Path(tmp) / snapshot.name  # private: the server may replace the snapshot meanwhile
        shutil.copyfile(snapshot, copy)
        note = (
            f"{target} is held by another process (arbscore serve --ops-db): reading its "
            f"snapshot {snapshot}, written {age_s:.0f} s ago"
        )
        with open_store(copy, must_exist=True) as store:
            yield Reading(store, note)


__all__ = [
    "Reading",
    "held_by_another_process",
    "open_for_reading",
    "snapshot_path",
    "write_snapshot",
]


def read_recorded_live(path: str | os.PathLike) -> Any:
    """Recorded live snapshots from a file (``--replay``): Parquet or CSV with the
    ``live_snapshots`` table's columns, as ``arbscore data export live_snapshots FILE`` writes
    them. Times are read as UTC; a missing file or column is a ``ValueError`` naming it."""
    import pandas as pd

    from arbscore.data_tools.store import LIVE_SNAPSHOTS

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--replay: no such file {path}")
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz")):
        frame = pd.read_csv(path)
    else:
        raise ValueError(f"--replay {path}: expected a .parquet or .csv file of live snapshots")
    required = [c.name for c in LIVE_SNAPSHOTS.columns if not c.nullable]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"--replay {path}: missing columns {missing} (write the file with "
            "`arbscore data export live_snapshots FILE`)"
        )
    if frame.empty:
        raise ValueError(f"--replay {path}: the file holds no rows")
    for column in LIVE_SNAPSHOTS.columns:
        if column.name not in frame:  # a column the recording lacks is unknown, not absent
            frame[column.name] = None
        try:
            if column.type == "time":
                frame[column.name] = pd.to_datetime(frame[column.name], utc=True, format="mixed")
            elif column.type == "float":
                frame[column.name] = pd.to_numeric(frame[column.name], errors="raise")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"--replay {path}: column {column.name}: {exc}") from exc
    return frame
