"""Core ML files for Apple-platform bots: the MLX net as an ML Program (.mlpackage, built with
coremltools' MIL builder) and XGBoost heads as tree ensembles (.mlmodel).

XGBoost notes: coremltools' converter hard-codes the base prediction to 0.5 (it reads trees
from the JSON dump, which has no base_score), so the converter is given the margin booster and
``basePredictionValue`` is pinned to the booster's real base margin afterwards. The success
head's Platt calibration is folded into the trees (every leaf and the base multiplied by ``a``,
``b`` added to the base) with the ensemble's logistic post-transform, so the file outputs the
calibrated probability. Tree ensembles have no exp transform: the duration file outputs the log
of the hold in hours (``transform: "exp"`` in the manifest says so). LightGBM has no Core ML
converter; its heads are listed as skipped with the reason (use the ONNX file).

On Linux coremltools converts and saves but cannot run a model: :func:`tree_spec_predict`
evaluates a saved tree spec in numpy so tests can still compare it with native predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from arbscore.data_tools.features import FeatureSpec
from arbscore.progress import Progress


def _coreml_names(spec: FeatureSpec) -> list[str]:
    return [str(n) for n in spec.feature_names]


def xgboost_head_spec(
    model: Any,
    head: str,
    feature_names: list[str],
    a: float = 1.0,
    b: float = 0.0,
    platt: bool = False,
):
    """Core ML tree-ensemble spec for one XGBoost head (see the module docstring)."""
    import json

    from coremltools.converters import xgboost as ct_xgb

    from arbscore.export.onnx_gbdt import as_booster, margin_booster, n_features_of

    booster = as_booster(model)
    plain = margin_booster(booster)
    used = n_features_of(booster)
    names = feature_names[:used]
    base = float(
        str(json.loads(plain.save_config())["learner"]["learner_model_param"]["base_score"]).strip(
            "[]"
        )
    )
    spec = ct_xgb.convert(plain, feature_names=names, target=head, mode="regressor").get_spec()
    ensemble = spec.treeEnsembleRegressor.treeEnsemble
    if platt:
        for node in ensemble.nodes:
            for info in node.evaluationInfo:
                info.evaluationValue *= a
        base = a * base + b
        spec.treeEnsembleRegressor.postEvaluationTransform = _LOGISTIC
    del ensemble.basePredictionValue[:]
    ensemble.basePredictionValue.append(base)
    spec.description.metadata.shortDescription = f"arbscore {head} head (XGBoost)"
    return spec


_BRANCH = {  # TreeNodeBehavior -> "go to the true child" for a present value
    0: lambda v, t: v <= t,
    1: lambda v, t: v < t,
    2: lambda v, t: v >= t,
    3: lambda v, t: v > t,
    4: lambda v, t: v == t,
    5: lambda v, t: v != t,
}
_LEAF = 6
_LOGISTIC = 2  # TreeEnsemblePostEvaluationTransform.Regression_Logistic


def tree_spec_predict(spec, rows: np.ndarray) -> np.ndarray:
    """Evaluate a Core ML tree-ensemble regressor spec on ``rows`` (numpy; NaN = missing).

    Follows the spec: each tree starts at its node 0; a branch node sends a present value to
    the true child when its comparison holds and a missing one where
    ``missingValueTracksTrueChild`` says; leaves add their value; then the base prediction
    and the post-evaluation transform.
    """
    reg = spec.treeEnsembleRegressor
    ens = reg.treeEnsemble
    nodes = {(n.treeId, n.nodeId): n for n in ens.nodes}
    trees = sorted({n.treeId for n in ens.nodes})
    rows = np.asarray(rows, np.float64)
    base = float(ens.basePredictionValue[0]) if ens.basePredictionValue else 0.0
    out = np.full(len(rows), base)
    for r, x in enumerate(rows):
        for t in trees:
            node = nodes[(t, 0)]
            while node.nodeBehavior != _LEAF:
                v = x[node.branchFeatureIndex]
                if np.isnan(v):
                    go_true = node.missingValueTracksTrueChild
                else:
                    go_true = _BRANCH[node.nodeBehavior](v, node.branchFeatureValue)
                node = nodes[(t, node.trueChildNodeId if go_true else node.falseChildNodeId)]
            out[r] += sum(info.evaluationValue for info in node.evaluationInfo)
    if reg.postEvaluationTransform == _LOGISTIC:
        out = 1.0 / (1.0 + np.exp(-out))
    return out


def mlp_program(weights):
    """The MLX net (:class:`~arbscore.export.onnx_mlp.NetWeights`) as a MIL program with a
    flexible batch: input ``features [N, F]`` -> ``profit``, ``success``, ``duration`` [N, 1]."""
    from coremltools.converters.mil import Builder as mb

    from arbscore.export.onnx_mlp import block_diagonal

    F = weights.n_features
    f32 = np.float32
    a, b = weights.calibration

    def vec(value: float) -> np.ndarray:  # shape (1,): the linear-bias fusion pass needs it
        return np.full(1, value, f32)

    def run(x, block):
        for d in weights.block(block):
            x = mb.linear(x=x, weight=d.weight.T.astype(f32), bias=d.bias.astype(f32))
            if d.activation == "relu":
                x = mb.relu(x=x)
            elif d.activation == "silu":
                x = mb.silu(x=x)
        return x

    from coremltools.converters.mil.mil import get_new_symbol, types

    p = weights.inputs()

    @mb.program(input_specs=[mb.TensorSpec(shape=(get_new_symbol(), F), dtype=types.fp32)])
    def prog(features):
        x = mb.real_div(
            x=mb.sub(x=features, y=weights.mean.astype(f32)), y=weights.scale.astype(f32)
        )
        if weights.input_clip > 0:
            x = mb.clip(x=x, alpha=f32(-weights.input_clip), beta=f32(weights.input_clip))
        if weights.smooth_clip > 0:
            r = mb.mul(x=x, y=f32(1.0 / weights.smooth_clip))
            x = mb.real_div(x=x, y=mb.sqrt(x=mb.add(x=mb.mul(x=r, y=r), y=f32(1.0))))
        hold = [mb.slice_by_index(x=x, begin=[0, F - 1], end=[0, F], end_mask=[True, False])]
        if p.embedding != "none":
            m = len(p.numeric) + 1
            cols = np.append(p.numeric, F - 1).astype(np.int32)
            v = mb.expand_dims(x=mb.gather(x=x, indices=cols, axis=1), axes=[2])
            if p.embedding == "ple":
                enc = mb.real_div(x=mb.sub(x=v, y=p.encoding.astype(f32)), y=p.width.astype(f32))
                enc = mb.clip(x=enc, alpha=f32(0.0), beta=f32(1.0))
            else:
                angle = mb.mul(x=v, y=(2.0 * np.pi * p.encoding.astype(np.float64)).astype(f32))
                enc = mb.concat(values=[mb.sin(x=angle), mb.cos(x=angle)], axis=2)
            t = p.embed_weight.shape[1]
            emb = []
            for lo_col, hi_col in ((0, m - 1), (m - 1, m)):  # numeric columns, then the hold
                part = mb.slice_by_index(
                    x=enc, begin=[0, lo_col, 0], end=[0, hi_col, t], end_mask=[True, False, False]
                )
                flat = mb.reshape(x=part, shape=[-1, (hi_col - lo_col) * t])
                w = block_diagonal(p.embed_weight[lo_col:hi_col])
                bias = p.embed_bias[lo_col:hi_col].reshape(-1).astype(f32)
                emb.append(mb.relu(x=mb.linear(x=flat, weight=w.T.astype(f32), bias=bias)))
            parts = [emb[0]]
            hold.append(emb[1])
        else:
            parts = [mb.gather(x=x, indices=p.numeric.astype(np.int32), axis=1)]
        if len(p.categorical):
            cat = mb.gather(x=x, indices=p.categorical.astype(np.int32), axis=1)
            if p.categorical_matrix is not None:
                cat = mb.matmul(x=cat, y=p.categorical_matrix.astype(f32))
            parts.append(cat)
        trunk_in = parts[0] if len(parts) == 1 else mb.concat(values=parts, axis=1)
        z = run(trunk_in, "trunk")
        zh = mb.concat(values=[z, *hold], axis=1)
        profit = run(zh, "profit")
        profit = mb.add(
            x=mb.mul(x=profit, y=vec(weights.profit_scale)),
            y=vec(weights.profit_offset),
            name="profit",
        )
        logit = mb.add(x=mb.mul(x=run(zh, "success"), y=vec(a)), y=vec(b))
        success = mb.sigmoid(x=logit, name="success")
        dur = mb.sub(x=mb.exp(x=run(z, "duration")), y=vec(1.0))
        duration = mb.clip(
            x=dur,
            alpha=f32(weights.min_hold_hours),
            beta=f32(weights.max_hold_hours),
            name="duration",
        )
        return profit, success, duration

    return prog


def export_coreml(
    winners: Mapping[str, tuple[str, Any]],
    spec: FeatureSpec,
    out: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write Core ML files for the winners into ``out``; return the manifest's coreml section:
    ``{head: {"file", "output", "transform"} | {"skipped": reason}}``."""
    import coremltools as ct

    from arbscore.export.onnx_mlp import net_weights

    section: dict[str, Any] = {}
    names = _coreml_names(spec)
    done_nets: dict[str, str] = {}
    for head, (family_name, family) in winners.items():
        if progress:
            progress(f"Core ML: {head} ({family_name})")
        if hasattr(family, "layer_params"):
            if family_name not in done_nets:
                program = mlp_program(net_weights(family))
                rows = ct.RangeDim(lower_bound=1, upper_bound=4096, default=1)
                model = ct.convert(
                    program,
                    convert_to="mlprogram",
                    skip_model_load=True,
                    inputs=[ct.TensorType(name="features", shape=(rows, len(names)))],
                    minimum_deployment_target=ct.target.macOS13,
                )
                file = f"net.{family_name}.mlpackage"
                model.save(str(out / file))
                done_nets[family_name] = file
            section[head] = {
                "file": done_nets[family_name],
                "output": head,
                "transform": "identity",
            }
        elif family_name == "xgboost" and hasattr(family, "models_"):
            a, b = family.calibration_
            tree_spec = xgboost_head_spec(
                family.models_[head], head, names, float(a), float(b), platt=head == "success"
            )
            file = f"{head}.{family_name}.mlmodel"
            ct.utils.save_spec(tree_spec, str(out / file))
            section[head] = {
                "file": file,
                "output": head,
                "transform": "exp" if head == "duration" else "identity",
                "inputs": names[: len(tree_spec.description.input)],
            }
        else:
            section[head] = {
                "skipped": f"{family_name}: no Core ML converter in coremltools; "
                "use the ONNX file (onnxruntime runs on macOS and iOS)"
            }
    return section
