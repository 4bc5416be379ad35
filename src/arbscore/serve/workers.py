"""``arbscore serve --workers N`` on Linux: N processes, each with its own listening socket on
the one port (``SO_REUSEPORT``), so the kernel spreads connections over the workers evenly.

uvicorn's own ``workers=N`` shares one listening socket between its workers; on a burst of
new connections whichever worker wakes first accepts most of them (measured with
``benchmarks/serve.py --only-concurrency --serve-workers 2``: ``c32_worker_cpu_s`` 0.18 vs
1.27 s), so a bot's few long-lived connections could end up on one core. With one socket
per worker the kernel hashes each connection to a socket.

:class:`Supervisor` (the parent) starts the workers, waits until each has loaded the bundle
restarts a worker that dies (waiting 1, 2, 4, ... s between failed tries), and on ``SIGHUP``
replaces the workers one at a time. The parent owns one bound socket per worker slot and hands
it to the slot's worker, so the new worker accepts from the very socket (and queue) the old
one leaves: the old one then drains (``serve/guard.py``: no new accepts, ``connection: close``
on its keep-alive connections, in-flight requests finished) and exits, so a reload drops no
request, and a new worker that fails to load (a bad bundle) leaves the old one serving.
Workers ignore SIGHUP (a terminal hang-up signals the whole process group; only the parent
reloads) and get SIGTERM from the kernel when the parent dies, even by SIGKILL
(``PR_SET_PDEATHSIG``), so none serves on as an orphan holding the port.
``SIGTERM``/``SIGINT`` drain every worker and then stop the parent.
Elsewhere (macOS has ``SO_REUSEPORT`` without the balancing) the CLI uses uvicorn's workers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)
#: how long a new worker may take to load the bundle and bind (seconds)
READY_TIMEOUT_S = 120.0
#: how long a stopping worker may take to finish its requests before SIGKILL (seconds)
STOP_TIMEOUT_S = 15.0
#: the longest wait between tries to start a worker that keeps failing (seconds)
MAX_BACKOFF_S = 60.0
_PR_SET_PDEATHSIG = 1


def balanced_workers_supported() -> bool:
    """Whether the kernel balances connections over ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bound(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that the other slots' sockets may bind too; its
    worker listens on it (``listen`` is called by the event loop when the worker serves)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def port_free(host: str, port: int) -> None:
    """OSError when something already listens on ``host:port`` (a second server there would
    otherwise join this one's ``SO_REUSEPORT`` group and share its connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        probe.bind((host, port))


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor dies (kill -9 included), so no worker
    keeps serving as an orphan; SIGTERM drains like a reload does."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent watch below is all there is
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(settings: str, sock, limits, log_level: str, parent: int, ready, go) -> None:
    """One worker process: load the bundle, say so, serve the slot's socket when told, drain
    and exit on SIGTERM."""
    # a terminal hang-up reaches the whole process group: only the supervisor reloads
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
    _die_with_parent(parent)
    from arbscore.serve.app import ENV_SETTINGS, app_from_env
    from arbscore.serve.guard import serve_on

    os.environ[ENV_SETTINGS] = settings
    try:
        app = app_from_env()  # a bad bundle: the process exits before it is ready
    except ValueError as exc:
        log.error("worker %d did not load the bundle: %s", os.getpid(), exc)
        sys.exit(2)
    ready.set()
    while not go.wait(1.0):  # the parent starts every first worker before the port opens
        if os.getppid() != parent:
            return
    serve_on(app, sock, limits, log_level)


class Supervisor:
    """The parent of ``n`` balanced workers (see the module docstring)."""

    def __init__(
        self, n: int, settings: str, host: str, port: int, log_level: str, limits=None
    ) -> None:
        from arbscore.serve.guard import ConnectionLimits

        self.n, self.settings, self.host, self.port = n, settings, host, port
        self.log_level = log_level
        self.limits = limits or ConnectionLimits()
        self._ctx = mp.get_context("spawn")
        self._workers: list[BaseProcess] = []
        self._socks: list[socket.socket] = []
        self._failures = [0] * n  # consecutive failed starts per slot (backoff)
        self._next_try = [0.0] * n
        self._reload = self._stop = False

    def _spawn(self, slot: int, go) -> tuple[BaseProcess, object]:
        ready = self._ctx.Event()
        proc = self._ctx.Process(
            target=_worker,
            args=(
                self.settings,
                self._socks[slot],
                self.limits,
                self.log_level,
                os.getpid(),
                ready,
                go,
            ),
            name="arbscore-serve-worker",
        )
        # the child starts with SIGHUP blocked (the mask survives exec) until it ignores it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
        return proc, ready

    def _wait_ready(self, proc: BaseProcess, ready) -> bool:
        """Whether ``proc`` loaded the bundle; a worker that did not is stopped."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.1):
            if not proc.is_alive() or time.monotonic() > deadline or self._stop:
                self._halt(proc)
                return False
        return True

    def _start(self, slot: int) -> BaseProcess | None:
        """A new worker on ``slot``'s socket, serving once it has loaded the bundle; None
        when it failed."""
        go = self._ctx.Event()
        go.set()
        proc, ready = self._spawn(slot, go)
        return proc if self._wait_ready(proc, ready) else None

    def _start_all(self) -> bool:
        """The first workers, loaded side by side; the port opens once every one is ready
        (the single-worker server also loads before it listens)."""
        go = self._ctx.Event()
        started = [self._spawn(slot, go) for slot in range(self.n)]
        ok = all([self._wait_ready(proc, ready) for proc, ready in started])
        self._workers = [proc for proc, _ in started]
        if ok:
            go.set()
        return ok

    @staticmethod
    def _halt(proc: BaseProcess) -> None:
        """SIGTERM (the worker drains), SIGKILL after :data:`STOP_TIMEOUT_S`."""
        if proc.is_alive():
            proc.terminate()
            proc.join(STOP_TIMEOUT_S)
        if proc.is_alive():
            proc.kill()
        proc.join(5)

    def _on_signal(self, signum: int, _frame) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
        else:
            self._stop = True

    def run(self) -> None:
        """Start the workers and supervise them until SIGTERM/SIGINT; raises RuntimeError
        when the first workers cannot start."""
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        port_free(self.host, self.port)
        self._socks = [bound(self.host, self.port) for _ in range(self.n)]
        try:
            if not self._start_all():
                if self._stop:
                    return
                raise RuntimeError("a worker did not start; its log above says why")
            log.info("%d workers on port %d (pids %s)", self.n, self.port, self.pids())
            while not self._stop:
                time.sleep(0.2)
                if self._reload:
                    self._reload = False
                    self._replace_all()
                self._restart_dead()
        finally:
            for proc in self._workers:
                if proc.is_alive():
                    proc.terminate()
            for proc in self._workers:
                self._halt(proc)
            for sock in self._socks:
                sock.close()

    def pids(self) -> list[int]:
        return [p.pid for p in self._workers if p.pid is not None]

    def _replace_all(self) -> None:
        """SIGHUP: each worker in turn replaced by a new one that has reloaded the bundle; the
        new one serves the old one's socket before the old one drains."""
        for slot, old in enumerate(list(self._workers)):
            new = self._start(slot)
            if new is None:
                log.error("reload: a new worker did not start; the old workers keep serving")
                return
            self._workers[slot] = new
            self._halt(old)
        log.info("reloaded: workers %s", self.pids())

    def _restart_dead(self) -> None:
        """Replace a dead worker (connections queued on its socket wait for the replacement);
        a slot whose replacement fails gets a fresh socket that takes no connections, and
        waits longer before each next try (1, 2, 4, ... up to :data:`MAX_BACKOFF_S` s)."""
        for slot, proc in enumerate(self._workers):
            if proc.is_alive() or self._stop or time.monotonic() < self._next_try[slot]:
                continue
            if self._failures[slot] == 0:
                log.error("worker %s exited with %s; starting another", proc.pid, proc.exitcode)
            new = self._start(slot)
            if new is not None:
                self._workers[slot] = new
                self._failures[slot] = 0
                continue
            # the slot's socket would hold its connections for a worker that is not coming:
            # a fresh bound (not listening) one takes no connections until a worker serves it
            self._socks[slot].close()
            self._socks[slot] = bound(self.host, self.port)
            delay = min(MAX_BACKOFF_S, 2.0 ** self._failures[slot])
            self._failures[slot] += 1
            self._next_try[slot] = time.monotonic() + delay
            log.error(
                "a replacement worker did not start (%d in a row); next try in %.0f s",
                self._failures[slot],
                delay,
            )
