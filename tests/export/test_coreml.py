"""Core ML export: saved specs checked on any OS; trees evaluated from the spec vs native;
predict parity on macOS only (coremltools cannot run models elsewhere)."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

pytest.importorskip("coremltools")
HAS_MLX = importlib.util.find_spec("mlx") is not None
ON_MAC = sys.platform == "darwin"
HEADS = ("profit", "success", "duration")


@pytest.fixture(scope="module")
def coreml_bundle(demo, tmp_path_factory):
    from arbscore.export.coreml import export_coreml

    families, spec, X = demo
    out = tmp_path_factory.mktemp("coreml")
    winners = {
        "profit": ("xgboost", families["xgboost"]),
        "success": ("xgboost", families["xgboost"]),
        "duration": ("lightgbm", families["lightgbm"]),
    }
    section = export_coreml(winners, spec, out)
    if HAS_MLX:
        section_net = export_coreml({h: ("mlx", families["mlx"]) for h in HEADS}, spec, out)
    else:
        section_net = {}
    return out, section, section_net, families, X


def _rows(X: np.ndarray) -> np.ndarray:
    rows = X[::13][:60].copy()
    rows[::5, 3] = np.nan  # missing values follow the trees' default direction
    return rows


def test_xgboost_tree_specs_match_native(coreml_bundle):
    import coremltools as ct

    from arbscore.export.coreml import tree_spec_predict

    out, section, _, families, X = coreml_bundle
    rows = _rows(X)
    native = families["xgboost"].predict(rows)
    for head in ("profit", "success"):
        spec = ct.utils.load_spec(str(out / section[head]["file"]))
        assert spec.WhichOneof("Type") == "treeEnsembleRegressor"
        assert [o.name for o in spec.description.output] == [head]
        got = tree_spec_predict(spec, rows)
        np.testing.assert_allclose(got, getattr(native, head), rtol=1e-4, atol=1e-5, err_msg=head)


def test_base_score_is_pinned_not_coremltools_default(coreml_bundle):
    import coremltools as ct

    out, section, _, _, _ = coreml_bundle
    spec = ct.utils.load_spec(str(out / section["profit"]["file"]))
    assert list(spec.treeEnsembleRegressor.treeEnsemble.basePredictionValue) != [0.5]


def test_lightgbm_heads_are_skipped_with_a_reason(coreml_bundle):
    _, section, _, _, _ = coreml_bundle
    assert "no Core ML converter" in section["duration"]["skipped"]


@pytest.mark.skipif(not HAS_MLX, reason="mlx is not installed")
def test_mlx_net_mlpackage_spec(coreml_bundle):
    import coremltools as ct

    out, _, section, _, _ = coreml_bundle
    file = section["profit"]["file"]
    assert file.endswith(".mlpackage") and (out / file).is_dir()
    spec = ct.utils.load_spec(str(out / file))
    assert spec.WhichOneof("Type") == "mlProgram"
    assert [i.name for i in spec.description.input] == ["features"]
    assert sorted(o.name for o in spec.description.output) == sorted(HEADS)
    ops = {
        op.type
        for block in spec.mlProgram.functions["main"].block_specializations.values()
        for op in block.operations
    }
    assert {"linear", "sigmoid", "exp", "concat"} <= ops


@pytest.mark.skipif(
    not ON_MAC,
    reason="Core ML models only run on macOS; the Linux tests above check the saved specs instead",
)
def test_macos_predict_parity(coreml_bundle):
    import coremltools as ct

    out, section, section_net, families, X = coreml_bundle
    rows = _rows(X)
    for head in ("profit", "success"):
        model = ct.models.MLModel(str(out / section[head]["file"]))
        names = section[head]["inputs"]
        got = [model.predict(dict(zip(names, map(float, r), strict=False)))[head] for r in rows]
        np.testing.assert_allclose(
            got, getattr(families["xgboost"].predict(rows), head), rtol=1e-4, atol=1e-4
        )
    if section_net:
        model = ct.models.MLModel(str(out / section_net["profit"]["file"]))
        got = model.predict({"features": np.nan_to_num(rows).astype(np.float32)})
        native = families["mlx"].predict(np.nan_to_num(rows))
        for head in HEADS:
            np.testing.assert_allclose(
                got[head].reshape(-1), getattr(native, head), rtol=1e-3, atol=1e-3
            )


@pytest.mark.skipif(not HAS_MLX, reason="mlx is not installed")
@pytest.mark.parametrize(
    "variant",
    [
        dict(numeric_embedding="periodic", categorical_embedding_dim=2),
        dict(numeric_embedding="none", categorical_embedding_dim=0, smooth_clip=0.0),
    ],
)
def test_mlx_variants_convert_to_ml_programs(variant, tmp_path):
    """Every input stage the config can select converts (the defaults: the fixture above);
    on Linux coremltools cannot run it, so the ops are checked instead."""
    import coremltools as ct

    from arbscore.export.coreml import export_coreml
    from arbscore.export.demo import training_matrix
    from arbscore.mlx_models import MLXConfig, MLXFamily

    X, targets, spec = training_matrix(80, seed=6)
    base = dict(trunk_sizes=(8,), head_hidden=4, max_epochs=1, batch_size=128, purge_hours=2.0)
    net = MLXFamily(MLXConfig(**{**base, **variant})).fit(X, targets, list(spec.feature_names))
    section = export_coreml({h: ("mlx", net) for h in HEADS}, spec, tmp_path)
    model_spec = ct.utils.load_spec(str(tmp_path / section["profit"]["file"]))
    ops = {
        op.type
        for block in model_spec.mlProgram.functions["main"].block_specializations.values()
        for op in block.operations
    }
    if variant["numeric_embedding"] == "periodic":
        assert {"sin", "cos", "reshape", "matmul"} <= ops
    else:
        assert {"gather", "linear"} <= ops and "sin" not in ops
