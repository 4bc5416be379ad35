"""The HTTP server: the SPEC's contract (``/health``, ``/predict``, ``/predict/batch``) plus
``/models``, ``/metrics``, ``/size``, ``/exit-signal`` and ``/reload``.

Handlers only parse, validate and format; scoring lives in :class:`Scorer`, sizing in
``sizing.py``, exit rules in ``exits.py``. The model is held by a :class:`ModelProvider`: a
reload builds a complete new Scorer first and then swaps one reference, so requests already
running finish on the model they started with and no request ever sees a half-loaded bundle.

Bad input is always a 4xx naming the field (``detail[].loc`` as FastAPI reports it, plus one
readable ``message``), never a 500: malformed JSON 400, validation 422, batch or body over the
limit 413.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from arbscore.serve.composite import CompositeConfig
from arbscore.serve.exits import ExitConfig
from arbscore.serve.metrics import Metrics, MetricsAndLimits
from arbscore.serve.positions import exit_response, size_response
from arbscore.serve.requests import (
    BadRequest,
    json_body,
    parse_opportunity,
    problem,
    pydantic_errors,
)
from arbscore.serve.schemas import (
    ExitRequest,
    ExitResponse,
    Health,
    Opportunity,
    Prediction,
    ReloadRequest,
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


@dataclass(frozen=True)
class ServeConfig:
    """Server limits and the scoring/sizing/exit settings."""

    max_batch: int = 1000
    max_body_bytes: int = 2 * 1024 * 1024
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    exits: ExitConfig = field(default_factory=ExitConfig)
    reload_on_sighup: bool = True
    #: optional ``sink(scorer, records, predictions, raw_items)`` called after every /predict
    #: and /predict/batch (prediction tracking, drift: ``arbscore.ops``); ``raw_items`` are the
    #: JSON objects as sent (legs, ids the model ignores). It must not block.
    prediction_sink: Callable[[Scorer, list[dict], list[dict], list], None] | None = None

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError(f"ServeConfig.max_batch={self.max_batch}: must be >= 1")
        if self.max_body_bytes < 1024:
            raise ValueError(f"ServeConfig.max_body_bytes={self.max_body_bytes}: must be >= 1024")


class ModelProvider:
    """Holds the current Scorer; ``reload`` swaps it atomically."""

    def __init__(self, bundle_dir: Path, config: ServeConfig) -> None:
        self.config = config
        self.bundle_dir = Path(bundle_dir)
        self.scorer = Scorer(self.bundle_dir, composite=config.composite)
        self._lock = asyncio.Lock()
        self.reloads = 0

    async def reload(self, bundle_dir: Path | None = None) -> Scorer:
        """Load ``bundle_dir`` (default: the current one) off the event loop, then swap."""
        async with self._lock:
            target = Path(bundle_dir) if bundle_dir else self.bundle_dir
            new = await run_in_threadpool(Scorer, target, composite=self.config.composite)
            self.scorer, self.bundle_dir = new, target
            self.reloads += 1
            return new


def _schema_body(model: type) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        }
    }


def create_app(bundle_dir: Path | str, config: ServeConfig = ServeConfig()) -> FastAPI:
    """The FastAPI app serving ``bundle_dir``; raises ValueError for a bad bundle."""
    from arbscore import __version__

    provider = ModelProvider(Path(bundle_dir), config)
    metrics = Metrics(PATHS)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if config.reload_on_sighup:
            # not possible outside the main thread or on platforms without SIGHUP
            with suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGHUP, lambda: asyncio.ensure_future(provider.reload())
                )
        yield

    app = FastAPI(
        title="arbscore ml-api",
        version=__version__,
        lifespan=lifespan,
        description="Scores funding-rate arbitrage opportunities from an ONNX bundle.",
    )
    app.state.provider = provider
    app.state.metrics = metrics  # ops adds its drift gauges here (Metrics.add_collector)
    app.add_middleware(MetricsAndLimits, metrics=metrics, max_body_bytes=config.max_body_bytes)

    @app.exception_handler(BadRequest)
    async def _bad_request(_: Request, exc: BadRequest) -> JSONResponse:
        return problem(exc.status, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, pydantic_errors(list(exc.errors()), ()))

    @app.exception_handler(ValueError)
    async def _value_error(_: Request, exc: ValueError) -> JSONResponse:
        return problem(422, [{"loc": ["body"], "msg": str(exc), "type": "value_error"}])

    @app.get("/health", response_model=Health)
    async def health() -> dict:
        return {
            "status": "healthy",
            "service": "ml-api",
            "version": __version__,
            "model_version": provider.scorer.model_version,
        }

    @app.post("/predict", response_model=Prediction, openapi_extra=_schema_body(Opportunity))
    async def predict(request: Request) -> JSONResponse:
        scorer = provider.scorer
        body = await json_body(request)
        record = parse_opportunity(body, ["body"], scorer, datetime.now(timezone.utc))
        predictions = scorer.predict_records([record])
        _sink(config, scorer, [record], predictions, [body])
        return JSONResponse(predictions[0])

    batch_schema = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "maxItems": config.max_batch,
                        "items": Opportunity.model_json_schema(
                            ref_template="#/components/schemas/{model}"
                        ),
                    }
                }
            },
        }
    }

    @app.post("/predict/batch", response_model=list[Prediction], openapi_extra=batch_schema)
    async def predict_batch(request: Request) -> JSONResponse:
        scorer = provider.scorer
        items = await json_body(request)
        if not isinstance(items, list):
            raise BadRequest(
                422,
                ["body"],
                f"expected a JSON list of opportunities, got {type(items).__name__}",
                "list_type",
            )
        if len(items) > config.max_batch:
            raise BadRequest(
                413,
                ["body"],
                f"batch of {len(items)} opportunities is over the "
                f"limit of {config.max_batch}; split it",
                "too_long",
            )
        now = datetime.now(timezone.utc)
        records = [
            parse_opportunity(item, ["body", i], scorer, now) for i, item in enumerate(items)
        ]
        predictions = scorer.predict_records(records)
        _sink(config, scorer, records, predictions, items)
        return JSONResponse(predictions)

    @app.get("/models")
    async def models() -> dict:
        return {
            "bundle": str(provider.bundle_dir),
            "reloads": provider.reloads,
            **provider.scorer.manifest,
        }

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.post("/size", response_model=SizeResponse, openapi_extra=_schema_body(SizeRequest))
    async def size_endpoint(request: Request) -> dict:
        body = await json_body(request)
        try:
            req = SizeRequest.model_validate(body)
        except ValidationError as exc:
            raise RequestValidationError(pydantic_errors(exc.errors())) from exc
        return size_response(req, provider.scorer, config.sizing)

    @app.post("/exit-signal", response_model=ExitResponse, openapi_extra=_schema_body(ExitRequest))
    async def exit_endpoint(request: Request) -> dict:
        body = await json_body(request)
        try:
            req = ExitRequest.model_validate(body)
        except ValidationError as exc:
            raise RequestValidationError(pydantic_errors(exc.errors())) from exc
        return exit_response(req, provider.scorer, config.exits)

    @app.post("/reload")
    async def reload(request: Request) -> dict:
        raw = await request.body()
        try:
            req = ReloadRequest.model_validate_json(raw) if raw.strip() else ReloadRequest()
        except ValidationError as exc:
            raise RequestValidationError(pydantic_errors(exc.errors())) from exc
        try:
            scorer = await provider.reload(Path(req.bundle) if req.bundle else None)
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


def _sink(config: ServeConfig, scorer: Scorer, records: list, predictions: list, raw: list) -> None:
    """Hand the predictions to the configured sink; its failure never fails the request."""
    if config.prediction_sink is None:
        return
    try:
        config.prediction_sink(scorer, records, predictions, raw)
    except Exception:  # noqa: BLE001 - tracking is best effort; the answer is already computed
        logging.getLogger("arbscore.serve").exception("prediction sink failed")
