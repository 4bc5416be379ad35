"""Regenerate the tiny committed golden bundle and its expected outputs.

    .venv/bin/python tests/export/make_golden.py          # refit, rewrite everything
    .venv/bin/python tests/export/make_golden.py --raw    # keep the models, redo raw_input only

Writes tests/export/golden/bundle/ (profit: XGBoost, success: LightGBM, duration: the MLX net,
so all three converters are covered) and tests/export/golden/golden.json: raw opportunity
records, their feature matrix, each graph's raw outputs and the served predictions; and
tests/export/golden/golden_raw.json: camelCase records (odd spellings, missing and NaN fields
included) for the raw-input graph with the in-process Scorer's predictions. The golden
tests (Python and Node) check that the committed files still reproduce these numbers. Rerun
only when the bundle format or the feature spec changes on purpose.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from arbscore.export.bundle import export_families
from arbscore.export.demo import synthetic_opportunities, training_matrix
from arbscore.gbdt.config import GBDTConfig
from arbscore.registry import get_family

HERE = Path(__file__).parent / "golden"


def main() -> None:
    X, targets, spec = training_matrix(200, seed=7)
    names = list(spec.feature_names)
    gcfg = GBDTConfig(
        n_estimators=12,
        max_depth=3,
        num_leaves=7,
        min_samples_leaf=10,
        early_stopping_rounds=5,
        n_jobs=1,
        seed=0,
        purge_hours=2.0,
    )
    from arbscore.mlx_models.config import MLXConfig

    mcfg = MLXConfig(
        trunk_sizes=(8,),
        head_hidden=4,
        max_epochs=2,
        batch_size=256,
        warmup_steps=2,
        seed=0,
        purge_hours=2.0,
    )
    xgb = get_family("xgboost")(config=gcfg).fit(X, targets, names)
    lgb = get_family("lightgbm")(config=gcfg).fit(X, targets, names)
    net = get_family("mlx")(config=mcfg).fit(X, targets, names)
    winners = {"profit": ("xgboost", xgb), "success": ("lightgbm", lgb), "duration": ("mlx", net)}
    manifest = export_families(
        winners,
        spec,
        HERE / "bundle",
        training_data={"start": None, "end": None, "rows": len(X), "note": "synthetic demo data"},
    )
    opp = synthetic_opportunities(12, seed=99)
    records = [
        {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in opp.items()}
        for i in range(12)
    ]
    records[0]["hold_hours"] = 24.0  # one row with the caller's own hold
    from arbscore.serve.scorer import Scorer

    scorer = Scorer(HERE / "bundle")
    Xg, hold = scorer.features(records)
    import onnxruntime as ort

    raw = {}
    for file in sorted({e["file"] for e in manifest["heads"].values()}):
        sess = ort.InferenceSession(str(HERE / "bundle" / file))
        outs = [o.name for o in sess.get_outputs()]
        raw[file] = {
            n: v.reshape(-1).tolist()
            for n, v in zip(outs, sess.run(outs, {"features": Xg}), strict=True)
        }
    golden = {
        "records": records,
        "X": Xg.tolist(),
        "hold": [None if np.isnan(h) else h for h in hold],
        "graphs": raw,
        "predictions": scorer.predict_rows(records),
        "model_version": manifest["model_version"],
    }
    (HERE / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    write_raw_golden()


#: records beyond the golden ones: the guide's spellings, missing and NaN fields, unknown words
RAW_EXTRA = [
    {"fundProfit8h": 0.02, "fundApr": 21.9},
    {
        "fundProfit8h": 0.05,
        "fundApr": 54.75,
        "strategy": " Cash-and-Carry ",
        "marketRegime": "bULL",
        "liquidityStatus": "good ",
        "breakEvenHours": math.inf,
        "volume24h": math.nan,
    },
    {
        "fundProfit8h": -0.01,
        "fundApr": -10.95,
        "strategy": "CFFF",
        "marketRegime": "sideways",
        "liquidityStatus": None,
        "hourOfDay": 23,
        "dayOfWeek": 6,
        "holdHours": 1.0,
    },
    {
        "fundProfit8h": 1e15,
        "fundApr": -1e300,
        "strategy": "perp perp",
        "spreadVolatilityCv": -3.0,
        "bidAskSpread": 0.0,
        "orderbookDepth": -5.0,
        "holdHours": 720.0,
    },
]


def write_raw_golden() -> None:
    """golden_raw.json: camelCase records and the in-process Scorer's predictions for them."""
    from arbscore.data_tools.features import normalise_keys
    from arbscore.serve.scorer import Scorer

    manifest = json.loads((HERE / "bundle" / "manifest.json").read_text())
    camel = {i["field"]: i["name"] for i in manifest["raw_input"]["inputs"]}
    golden = json.loads((HERE / "golden.json").read_text())
    records = [{camel.get(k, k): v for k, v in r.items()} for r in golden["records"]]
    records += RAW_EXTRA
    predictions = Scorer(HERE / "bundle").predict_rows([normalise_keys(r) for r in records])
    out = {"records": [{k: _json_value(v) for k, v in r.items()} for r in records]}
    out["predictions"] = predictions
    (HERE / "golden_raw.json").write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")


def _json_value(v):
    # JSON has no NaN/inf: NaN -> null (missing), +-inf as "Infinity"/"-Infinity" (JS Number()
    # and Python float() both read those)
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def raw_only() -> None:
    """Add the raw-input graph to the committed bundle (models unchanged), then golden_raw."""
    from arbscore.export.onnx_raw import add_raw_input

    add_raw_input(HERE / "bundle")
    write_raw_golden()


if __name__ == "__main__":
    raw_only() if "--raw" in sys.argv[1:] else main()
