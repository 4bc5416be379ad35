"""A bot's view of a bundle: onnxruntime and numpy only, arbscore's import blocked.

    python -I tests/export/raw_client.py BUNDLE < records.json > predictions.json

Reads ``manifest.json``'s ``raw_input`` section, feeds each record's fields by the input names
given there (the camelCase name, or the ``field`` name), a missing number as NaN and a missing
category as "", and prints ``{"predictions": [...], "arbscore_modules": [...]}``. The parity
tests run it in a fresh interpreter (``-I``: no PYTHONPATH, no user site).
"""

import sys


class _NoArbscore:
    """A meta-path finder that refuses arbscore: this client must not depend on it."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "arbscore":
            raise ImportError("the raw-input client must not import arbscore")
        return None


sys.meta_path.insert(0, _NoArbscore())

import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402


def feeds(spec: dict, records: list) -> dict:
    """One 1-D tensor per graph input, in the manifest's types."""
    out = {}
    for inp in spec["inputs"]:
        values = [r.get(inp["name"], r.get(inp["field"])) for r in records]
        if inp["type"] == "string":
            out[inp["name"]] = np.array(["" if v is None else str(v) for v in values], object)
        else:
            out[inp["name"]] = np.array([math.nan if v is None else float(v) for v in values])
    return out


def main() -> None:
    bundle = Path(sys.argv[1])
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    spec = manifest["raw_input"]
    records = json.load(sys.stdin)  # Python's json reads NaN and Infinity
    sess = ort.InferenceSession(str(bundle / spec["file"]), providers=["CPUExecutionProvider"])
    names = [o["name"] for o in spec["outputs"] if o["type"] == "double"]
    values = sess.run(names, feeds(spec, records))
    predictions = [
        {n: float(v[i]) for n, v in zip(names, values, strict=True)} for i in range(len(records))
    ]
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "arbscore")
    json.dump({"predictions": predictions, "arbscore_modules": loaded}, sys.stdout)


if __name__ == "__main__":
    main()
