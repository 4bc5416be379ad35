"""Schemathesis hooks for the OpenAPI run (``SCHEMATHESIS_HOOKS=schemathesis_hooks``).

One rule of the API spans two fields and so cannot be written in JSON Schema: an open
position's ``entry_time`` is not after ``now`` (the server's clock when ``now`` is absent).
Generated bodies are put in that order; everything else is left as drawn.
"""

from __future__ import annotations

from datetime import datetime, timezone

import schemathesis


def _when(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@schemathesis.hook("map_body").apply_to(path="/exit-signal")
def order_entry_and_now(context, body):
    if not isinstance(body, dict):
        return body
    entry = _when(body.get("entry_time"))
    if entry is None:
        return body
    if "now" not in body or body["now"] is None:
        if entry > datetime.now(timezone.utc):
            return {**body, "now": body["entry_time"]}
        return body
    now = _when(body["now"])
    if now is not None and entry > now:
        return {**body, "entry_time": body["now"], "now": body["entry_time"]}
    return body
