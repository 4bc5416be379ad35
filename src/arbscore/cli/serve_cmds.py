"""``arbscore serve`` (the inference server) and ``arbscore export`` (run directory -> bundle).

Thin: resolve flags into the config dataclasses, call the library, print. A bad bundle or run
directory is exit 2 with one line saying what is wrong (``user_errors``), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arbscore.cli.aliases import hidden, renamed
from arbscore.cli.errors import user_errors
from arbscore.cli.extras import require_extra


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""

    @app.command()
    @user_errors
    def serve(
        bundle: Annotated[Path, typer.Option("--bundle", help="bundle dir (arbscore export)")],
        port: Annotated[int, typer.Option(help="TCP port")] = 5250,
        host: Annotated[
            str, typer.Option(help="interface; 0.0.0.0 exposes the API to the whole network")
        ] = "127.0.0.1",
        max_batch: Annotated[int, typer.Option(help="max items per batch")] = 1000,
        max_body_bytes: Annotated[int, typer.Option(help="max request body")] = 2 << 20,
        log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
        workers: Annotated[
            int, typer.Option(help="worker processes (each loads the bundle; SIGHUP restarts them)")
        ] = 1,
        scoring_threads: Annotated[
            int, typer.Option(help="threads per worker that decode, validate and score")
        ] = 2,
        max_model_age_days: Annotated[
            float | None,
            typer.Option(help="/health says 'stale' once the bundle is older (days since export)"),
        ] = None,
        allow_reload: Annotated[
            bool,
            typer.Option(
                "--allow-reload", help="let POST /reload swap the bundle (off: SIGHUP only)"
            ),
        ] = False,
        reload_root: Annotated[
            Path | None,
            typer.Option(
                help="POST /reload takes bundles under this dir (default: --bundle's parent)"
            ),
        ] = None,
        reload_token: Annotated[
            str | None,
            typer.Option(
                envvar="ARBSCORE_RELOAD_TOKEN",
                help="bearer token POST /reload requires (better: env ARBSCORE_RELOAD_TOKEN)",
            ),
        ] = None,
        ops_db: Annotated[
            str | None,
            typer.Option(
                "--ops-db",
                help="store for prediction tracking + /dashboard + drift gauges (DuckDB path or "
                "postgresql://; PostgreSQL when `arbscore live` writes it at the same time)",
            ),
        ] = None,
        ops_interval: Annotated[
            float, typer.Option(help="seconds between ops jobs (live scan, outcomes)")
        ] = 300.0,
        opentelemetry: Annotated[
            bool,
            typer.Option(
                "--opentelemetry",
                help="FastAPI's native OpenTelemetry spans/metrics/logs (needs a configured SDK)",
            ),
        ] = False,
        header_timeout: Annotated[
            float,
            typer.Option(help="seconds a client has to send a request's line and headers (408)"),
        ] = 10.0,
        body_timeout: Annotated[
            float, typer.Option(help="seconds a client has to send a request's body (408)")
        ] = 30.0,
        max_connections: Annotated[
            int,
            typer.Option(help="open connections per worker; one more is closed unread"),
        ] = 2048,
    ) -> None:
        """Serve a bundle over HTTP: /health, /predict, /predict/batch, /models, /metrics, /size,
        /exit-signal, /reload (with --allow-reload; SIGHUP always); OpenAPI at /docs."""
        import inspect
        import os

        import uvicorn

        from arbscore.serve.app import ENV_SETTINGS, ServeConfig, create_app, settings_to_env
        from arbscore.serve.guard import ConnectionLimits, listening, serve_on
        from arbscore.serve.provider import ReloadPolicy
        from arbscore.serve.workers import Supervisor, balanced_workers_supported, port_free

        if not 0 < port < 65536:
            raise ValueError(f"--port {port}: must be in 1..65535")
        if not 1 <= workers <= 64:
            raise ValueError(f"--workers {workers}: must be in 1..64")
        if (reload_root or reload_token) and not allow_reload:
            raise ValueError("--reload-root / --reload-token need --allow-reload")
        if workers > 1 and (allow_reload or ops_db):
            raise ValueError(
                f"--workers {workers}: --allow-reload and --ops-db work with one worker only "
                "(each worker holds its own model; reload several with SIGHUP)"
            )
        limits = ConnectionLimits(header_timeout, body_timeout, max_connections)
        policy = ReloadPolicy(allow_http=allow_reload, root=reload_root, token=reload_token)
        ops = None
        if ops_db:  # imported only here: the plain serving install has no pandas
            from arbscore.ops.service import OpsConfig, OpsService

            ops = OpsService(OpsConfig(db=ops_db, job_interval_s=ops_interval))
        config = ServeConfig(
            max_batch=max_batch,
            max_body_bytes=max_body_bytes,
            scoring_threads=scoring_threads,
            max_model_age_days=max_model_age_days,
            opentelemetry=opentelemetry,
            reload=policy,
            prediction_sink=ops.sink if ops else None,
        )
        server_app = create_app(bundle, config)  # loads and checks the bundle before binding
        if ops:
            ops.attach(server_app)
        version = server_app.state.provider.scorer.model_version
        try:  # the port is taken before "serving" is said
            sock = listening(host, port) if workers == 1 else port_free(host, port)
        except OSError as exc:
            raise ValueError(f"--port {port} on {host}: {exc.strerror or exc}") from exc
        typer.echo(f"serving {version} on http://{host}:{port} ({workers} worker(s))")
        if host not in ("127.0.0.1", "localhost", "::1"):
            typer.echo(
                f"warning: --host {host} makes the API reachable from other machines; it has no "
                "authentication of its own (see docs/serving.md)",
                err=True,
            )
        try:
            if sock is not None:  # one worker
                serve_on(server_app, sock, limits, log_level)
            else:
                settings = settings_to_env(
                    bundle,
                    max_batch=max_batch,
                    max_body_bytes=max_body_bytes,
                    scoring_threads=scoring_threads,
                    max_model_age_days=max_model_age_days,
                    opentelemetry=opentelemetry,
                )
                if balanced_workers_supported():  # Linux: one socket per worker (workers.py)
                    try:
                        Supervisor(workers, settings, host, port, log_level, limits).run()
                    except (RuntimeError, OSError) as exc:
                        raise ValueError(f"--workers {workers}: {exc}") from exc
                    return
                os.environ[ENV_SETTINGS] = settings
                # a restarted worker loads the bundle before it is "ready": give it time
                # (uvicorn's default of 5 s aborts a SIGHUP restart on a busy machine)
                extra = (
                    {"timeout_worker_healthcheck": 120}
                    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters
                    else {}
                )
                uvicorn.run(
                    "arbscore.serve.app:app_from_env",
                    factory=True,
                    **extra,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level=log_level,
                    access_log=False,
                )
        finally:
            if ops:
                ops.close()

    @app.command("export")
    @user_errors
    def export_cmd(
        run_dir: Annotated[Path, typer.Option("--from", help="run directory (arbscore train)")],
        out: Annotated[Path, typer.Option("--out", help="bundle directory to write")],
        coreml: Annotated[bool, typer.Option("--coreml", help="also write Core ML files")] = False,
        head: Annotated[
            list[str] | None,
            typer.Option(
                "--head",
                help="HEAD=FAMILY to override the harness's winner, repeated or "
                "comma-separated, e.g. duration=mlx,profit=xgboost",
            ),
        ] = None,
        old_family: Annotated[list[str] | None, hidden("--family")] = None,
        ship: Annotated[
            str,
            typer.Option(
                help="recommended: the family the backtest recommends, its three heads (the "
                "strategy that was booked); head_winners: each head's winner (a mix no book traded)"
            ),
        ] = "recommended",
    ) -> None:
        """Export the recommended strategy (or each head's winner) to an ONNX bundle."""
        family = renamed(head, old_family, "--head", "--family")
        from arbscore.cli.console import CliConsole
        from arbscore.cli.progress_views import status_line
        from arbscore.export.bundle import ExportConfig, export_bundle

        if coreml:
            require_extra("--coreml", "train", "coremltools")
        pairs = []
        for item in (i for value in family or [] for i in value.split(",") if i.strip()):
            head, sep, name = item.partition("=")
            if not sep or not name:
                raise ValueError(f"--head {item!r}: expected HEAD=FAMILY, e.g. profit=xgboost")
            pairs.append((head.strip(), name.strip()))
        config = ExportConfig(families=tuple(pairs), coreml=coreml, ship=ship)
        console = CliConsole()
        with console.status("exporting") as status:
            manifest = export_bundle(run_dir, out, config, progress=status_line(status))
        for head, entry in manifest["heads"].items():
            console.print(f"{head:9s} {entry['family']:9s} {entry['file']}")
        if manifest.get("coreml"):
            for head, entry in manifest["coreml"].items():
                console.print(f"Core ML {head:9s} {entry.get('file') or entry.get('skipped')}")
        console.print(f"bundle {manifest['model_version']} written to {out}")
