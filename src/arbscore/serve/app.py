"""The HTTP server: the SPEC's contract (``/health``, ``/predict``, ``/predict/batch``) plus
``/models``, ``/metrics``, ``/size``, ``/exit-signal`` and ``/reload``.

Handlers read the body and hand it to :mod:`arbscore.serve.handlers`: in the scoring threads
for batches, sizing, exits and large bodies; a ``/predict`` body up to
``ServeConfig.inline_max_bytes`` is scored on the event loop (~0.1 ms, cheaper than the
hand-off). ``POST /predict`` itself is answered ahead of FastAPI's routing by
``serve/fastpath.py`` (same handler, same bytes). Scoring lives in :class:`Scorer`, sizing in
``sizing.py``, exit rules in ``exits.py``, the model and who may swap it in
:mod:`arbscore.serve.provider`, the one error shape in :mod:`arbscore.serve.errors`.

Bad input is always a 4xx naming the field (``detail[].loc`` plus one readable ``message``),
never a 500: malformed JSON 400, validation 422, batch or body over the limit 413; reload
refusals 401/403/404 (``provider.py``).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic.json_schema import models_json_schema

from arbscore.composite import CompositeConfig
from arbscore.serve import handlers
from arbscore.serve.answers import bundle_facts
from arbscore.serve.errors import BadRequest, error_responses, install_error_handlers
from arbscore.serve.exits import ExitConfig
from arbscore.serve.fastpath import FastPredict, FrontDoorAPI
from arbscore.serve.metrics import CONTENT_TYPE, Metrics, MetricsAndLimits
from arbscore.serve.provider import ModelProvider, ReloadPolicy
from arbscore.serve.requests import decode_json, validate
from arbscore.serve.schemas import (
    HEALTH_FACTS,
    OPPORTUNITY_MARK,
    CurrentState,
    ExitRequest,
    ExitResponse,
    Health,
    Prediction,
    ReloadRequest,
    ReloadResponse,
    SizeRequest,
    SizeResponse,
)
from arbscore.serve.scorer import Scorer
from arbscore.serve.sizing import SizingConfig

PATHS = (
    "/health",
    "/predict",
    "/predict/batch",
    "/models",
    "/metrics",
    "/size",
    "/exit-signal",
    "/reload",
    "/openapi.json",
    "/docs",
)
#: the environment variable ``app_from_env`` (``--workers N``) reads its settings from
ENV_SETTINGS = "ARBSCORE_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeConfig:
    """Server limits, reload policy and the scoring/sizing/exit settings."""

    max_batch: int = 1000
    max_body_bytes: int = 2 * 1024 * 1024
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    exits: ExitConfig = field(default_factory=ExitConfig)
    reload: ReloadPolicy = field(default_factory=ReloadPolicy)
    reload_on_sighup: bool = True
    #: threads that decode, validate and score requests (off the event loop); few, so a
    #: burst queues in order instead of 40 threads taking turns at the GIL
    scoring_threads: int = 2
    #: a ``/predict`` body up to this many bytes is scored on the event loop (~0.1 ms of
    #: work, in arrival order, no thread hand-off: at 32 connections the hand-off cost more
    #: than the scoring); larger bodies and every batch go to the scoring threads. 0: never
    inline_max_bytes: int = 4096
    #: answer ``POST /predict`` in ASGI ahead of FastAPI's routing (``serve/fastpath.py``:
    #: the same handler and answers, a fraction of the per-request overhead); False (or
    #: ``opentelemetry``, whose spans FastAPI makes): the FastAPI route
    fast_predict: bool = True
    #: the interpreter's GIL switch interval while serving (``sys.setswitchinterval``;
    #: Python's default is 5 ms): how long the event loop may wait for a scoring thread to
    #: let go of the GIL, i.e. what a 1000-row batch adds to a ``/health`` on another
    #: connection. None: leave the interpreter's setting
    gil_switch_interval_s: float | None = 0.001
    #: optional ``sink(scorer, records, predictions, raw_items)`` called after every /predict
    #: and /predict/batch (prediction tracking, drift: ``arbscore.ops``); ``raw_items`` are the
    #: JSON objects as sent (legs, ids the model ignores). It runs in the scoring thread and
    #: must not block.
    prediction_sink: Callable[[Scorer, list[dict], list[dict], list], None] | None = None
    #: FastAPI's native OpenTelemetry (spans, request metrics, logs; FastAPI >= 0.165) for a
    #: process with an OpenTelemetry SDK configured. Off by default: the Prometheus metrics
    #: at ``/metrics`` are the server's own, and FastAPI's per-request check for configured
    #: providers costs ~8 us of every request even with no SDK installed
    opentelemetry: bool = False
    #: ``/health`` says "stale" once the bundle is older than this (days since its export)
    max_model_age_days: float | None = None

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError(f"ServeConfig.max_batch={self.max_batch}: must be >= 1")
        if self.max_body_bytes < 1024:
            raise ValueError(f"ServeConfig.max_body_bytes={self.max_body_bytes}: must be >= 1024")
        if not 0 <= self.inline_max_bytes <= 65536:
            raise ValueError(
                f"ServeConfig.inline_max_bytes={self.inline_max_bytes}: must be 0..65536"
            )
        interval = self.gil_switch_interval_s
        if interval is not None and not 1e-5 <= interval <= 0.1:
            raise ValueError(f"ServeConfig.gil_switch_interval_s={interval}: must be 1e-5..0.1")
        if not 1 <= self.scoring_threads <= 64:
            raise ValueError(f"ServeConfig.scoring_threads={self.scoring_threads}: must be 1..64")
        if self.max_model_age_days is not None and not self.max_model_age_days > 0:
            raise ValueError(
                f"ServeConfig.max_model_age_days={self.max_model_age_days}: must be > 0"
            )


def _body(name: str) -> dict:
    """``openapi_extra`` for a JSON request body of component ``name``."""
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _link_opportunities(node):
    """Replace every schema marked :data:`OPPORTUNITY_MARK` with a ``$ref`` to Opportunity."""
    if isinstance(node, dict):
        if node.get(OPPORTUNITY_MARK):
            return {"$ref": "#/components/schemas/Opportunity"}
        return {k: _link_opportunities(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_link_opportunities(v) for v in node]
    return node


def _openapi(app: FastAPI, provider: ModelProvider, config: ServeConfig) -> Callable[[], dict]:
    """The document at /openapi.json: FastAPI's, plus the request models as components, the
    served bundle's strategies as the ``strategy`` enum and the reload token scheme."""

    def build() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        opportunity = provider.scorer.request.model
        models = (opportunity, SizeRequest, ExitRequest, CurrentState, ReloadRequest)
        _, defs = models_json_schema(
            [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(_link_opportunities(defs.get("$defs", {})))
        schemas["Opportunity"]["properties"]["strategy"]["enum"] = list(
            provider.scorer.spec.strategies
        )
        batch = doc["paths"]["/predict/batch"]["post"]["requestBody"]["content"]
        batch["application/json"]["schema"]["maxItems"] = config.max_batch
        if config.reload.token:
            doc["components"]["securitySchemes"] = {
                "reloadToken": {"type": "http", "scheme": "bearer"}
            }
            doc["paths"]["/reload"]["post"]["security"] = [{"reloadToken": []}]
        app.openapi_schema = doc
        return doc

    return build


def _telemetry(enabled: bool) -> dict:
    """``FastAPI(telemetry=...)`` turning its native OpenTelemetry off unless ``enabled``;
    nothing for a FastAPI without that argument (older than 0.165: no native telemetry)."""
    if enabled or "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(bundle_dir: Path | str, config: ServeConfig = ServeConfig()) -> FastAPI:
    """The FastAPI app serving ``bundle_dir``; raises ValueError for a bad bundle."""
    from arbscore import __version__

    provider = ModelProvider(Path(bundle_dir), config.composite, config.reload)
    metrics = Metrics(PATHS)
    pool = ThreadPoolExecutor(config.scoring_threads, thread_name_prefix="arbscore-score")

    async def off_loop(func: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, func, *args)

    async def reload(target: Path | None = None) -> Scorer:
        scorer = await provider.reload(target)
        app.openapi_schema = None  # the strategy enum follows the bundle
        return scorer

    def _reload_in_background() -> None:
        task = asyncio.ensure_future(reload())
        # a failed reload is logged by the provider (the old model serves on): retrieve it
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        previous_interval = sys.getswitchinterval()
        if config.gil_switch_interval_s is not None:
            sys.setswitchinterval(config.gil_switch_interval_s)
        # everything loaded so far (the bundle's sessions, the web stack) lives as long as the
        # server: out of the collector's way, so a full collection after a batch stays short
        gc.collect()
        gc.freeze()
        if config.reload_on_sighup:
            # not possible outside the main thread or on platforms without SIGHUP
            with suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _reload_in_background)
        yield
        pool.shutdown(wait=False, cancel_futures=True)
        gc.unfreeze()
        sys.setswitchinterval(previous_interval)

    app = FrontDoorAPI(
        **_telemetry(config.opentelemetry),
        title="arbscore ml-api",
        version=__version__,
        lifespan=lifespan,
        description="Scores funding-rate arbitrage opportunities from an ONNX bundle. Every "
        'error answer is {"detail": [{"loc", "msg", "type"}], "message"}.',
    )
    app.state.provider = provider
    app.state.metrics = metrics  # ops adds its drift gauges here (Metrics.add_collector)

    async def predict_body(raw: bytes) -> bytes:
        args = (provider.scorer, raw, config.prediction_sink)
        if len(raw) <= config.inline_max_bytes:
            return handlers.predict_one(*args)
        return await off_loop(handlers.predict_one, *args)

    # every HTTP request: counted and size-limited, then POST /predict answered directly,
    # the rest by FastAPI (serve/fastpath.py)
    fast = config.fast_predict and not config.opentelemetry  # spans need FastAPI's own path
    inner = FastPredict(app.inner, "/predict", predict_body) if fast else app.inner
    app.front = MetricsAndLimits(inner, metrics=metrics, max_body_bytes=config.max_body_bytes)
    app.openapi = _openapi(app, provider, config)
    install_error_handlers(app)
    scoring_errors = error_responses(400, 413, 422)

    @app.get("/health", response_model=Health)
    async def health() -> dict:
        facts = bundle_facts(
            provider.scorer.manifest, datetime.now(timezone.utc), config.max_model_age_days
        )
        return {
            "status": "stale" if facts["stale"] else "healthy",
            "service": "ml-api",
            "version": __version__,
            "model_version": provider.scorer.model_version,
            **{k: facts[k] for k in HEALTH_FACTS},
        }

    @app.post(
        "/predict",
        response_model=Prediction,
        openapi_extra=_body("Opportunity"),
        responses=scoring_errors,
    )
    async def predict(request: Request) -> Response:
        # reached only when the fast path is off (fast_predict False or opentelemetry on);
        # documents the endpoint either way
        return Response(await predict_body(await request.body()), media_type="application/json")

    batch_body = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Opportunity"},
                    }
                }
            },
        }
    }

    @app.post(
        "/predict/batch",
        response_model=list[Prediction],
        openapi_extra=batch_body,
        responses=scoring_errors,
    )
    async def predict_batch(request: Request) -> Response:
        raw = await request.body()
        body = await off_loop(
            handlers.predict_batch,
            provider.scorer,
            raw,
            config.max_batch,
            config.prediction_sink,
        )
        return Response(body, media_type="application/json")

    @app.get("/models")
    async def models() -> dict:
        facts = bundle_facts(
            provider.scorer.manifest, datetime.now(timezone.utc), config.max_model_age_days
        )
        return {
            "bundle": str(provider.bundle_dir),
            "reloads": provider.reloads,
            **facts,
            **provider.scorer.manifest,
        }

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)

    @app.post(
        "/size",
        response_model=SizeResponse,
        openapi_extra=_body("SizeRequest"),
        responses=scoring_errors,
    )
    async def size_endpoint(request: Request) -> JSONResponse:
        raw = await request.body()
        answer = await off_loop(handlers.size, provider.scorer, raw, config.sizing)
        return JSONResponse(answer)

    @app.post(
        "/exit-signal",
        response_model=ExitResponse,
        openapi_extra=_body("ExitRequest"),
        responses=scoring_errors,
    )
    async def exit_endpoint(request: Request) -> JSONResponse:
        raw = await request.body()
        answer = await off_loop(handlers.exit_signal, provider.scorer, raw, config.exits)
        return JSONResponse(answer)

    reload_body = _body("ReloadRequest")
    reload_body["requestBody"]["required"] = False

    @app.post(
        "/reload",
        response_model=ReloadResponse,
        openapi_extra=reload_body,
        responses=error_responses(400, 401, 403, 404, 413, 422),
    )
    async def reload_endpoint(request: Request) -> dict:
        provider.check_access(request.headers.get("authorization"))
        raw = await request.body()
        req = validate(ReloadRequest, decode_json(raw)) if raw.strip() else ReloadRequest()
        target = provider.resolve(req.bundle) if req.bundle else None
        try:
            scorer = await reload(target)
        except ValueError as exc:
            raise BadRequest(
                422,
                ["body", "bundle"],
                f"bundle not loaded, still serving {provider.scorer.model_version}: {exc}",
            ) from exc
        return {
            "status": "reloaded",
            "model_version": scorer.model_version,
            "bundle": str(provider.bundle_dir),
        }

    return app


def settings_to_env(bundle_dir: Path | str, **settings) -> str:
    """The JSON that :func:`app_from_env` reads from :data:`ENV_SETTINGS`."""
    return json.dumps({"bundle": str(bundle_dir), **settings})


def app_from_env() -> FastAPI:
    """The app of one worker process (``arbscore serve --workers N``): uvicorn imports this
    factory in each worker; the CLI has put the bundle and limits in :data:`ENV_SETTINGS`.
    HTTP reload is off with several workers (one worker would swap); SIGHUP to the parent
    restarts every worker on the bundle directory, which reloads it."""
    settings = json.loads(os.environ[ENV_SETTINGS])
    bundle = settings.pop("bundle")
    return create_app(bundle, ServeConfig(**settings, reload_on_sighup=False))
