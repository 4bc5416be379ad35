"""Swapping bundles: POST /reload (only with --allow-reload, only under the reload root,
optionally behind a bearer token) and SIGHUP (always), with requests in flight."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from serve_helpers import copy_bundle, set_version, start_serve, stop_serve

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
TOKEN = "s3cret-token-0123456789"


def _hammer(url: str, stop: threading.Event, results: list) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            r = client.post(url + "/predict", json=BODY)
            results.append((r.status_code, r.json().get("model_version")))


def _version(url: str) -> str:
    return httpx.post(url + "/predict", json=BODY).json()["model_version"]


def test_reload_under_load_drops_nothing(server):
    new = copy_bundle(server.tmp / "bundle_v2", model_version="golden-v2")
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=_hammer, args=(server.url, stop, results)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    r = httpx.post(server.url + "/reload", json={"bundle": str(new)}, timeout=30)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert r.status_code == 200 and r.json()["model_version"] == "golden-v2", r.text
    assert results and all(code == 200 for code, _ in results)
    versions = [v for _, v in results]
    assert versions[-1] == "golden-v2" and "golden-v2" in versions
    assert _version(server.url) == "golden-v2"
    # a name relative to the reload root works too
    set_version(new, "golden-v2b")
    r = httpx.post(server.url + "/reload", json={"bundle": "bundle_v2"}, timeout=30)
    assert r.status_code == 200 and r.json()["model_version"] == "golden-v2b", r.text


def _message(r: httpx.Response) -> str:
    return r.json()["message"].replace(r.request.content.decode(), "")


def test_reload_refusals_reveal_nothing_and_keep_the_model(server):
    before = _version(server.url)
    outside_existing = ["/etc", "/etc/passwd", "/", "..", str(server.tmp.parent)]
    outside_missing = ["/no/such/dir", "../no-such-dir", "nope"]
    answers = {}
    for name in outside_existing + outside_missing:
        r = httpx.post(server.url + "/reload", json={"bundle": name})
        assert r.status_code == 404, (name, r.text)
        assert set(r.json()) == {"detail", "message"}
        answers[name] = r.json()["detail"][0]["msg"].replace(repr(name), "NAME")
    # the same words whether the path exists or not, inside or outside the root
    assert len(set(answers.values())) == 1, answers
    assert _version(server.url) == before

    # a bundle under the root whose manifest has a wrong shape: 422 naming the field, old
    # model kept
    bad = copy_bundle(server.tmp / "bad_shape")
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["files"] = None
    (bad / "manifest.json").write_text(json.dumps(manifest))
    r = httpx.post(server.url + "/reload", json={"bundle": "bad_shape"})
    assert r.status_code == 422 and "files" in r.json()["message"], r.text
    assert "Traceback" not in r.text and _version(server.url) == before

    # malformed JSON is a 400 here as everywhere; a misspelt key a 422 naming it
    r = httpx.post(server.url + "/reload", content=b"{oops")
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["body"], r.text
    r = httpx.post(server.url + "/reload", json={"bundel": "typo"})
    assert r.status_code == 422 and "body.bundel" in [
        ".".join(map(str, e["loc"])) for e in r.json()["detail"]
    ]
    assert _version(server.url) == before


def test_sighup_reloads_the_current_bundle(server):
    current = httpx.get(server.url + "/models").json()["bundle"]
    set_version(Path(current), "golden-v3")
    os.kill(server.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    while _version(server.url) != "golden-v3":
        assert time.monotonic() < deadline, "SIGHUP did not reload the bundle"
        time.sleep(0.1)
    assert server.proc.poll() is None


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A server with HTTP reload behind a token (given through the environment)."""
    tmp = tmp_path_factory.mktemp("guarded")
    bundle = copy_bundle(tmp / "root" / "a")
    srv = start_serve(tmp, bundle, ["--allow-reload"], env={"ARBSCORE_RELOAD_TOKEN": TOKEN})
    yield srv
    stop_serve(srv)


def test_reload_token_is_required(guarded):
    copy_bundle(guarded.bundle.parent / "b", model_version="golden-b")
    url = guarded.url + "/reload"
    r = httpx.post(url, json={"bundle": "b"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in r.json()["message"]
    r = httpx.post(url, json={"bundle": "b"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    # the token is checked before the body is read: no hint about the path either
    r = httpx.post(url, json={"bundle": "/etc"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = httpx.post(url, json={"bundle": "b"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["model_version"] == "golden-b", r.text
    doc = httpx.get(guarded.url + "/openapi.json").json()
    assert doc["components"]["securitySchemes"]["reloadToken"]["scheme"] == "bearer"
    assert doc["paths"]["/reload"]["post"]["security"] == [{"reloadToken": []}]


def test_without_allow_reload_only_sighup_reloads(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    srv = start_serve(tmp_path, bundle, [])
    try:
        r = httpx.post(srv.url + "/reload", json={})
        assert r.status_code == 403 and "--allow-reload" in r.json()["message"], r.text
        r = httpx.post(srv.url + "/reload", json={"bundle": "/etc"})
        assert r.status_code == 403
        set_version(bundle, "golden-hup")
        os.kill(srv.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 20
        while _version(srv.url) != "golden-hup":
            assert time.monotonic() < deadline, "SIGHUP did not reload the bundle"
            time.sleep(0.1)
    finally:
        stop_serve(srv)


def test_several_workers_serve_and_reload_on_sighup(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    srv = start_serve(tmp_path, bundle, ["--workers", "2"])
    try:
        with httpx.Client(timeout=30) as client:
            answers = [client.post(srv.url + "/predict", json=BODY) for _ in range(20)]
        assert all(r.status_code == 200 for r in answers)
        assert httpx.post(srv.url + "/reload", json={}).status_code == 403
        set_version(bundle, "golden-workers")
        os.kill(srv.proc.pid, signal.SIGHUP)  # uvicorn restarts each worker on the bundle
        deadline = time.monotonic() + 60
        while True:
            try:
                versions = {_version(srv.url) for _ in range(6)}
            except httpx.HTTPError:
                versions = set()
            if versions == {"golden-workers"}:
                break
            assert time.monotonic() < deadline, f"workers still serve {versions}"
            time.sleep(0.3)
        assert srv.proc.poll() is None
    finally:
        stop_serve(srv)


def test_default_reload_root_is_the_parent_of_the_bundle_path_given(tmp_path):
    from arbscore.composite import CompositeConfig
    from arbscore.serve.errors import BadRequest
    from arbscore.serve.provider import ModelProvider, ReloadPolicy

    copy_bundle(tmp_path / "versions" / "v0" / "bundle")
    copy_bundle(tmp_path / "versions" / "v1" / "bundle")
    (tmp_path / "current").symlink_to("versions/v0/bundle")
    provider = ModelProvider(tmp_path / "current", CompositeConfig(), ReloadPolicy(allow_http=True))
    assert provider.resolve("versions/v1/bundle") == tmp_path / "versions" / "v1" / "bundle"
    with pytest.raises(BadRequest):
        provider.resolve(str(tmp_path.parent))
