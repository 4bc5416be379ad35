"""``--cluster local[:N]`` / ``--cluster tcp://HOST:8786`` / ``ARBSCORE_DASK_SCHEDULER``.

:class:`Cluster` opens a Dask client (a ``LocalCluster`` of N worker processes, one thread
each, or an existing scheduler) and offers :meth:`Cluster.map`, the ``mapper`` that
``data_tools.partitioned.build_partitioned`` and ``evaluation.evaluate`` take: one task per
item, the results yielded in the items' order. Each task runs with a bounded thread count
(the worker's own ``nthreads``, handed to XGBoost/LightGBM through ``ARBSCORE_THREADS`` and
to BLAS through ``OMP_NUM_THREADS`` on local workers), so a worker is not oversubscribed.
Tasks carry their inputs (no scattered data), so a task whose worker dies is run again on
another worker by the scheduler; a task that kills ``allowed-failures`` workers fails the run
with a ``ClusterError``.

Dask is imported only in :meth:`Cluster.__enter__`: without ``--cluster`` nothing imports it.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from arbscore.gbdt.config import THREADS_ENV

log = logging.getLogger(__name__)

SCHEDULER_ENV = "ARBSCORE_DASK_SCHEDULER"
DEFAULT_LOCAL_WORKERS = 2
#: how long ``Cluster.close`` waits for restarting local workers to register (seconds)
RESTART_WAIT_S = 30.0


class ClusterError(RuntimeError):
    """The cluster could not be reached, or a task failed on it."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run: ``address`` of a scheduler, or ``workers`` local worker processes."""

    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if (self.workers is None) == (self.address is None):
            raise ValueError("ClusterSpec: give exactly one of workers (local) or address")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--cluster local:{self.workers}: expected at least 1 worker")

    def describe(self) -> str:
        return f"LocalCluster({self.workers} workers)" if self.address is None else self.address


def parse_cluster(text: str | None, environ: Mapping[str, str] = os.environ) -> ClusterSpec | None:
    """``--cluster`` (else ``ARBSCORE_DASK_SCHEDULER``) as a spec; None when neither is set."""
    where = "--cluster"
    if not text:
        text, where = environ.get(SCHEDULER_ENV, "").strip(), SCHEDULER_ENV
    if not text:
        return None
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2] or str(DEFAULT_LOCAL_WORKERS)
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"{where} {text!r}: expected local:N with N a whole number >= 1")
        return ClusterSpec(workers=int(count))
    if text.startswith(("tcp://", "tls://")) and len(text.split("://", 1)[1]) > 0:
        return ClusterSpec(address=text)
    raise ValueError(f"{where} {text!r}: expected local, local:N or tcp://HOST:PORT")


class BoundedTask:
    """``fn`` run with the worker's thread count exported, so fits inside use that many."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: Any) -> Any:
        from distributed import get_worker

        worker = get_worker()
        threads = getattr(worker, "nthreads", None) or worker.state.nthreads
        os.environ[THREADS_ENV] = str(max(1, int(threads)))
        return self.fn(item)


#: Imported on every worker when the client opens, so a fresh worker's first task does not pay
#: them (4x universe: first partition 2.2 s, the next 0.9 s; 1.6 s for the first with these).
WARM_MODULES = ("pandas", "pyarrow.parquet", "arbscore.data_tools.training_set")


def _warm_imports() -> None:
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)


def _glibc_trim_default() -> Any:
    """Dask config without the ``MALLOC_TRIM_THRESHOLD_=65536`` that Dask's nanny exports to
    the worker processes it spawns: on the pandas-heavy partition tasks it cost about 30 % of
    each task's time (``benchmarks/scale.py``; measured in a plain process pool with and
    without the variable), so local workers keep glibc's own, adaptive threshold. A real
    cluster's ``dask-worker`` reads its own config: docs/scaling.md says how to do the same."""
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    environ = dict(dask.config.get(key, default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return dask.config.set({key: environ})


class Cluster:
    """A Dask client for the life of a ``with`` block; :meth:`map` runs tasks on it."""

    def __init__(self, spec: ClusterSpec, *, threads_per_worker: int = 1, timeout_s: float = 30):
        self.spec = spec
        self.threads_per_worker = threads_per_worker
        self.timeout_s = timeout_s
        self.client: Any = None
        self._local: Any = None

    def __enter__(self) -> Cluster:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ClusterError(
                "--cluster needs Dask: pip install 'arbscore[dask]' (dask + distributed)"
            ) from exc
        try:
            if self.spec.address is None:
                threads = str(self.threads_per_worker)
                with _glibc_trim_default():
                    self._local = LocalCluster(
                        n_workers=self.spec.workers,
                        threads_per_worker=self.threads_per_worker,
                        processes=True,
                        dashboard_address=":0",  # any free port: never clash with a running one
                        env={"OMP_NUM_THREADS": threads, THREADS_ENV: threads},
                    )
                self.client = Client(self._local, timeout=self.timeout_s)
            else:
                self.client = Client(self.spec.address, timeout=self.timeout_s)
        except OSError as exc:  # a scheduler that does not answer: TimeoutError is an OSError
            self.close()
            raise ClusterError(f"--cluster {self.spec.describe()}: cannot connect ({exc})") from exc
        self.client.run(_warm_imports)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.client is not None:
            if self._local is not None:
                # a task that killed its worker leaves the Nanny restarting it; closing the
                # LocalCluster mid-restart trips distributed's "can only join a started
                # process" assertion, so let the restarted workers register first
                try:
                    self.client.wait_for_workers(self.spec.workers, timeout=RESTART_WAIT_S)
                except Exception as exc:  # noqa: BLE001 - best effort before closing
                    log.warning("workers not all back before close: %s", exc)
            self.client.close()
            self.client = None
        if self._local is not None:
            local, self._local = self._local, None
            try:
                local.close()
            except AssertionError as exc:  # the race above, if a restart outlasted the wait
                # the caller's error is the task's; the worker processes are the cluster's
                # children and end with it
                log.warning("LocalCluster close raced a worker restart: %s", exc)

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """One task per item, the results yielded in the items' order. At most ``window``
        tasks (twice the workers, at least 4) are in flight, so the items (a partition's
        market slice, a fold's matrices) are drawn and shipped only as workers free up."""
        task = BoundedTask(fn)
        window = max(4, 2 * self.workers())
        pending: deque[Any] = deque()
        try:
            for item in items:
                with warnings.catch_warnings():
                    # each task carries its inputs on purpose (rerun after a worker dies), so
                    # Dask's "large graph" advice does not apply
                    warnings.filterwarnings("ignore", message="Sending large graph")
                    pending.append(self.client.submit(task, item, pure=False))
                if len(pending) >= window:
                    yield self._result(pending.popleft())
            while pending:
                yield self._result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()

    def _result(self, future: Any) -> Any:
        try:
            value = future.result()
        except Exception as exc:
            raise ClusterError(
                f"task {future.key} failed on {self.spec.describe()}: {type(exc).__name__}: {exc}"
            ) from exc
        future.release()
        return value


class Serial:
    """No cluster: the builtin ``map`` in this process (imports nothing)."""

    spec = None

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @staticmethod
    def map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return map(fn, items)


def open_cluster(text: str | None, environ: Mapping[str, str] = os.environ) -> Cluster | Serial:
    """A context giving ``.map``: a :class:`Cluster` for ``--cluster``/the environment variable,
    else :class:`Serial`. ``ValueError`` for a malformed value (the CLI's exit 2)."""
    spec = parse_cluster(text, environ)
    return Serial() if spec is None else Cluster(spec)
