"""The served model and how it may be swapped: :class:`ModelProvider` and :class:`ReloadPolicy`.

A reload builds a complete new Scorer first (off the event loop) and then swaps one reference,
so requests already running finish on the model they started with and no request ever sees a
half-loaded bundle; a bundle that fails to load leaves the old one serving.

Who may reload: ``SIGHUP`` always (it reloads the bundle directory being served). Over HTTP
(``POST /reload``) only when the server was started with ``--allow-reload``, only a bundle
under the reload root, and, when a token is set, only with ``Authorization: Bearer TOKEN``.
A name that is outside the root, absent, or not a bundle directory gets one and the same
answer (404), so the endpoint cannot be used to probe the file system.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi.concurrency import run_in_threadpool

from arbscore.composite import CompositeConfig
from arbscore.export.manifest import MANIFEST_FILE
from arbscore.serve.errors import BadRequest
from arbscore.serve.scorer import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadPolicy:
    """Whether ``POST /reload`` works, for which directories, behind which token."""

    allow_http: bool = False
    root: Path | None = None  # default: the served bundle's parent directory
    token: str | None = None

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < 16:
            raise ValueError(
                "reload token: use at least 16 characters (e.g. `openssl rand -hex 16`)"
            )
        if self.root is not None and not Path(self.root).is_dir():
            raise ValueError(f"--reload-root {self.root}: not a directory")


class ModelProvider:
    """Holds the current Scorer; ``reload`` swaps it atomically."""

    def __init__(
        self, bundle_dir: Path, composite: CompositeConfig, policy: ReloadPolicy = ReloadPolicy()
    ) -> None:
        self.composite = composite
        self.policy = policy
        self.bundle_dir = Path(bundle_dir)
        self.scorer = Scorer(self.bundle_dir, composite=composite)
        # the parent of the path as given: for ROOT/current -> versions/<id>/bundle it is ROOT
        default_root = Path(os.path.abspath(self.bundle_dir)).parent
        self.root = Path(os.path.realpath(policy.root or default_root))
        self._lock = asyncio.Lock()
        self.reloads = 0

    async def reload(self, bundle_dir: Path | None = None) -> Scorer:
        """Load ``bundle_dir`` (default: the current one) off the event loop, then swap."""
        async with self._lock:
            target = Path(bundle_dir) if bundle_dir else self.bundle_dir
            try:
                new = await run_in_threadpool(Scorer, target, composite=self.composite)
            except Exception as exc:
                log.warning(
                    "reload of %s failed, %s still served: %s",
                    target,
                    self.scorer.model_version,
                    exc,
                )
                raise
            old = self.scorer.model_version
            self.scorer, self.bundle_dir = new, target
            self.reloads += 1
            log.info(
                "reloaded %s: model %s -> %s (reload %d)",
                target,
                old,
                new.model_version,
                self.reloads,
            )
            return new

    def check_access(self, authorization: str | None) -> None:
        """BadRequest 403 when HTTP reload is off, 401 without the right bearer token."""
        if not self.policy.allow_http:
            raise BadRequest(
                403,
                ["body"],
                "reload over HTTP is off; start the server with --allow-reload "
                "(or send it SIGHUP to reload the bundle it serves)",
                "forbidden",
            )
        if self.policy.token is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.policy.token.encode()
        ):
            raise BadRequest(
                401,
                ["header", "authorization"],
                "reload needs the header 'Authorization: Bearer <token>' with the server's "
                "reload token",
                "unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="arbscore reload"'},
            )

    def resolve(self, name: str) -> Path:
        """The bundle directory ``name`` names under the reload root; BadRequest 404 with one
        message for outside / absent / not a bundle (nothing about which)."""
        candidate = Path(name)
        path = candidate if candidate.is_absolute() else self.root / candidate
        try:
            real = Path(os.path.realpath(path))
            inside = real != self.root and real.is_relative_to(self.root)
            ok = inside and (real / MANIFEST_FILE).is_file()
        except (OSError, ValueError):  # a name the OS cannot even look up (NUL, too long)
            ok = False
        if not ok:
            raise BadRequest(
                404,
                ["body", "bundle"],
                f"no bundle {name!r} under the reload root; give a bundle directory "
                "(relative to the root, or absolute inside it)",
                "not_found",
            )
        return path
