"""A real ``arbscore serve`` process on a free 127.0.0.1 port, serving a copy of the golden
bundle, shared by the HTTP tests of a module (started once, stopped by its pid). It allows
``POST /reload`` for bundles under its temporary directory (the reload root)."""

from __future__ import annotations

import json

import pytest
from serve_helpers import GOLDEN, MAX_BATCH, MAX_BODY, copy_bundle, start_serve, stop_serve


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    bundle = copy_bundle(tmp / "bundle")
    args = ["--max-batch", str(MAX_BATCH), "--max-body-bytes", str(MAX_BODY)]
    srv = start_serve(tmp, bundle, [*args, "--allow-reload", "--reload-root", str(tmp)])
    yield srv
    stop_serve(srv)


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((GOLDEN / "golden.json").read_text())
