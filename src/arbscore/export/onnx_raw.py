"""The raw-input graph: opportunity fields in, the three predictions and the composite out.

One ONNX file a bot in any runtime (C#, Node, Go, ...) can run with no Python and no feature
code of its own. Inside: the feature layer (:mod:`arbscore.export.onnx_features`, generated
from the training definitions), then the served two passes of ``serve/scorer.py``: the
duration head on the features with the hold column at its fill value; the hold = the caller's
``holdHours`` where it is not NaN, else the predicted duration clipped to the served range;
profit and success on the features at that hold; ``composite_score`` of
``arbscore/composite.py``. The head graphs are the bundle's own files, inlined under a prefix per
pass (the MLX net, serving several heads, appears once per pass).

Outputs (float64, one per opportunity): ``predicted_profit_pct``, ``success_probability``,
``predicted_hold_hours`` (the duration head, unclipped, as ``/predict`` returns it),
``composite_score``, and ``features``: the first pass's float32 matrix (for checks); with an
interval table, ``profit_interval_pct`` (N x 2: the profit -/+ the table's half-width at the
served hold, interpolated between its holds as ``conformal.IntervalTable.half_width``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto

from arbscore.composite import CompositeConfig
from arbscore.conformal import IntervalTable
from arbscore.data_tools.features.spec import FeatureSpec
from arbscore.data_tools.two_pass import hold_index
from arbscore.export.interval import PROFIT_INTERVAL_KEY
from arbscore.export.onnx_features import camel_key, feature_matrix, raw_inputs
from arbscore.export.onnx_graph import Graph, Sym, asinh, clip_range
from arbscore.schema import HEADS, HOLD_COLUMN, hold_clip_bounds

RAW_FILE = "raw_input.onnx"
#: the standard opset: 20 for RegexFullMatch (onnxruntime >= 1.17, so -node 1.20 and C#)
OPSET = 20
IR_VERSION = 9
PREDICTIONS = (
    "predicted_profit_pct",
    "success_probability",
    "predicted_hold_hours",
    "composite_score",
)
FEATURES_OUTPUT = "features"
#: [low, high] per opportunity, in percent like predicted_profit_pct; only in bundles whose
#: manifest carries a ``profit_interval`` (``export/interval.py``)
INTERVAL_OUTPUT = "profit_interval_pct"
HEAD_OUTPUT = {"profit": PREDICTIONS[0], "success": PREDICTIONS[1], "duration": PREDICTIONS[2]}


def _flat_double(g: Graph, v: Sym) -> Sym:
    flat = g.op("Reshape", v, g.const(np.array([-1], np.int64)))
    return g.op("Cast", flat, to=TensorProto.DOUBLE)


def _with_hold(g: Graph, base: Sym, hold: Sym) -> Sym:
    """``base`` (every feature but the hold, in the spec's order) with the hold appended:
    :func:`_hold_last` has checked, by name, that the spec puts it last."""
    col = g.op(
        "Unsqueeze", g.op("Cast", hold, to=TensorProto.FLOAT), g.const(np.array([1], np.int64))
    )
    return g.op("Concat", base, col, axis=1)


def _hold_last(spec: FeatureSpec) -> None:
    """``FeatureSpec`` derives its names with the hold last; refuse a spec that does not."""
    at = hold_index(spec.feature_names)
    if at != spec.n_features - 1:
        raise ValueError(
            f"feature spec: {HOLD_COLUMN!r} is column {at} of {spec.n_features}; the raw-input "
            "graph needs it last (as FeatureSpec derives it)"
        )


def _composite(
    profit: Sym, success: Sym, hold: Sym, scale: float, penalty: float, hold_range: tuple
) -> Sym:
    """arbscore/composite.py's ``composite_score`` (its hold clip: the bundle's served range)."""
    g = profit.g
    r = profit * 24.0 / clip_range(hold, *hold_range)
    p = clip_range(success, 0.0, 1.0)
    u = 4.0 * p * (1.0 - p)
    adj = r - penalty * u * g.op("Abs", r)
    z = asinh(adj / scale)
    return 100.0 / (1.0 + g.op("Exp", -z))


def _half_width(hold: Sym, table: IntervalTable) -> Sym:
    """``numpy.interp(hold, holds, widths)``: the first width plus each segment's slope times
    the part of the segment below the hold (Sub, Max 0, Min length, MatMul)."""
    g = hold.g
    knots, widths = np.asarray(table.holds), np.asarray(table.half_widths)
    base = g.const(np.array(widths[0], np.float64))
    if knots.size < 2:
        return hold * 0.0 + base
    along = g.op("Unsqueeze", hold, g.const(np.array([1], np.int64))) - g.const(knots[:-1])
    along = g.op("Max", along, g.const(np.array(0.0)))
    along = g.op("Min", along, g.const(np.diff(knots)))
    slopes = (np.diff(widths) / np.diff(knots)).reshape(-1, 1)
    return _flat_double(g, g.op("MatMul", along, g.const(slopes))) + base


def _interval(profit: Sym, hold: Sym, table: IntervalTable) -> Sym:
    g = profit.g
    width = _half_width(hold, table)
    axis = g.const(np.array([1], np.int64))
    low, high = (g.op("Unsqueeze", v, axis) for v in (profit - width, profit + width))
    return g.op("Concat", low, high, axis=1)


def raw_input_model(
    spec: FeatureSpec,
    heads: Mapping[str, tuple[str, str]],
    graphs: Mapping[str, onnx.ModelProto],
    *,
    composite: Any = None,
    hold_grid: tuple[float, ...] | None = None,
    interval: IntervalTable | None = None,
) -> onnx.ModelProto:
    """The raw-input model. ``heads``: head -> (file, output) as in the manifest; ``graphs``:
    file -> the head graph (input ``features``); ``composite``: a ``CompositeConfig`` (default
    the server's); ``hold_grid``: the bundle's hold grid (the served hold's clip);
    ``interval``: the bundle's profit interval table (None: no interval output)."""
    config = composite or CompositeConfig()
    hold_range = hold_clip_bounds(grid=True, hold_grid=hold_grid)
    g = Graph("arbscore_raw_input")
    numbers: dict[str, Sym] = {}
    categories: dict[str, Sym] = {}
    for inp in raw_inputs(spec):
        kind = TensorProto.DOUBLE if inp.type == "double" else TensorProto.STRING
        sym = g.input(inp.name, kind, ["N"])
        (numbers if inp.type == "double" else categories)[inp.field] = sym
    base, hold_fill = feature_matrix(g, spec, numbers, categories)
    ref = numbers[HOLD_COLUMN]
    fill = g.op("Expand", g.const(hold_fill), g.op("Shape", ref))
    _hold_last(spec)
    X1 = _with_hold(g, base, fill)
    # pass 1: the duration head
    file, output = heads["duration"]
    duration = _flat_double(g, g.inline(graphs[file], "pass1_", {"features": X1})[output])
    given = numbers[HOLD_COLUMN]
    served = clip_range(duration, *hold_range)  # as serve/scorer.py clips
    hold = g.op("Where", g.op("IsNaN", given), served, given)
    # pass 2: profit and success at that hold, one copy of each graph they use
    X2 = _with_hold(g, base, hold)
    out: dict[str, Sym] = {"duration": duration}
    second: dict[str, list[str]] = {}
    for head in ("profit", "success"):
        second.setdefault(heads[head][0], []).append(head)
    for i, (file, fam_heads) in enumerate(second.items()):
        outs = g.inline(graphs[file], f"pass2_{i}_", {"features": X2})
        for head in fam_heads:
            out[head] = _flat_double(g, outs[heads[head][1]])
    score = _composite(
        out["profit"],
        out["success"],
        duration,
        config.scale_pct_per_day,
        config.uncertainty_penalty,
        hold_range,
    )
    for head in HEADS:
        g.output(out[head], HEAD_OUTPUT[head], TensorProto.DOUBLE, ["N"])
    g.output(score, PREDICTIONS[3], TensorProto.DOUBLE, ["N"])
    if interval is not None:
        g.output(
            _interval(out["profit"], hold, interval), INTERVAL_OUTPUT, TensorProto.DOUBLE, ["N", 2]
        )
    g.output(X1, FEATURES_OUTPUT, TensorProto.FLOAT, ["N", spec.n_features])
    doc = "arbscore raw-input graph: opportunity fields -> predictions (see manifest raw_input)"
    return g.model(OPSET, IR_VERSION, doc)


def manifest_entry(
    spec: FeatureSpec, composite: Any = None, interval: bool = False
) -> dict[str, Any]:
    """The manifest's ``raw_input`` section (the file's contract for other runtimes)."""
    outputs = [{"name": n, "type": "double"} for n in PREDICTIONS]
    if interval:
        outputs.append({"name": INTERVAL_OUTPUT, "type": "double", "shape": ["N", 2]})
    outputs.append({"name": FEATURES_OUTPUT, "type": "float", "shape": ["N", spec.n_features]})
    return {
        "file": RAW_FILE,
        "inputs": [i.to_dict() for i in raw_inputs(spec)],
        "outputs": outputs,
        "shape": ["N"],
        "missing": {
            "double": "NaN: the bundle's fill value (training median)",
            "string": "empty string: no category",
            camel_key(HOLD_COLUMN): "NaN: the predicted hold (clipped to the served range)",
        },
        "composite": asdict(composite or CompositeConfig()),
        "opset": OPSET,
        "ir_version": IR_VERSION,
    }


def probe_feeds(spec: FeatureSpec, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Raw-input feeds around the spec's fill values: some NaN, extreme and negative numbers,
    vocabulary words in odd case and spacing, unknown and empty categories."""
    rng = np.random.default_rng(seed)
    fills = dict(spec.fill_values)
    words = {
        "strategy": [*spec.strategies, " Cash-and-Carry ", "perp perp", "CFFF", ""],
        "market_regime": [*spec.market_regimes, " bULL", "sideways", ""],
        "liquidity_status": [*dict(spec.liquidity_scores), "good ", "none", ""],
    }
    feeds: dict[str, np.ndarray] = {}
    for inp in raw_inputs(spec):
        if inp.type == "string":
            texts = [str(rng.choice(words[inp.field])) for _ in range(n)]
            feeds[inp.name] = np.array([t.upper() if rng.random() < 0.2 else t for t in texts])
            continue
        centre = fills.get(inp.field, 0.0)
        v = centre + rng.normal(0.0, 1.0, n) * (abs(centre) + 1.0)
        v[rng.random(n) < 0.15] = np.nan
        v[rng.random(n) < 0.03] = np.inf
        # beyond ~6e6 an hour's sin/cos leave onnx_trig's exact range (HTTP accepts 0..23)
        v[rng.random(n) < 0.03] = -1e6 if inp.field in ("hour_of_day", "day_of_week") else -1e15
        feeds[inp.name] = v
    feeds[camel_key(HOLD_COLUMN)][::2] = np.nan  # half the rows: the predicted hold
    return feeds


def check_raw_input(model: onnx.ModelProto, spec: FeatureSpec, rows: int = 256) -> float:
    """Max |graph features - build_matrix| on :func:`probe_feeds`; raises ValueError when the
    features differ or a prediction is not finite."""
    import onnxruntime as ort

    from arbscore.data_tools.features import build_matrix

    feeds = probe_feeds(spec, rows)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(names, feeds), strict=True))
    columns = {i.field: feeds[i.name] for i in raw_inputs(spec) if i.field != HOLD_COLUMN}
    columns = {
        k: [None if t == "" else t for t in v] if v.dtype.kind == "U" else v
        for k, v in columns.items()
    }
    want = build_matrix(columns, spec)
    err = float(np.max(np.abs(got[FEATURES_OUTPUT].astype(np.float64) - want), initial=0.0))
    if err != 0.0:
        raise ValueError(f"raw-input graph: features differ from build_matrix by {err:.3g}")
    bad = [n for n in PREDICTIONS if not np.all(np.isfinite(got[n]))]
    if bad:
        raise ValueError(f"raw-input graph: non-finite {bad} on probe rows")
    return err


def write_raw_input(
    bundle_dir: Path,
    spec: FeatureSpec,
    heads: Mapping[str, Mapping[str, Any]],
    hold_grid: tuple[float, ...] | None = None,
    terms: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the raw-input graph from the bundle's head files (``heads``: the manifest's
    ``heads`` section; ``terms``: the manifest's other keys, whose ``profit_interval``, if
    any, adds the interval output), check it (:func:`check_raw_input`), save it as
    :data:`RAW_FILE`; return the manifest section."""
    root = Path(bundle_dir)
    pairs = {h: (str(e["file"]), str(e.get("output", h))) for h, e in heads.items()}
    graphs = {f: onnx.load(root / f) for f, _ in pairs.values()}
    given = (terms or {}).get(PROFIT_INTERVAL_KEY)
    table = None if given is None else IntervalTable.from_dict(given, PROFIT_INTERVAL_KEY)
    model = raw_input_model(spec, pairs, graphs, hold_grid=hold_grid, interval=table)
    check_raw_input(model, spec)
    onnx.save_model(model, root / RAW_FILE)
    return manifest_entry(spec, interval=table is not None)


def add_raw_input(bundle_dir: Path) -> dict[str, Any]:
    """Add the raw-input graph to an existing bundle (rewrites its manifest with the new file's
    hash); returns the manifest."""
    from arbscore.export.manifest import read_manifest, write_manifest

    root = Path(bundle_dir)
    manifest = read_manifest(root)
    spec = FeatureSpec.from_dict(manifest["feature_spec"])
    grid = manifest.get("hold_grid_hours")
    manifest["raw_input"] = write_raw_input(
        root,
        spec,
        manifest["heads"],
        None if grid is None else tuple(grid),
        manifest,
    )
    manifest.pop("files", None)
    return write_manifest(root, manifest)
