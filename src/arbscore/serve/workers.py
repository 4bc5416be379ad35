"""``arbscore serve --workers N`` on Linux: N processes, each with its own listening socket on
the one port (``SO_REUSEPORT``), so the kernel spreads connections over the workers evenly.

uvicorn's own ``workers=N`` shares one listening socket between its workers; on a burst of
new connections whichever worker wakes first accepts most of them (measured with
``benchmarks/serve.py --only-concurrency --serve-workers 2``: ``c32_worker_cpu_s`` 0.18 vs
1.27 s), so a bot's few long-lived connections could end up on one core. With one socket
per worker the kernel hashes each connection to a socket.

:class:`Supervisor` (the parent) starts the workers, waits until each has loaded the bundle
and bound its socket, restarts a worker that dies, and on ``SIGHUP`` replaces the workers one
at a time: the new one joins the port before the old one leaves, so reload refuses no
connection, and a new worker that fails to load (a bad bundle) leaves the old one serving.
``SIGTERM``/``SIGINT`` stop every worker (uvicorn's graceful shutdown) and then the parent.
Elsewhere (macOS has ``SO_REUSEPORT`` without the balancing) the CLI uses uvicorn's workers.
"""

from __future__ import annotations

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


def balanced_workers_supported() -> bool:
    """Whether the kernel balances connections over ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other workers may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def port_free(host: str, port: int) -> None:
    """OSError when something already listens on ``host:port`` (a second server there would
    otherwise join this one's ``SO_REUSEPORT`` group and share its connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        probe.bind((host, port))


def _worker(settings: str, host: str, port: int, log_level: str, ready, go) -> None:
    """One worker process: load the bundle, say so, join the port when told, serve until
    told to stop."""
    import uvicorn

    from arbscore.serve.app import ENV_SETTINGS, app_from_env

    os.environ[ENV_SETTINGS] = settings
    try:
        app = app_from_env()  # a bad bundle: the process exits before it is ready
    except ValueError as exc:
        log.error("worker %d did not load the bundle: %s", os.getpid(), exc)
        sys.exit(2)
    ready.set()
    while not go.wait(1.0):  # the parent starts every first worker before the port opens
        if os.getppid() == 1:
            return
    sock = listen(host, port)
    config = uvicorn.Config(app, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """The parent of ``n`` balanced workers (see the module docstring)."""

    def __init__(self, n: int, settings: str, host: str, port: int, log_level: str) -> None:
        self.n, self.settings, self.host, self.port = n, settings, host, port
        self.log_level = log_level
        self._ctx = mp.get_context("spawn")
        self._workers: list[BaseProcess] = []
        self._reload = self._stop = False

    def _spawn(self, go) -> tuple[BaseProcess, object]:
        ready = self._ctx.Event()
        proc = self._ctx.Process(
            target=_worker,
            args=(self.settings, self.host, self.port, self.log_level, ready, go),
            name="arbscore-serve-worker",
        )
        proc.start()
        return proc, ready

    def _wait_ready(self, proc: BaseProcess, ready) -> bool:
        """Whether ``proc`` loaded the bundle; a worker that did not is stopped."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.1):
            if not proc.is_alive() or time.monotonic() > deadline or self._stop:
                self._halt(proc)
                return False
        return True

    def _start(self) -> BaseProcess | None:
        """A new worker serving once it has loaded the bundle; None when it failed."""
        go = self._ctx.Event()
        go.set()
        proc, ready = self._spawn(go)
        return proc if self._wait_ready(proc, ready) else None

    def _start_all(self) -> bool:
        """The first workers, loaded side by side; the port opens once every one is ready
        (the single-worker server also loads before it listens)."""
        go = self._ctx.Event()
        started = [self._spawn(go) for _ in range(self.n)]
        ok = all([self._wait_ready(proc, ready) for proc, ready in started])
        self._workers = [proc for proc, _ in started]
        if ok:
            go.set()
        return ok

    @staticmethod
    def _halt(proc: BaseProcess) -> None:
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

    def pids(self) -> list[int]:
        return [p.pid for p in self._workers if p.pid is not None]

    def _replace_all(self) -> None:
        """SIGHUP: each worker in turn replaced by a new one that has reloaded the bundle."""
        for i, old in enumerate(list(self._workers)):
            new = self._start()
            if new is None:
                log.error("reload: a new worker did not start; the old workers keep serving")
                return
            self._workers[i] = new
            self._halt(old)
        log.info("reloaded: workers %s", self.pids())

    def _restart_dead(self) -> None:
        for i, proc in enumerate(self._workers):
            if not proc.is_alive() and not self._stop:
                log.error("worker %s exited with %s; starting another", proc.pid, proc.exitcode)
                new = self._start()
                if new is not None:
                    self._workers[i] = new
