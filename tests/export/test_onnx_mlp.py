"""The hand-built MLP graph vs its float64 numpy reference and vs the MLX family itself."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arbscore.export.onnx_mlp import Dense, NetWeights, mlp_to_onnx, reference_forward

HAS_MLX = importlib.util.find_spec("mlx") is not None

F = 7
HEADS = ("profit", "success", "duration")
NUMERIC = np.array([0, 1, 4, 5])  # columns 2, 3 form a one-hot group; 6 is the hold
#: every input stage the MLX config can select: (embedding, categorical embedding, smooth clip)
STAGES = [
    ("none", False, 0.0),
    ("none", True, 3.0),
    ("ple", True, 3.0),
    ("ple", False, 0.0),
    ("periodic", True, 3.0),
]


def _weights(
    seed: int,
    act: str = "relu",
    clip: float = 10.0,
    embedding: str = "none",
    cat: bool = False,
    smooth: float = 0.0,
    plain: bool = True,
) -> NetWeights:
    """Random weights; ``plain`` = the original layout (every non-hold column to the trunk)."""
    rng = np.random.default_rng(seed)

    def dense(block, n_in, n_out, a):
        w = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)).astype(np.float32)
        return Dense(block, w, rng.normal(0, 0.1, n_out).astype(np.float32), a)

    extra: dict = {}
    d = 3
    if plain:
        n_trunk, n_hold = F - 1, 1
    else:
        m = len(NUMERIC) + 1
        n_num = len(NUMERIC) * (d if embedding != "none" else 1)
        n_trunk = n_num + (4 if cat else 2)
        n_hold = 1 + (d if embedding != "none" else 0)
        extra = dict(numeric=NUMERIC, categorical=np.array([2, 3]), embedding=embedding)
        if cat:
            extra["categorical_matrix"] = rng.normal(size=(2, 4)).astype(np.float32)
        if embedding == "ple":
            lo = np.sort(rng.normal(0, 1, (m, 5)), axis=1).astype(np.float32)
            lo[:, -1] = 1e30  # one unused bin per column
            extra.update(encoding=lo, width=rng.uniform(0.2, 1.0, (m, 5)).astype(np.float32))
        if embedding == "periodic":
            extra["encoding"] = rng.normal(0, 0.3, (m, 4)).astype(np.float32)
        if embedding != "none":
            t = 5 if embedding == "ple" else 8
            extra["embed_weight"] = rng.normal(0, 0.5, (m, t, d)).astype(np.float32)
            extra["embed_bias"] = rng.normal(0, 0.1, (m, d)).astype(np.float32)
    layers = (
        dense("trunk", n_trunk, 12, act),
        dense("trunk", 12, 8, act),
        dense("profit", 8 + n_hold, 4, act),
        dense("profit", 4, 1, "identity"),
        dense("success", 8 + n_hold, 1, "identity"),
        dense("duration", 8, 1, "identity"),
    )
    return NetWeights(
        mean=rng.normal(0, 2, F).astype(np.float32),
        scale=rng.uniform(0.5, 3, F).astype(np.float32),
        layers=layers,
        calibration=(0.9, -0.1),
        input_clip=clip,
        smooth_clip=smooth,
        **extra,
    )


def _run(w: NetWeights, X: np.ndarray) -> dict[str, np.ndarray]:
    model = mlp_to_onnx(w)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return {h: v[:, 0] for h, v in zip(HEADS, sess.run(list(HEADS), {"features": X}), strict=True)}


@pytest.mark.parametrize("act", ["relu", "silu"])
@pytest.mark.parametrize("clip", [0.0, 3.0])
def test_graph_matches_reference_on_fixed_rows(act, clip):
    w = _weights(1, act, clip)
    X = np.random.default_rng(2).normal(0, 5, (64, F)).astype(np.float32)
    got, want = _run(w, X), reference_forward(w, X)
    for head in HEADS:
        np.testing.assert_allclose(got[head], want[head], rtol=1e-4, atol=1e-4, err_msg=head)
    assert mlp_to_onnx(w).ir_version <= 9


@settings(max_examples=30, deadline=None)
@given(
    X=arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.just(F)),
        elements=st.one_of(
            st.floats(-1e4, 1e4, width=32), st.sampled_from([np.nan, np.inf, -np.inf])
        ),
    )
)
def test_graph_matches_reference_on_hypothesis_rows(X):
    w = _weights(4, "silu", clip=10.0)
    got, want = _run(w, X), reference_forward(w, X)
    for head in HEADS:
        # NaN in, NaN out in both; inf is clipped by the input clip like in training
        np.testing.assert_allclose(got[head], want[head], rtol=1e-4, atol=1e-4, equal_nan=True)


@pytest.mark.parametrize(("embedding", "cat", "smooth"), STAGES)
@pytest.mark.parametrize("act", ["relu", "silu"])
def test_embedded_graph_matches_reference(embedding, cat, smooth, act):
    w = _weights(7, act, 10.0, embedding, cat, smooth, plain=False)
    X = np.random.default_rng(8).normal(0, 5, (64, F)).astype(np.float32)
    X[:, 2] = X[:, 0] > 0  # a one-hot group
    X[:, 3] = 1 - X[:, 2]
    got, want = _run(w, X), reference_forward(w, X)
    for head in HEADS:
        np.testing.assert_allclose(got[head], want[head], rtol=1e-4, atol=1e-4, err_msg=head)
    assert mlp_to_onnx(w).ir_version <= 9


@settings(max_examples=20, deadline=None)
@given(
    X=arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.just(F)),
        elements=st.one_of(
            st.floats(-1e4, 1e4, width=32), st.sampled_from([np.nan, np.inf, -np.inf])
        ),
    ),
    stage=st.sampled_from(STAGES),
)
def test_embedded_graph_matches_reference_on_hypothesis_rows(X, stage):
    w = _weights(9, "relu", 10.0, *stage, plain=False)
    got, want = _run(w, X), reference_forward(w, X)
    for head in HEADS:
        np.testing.assert_allclose(got[head], want[head], rtol=1e-4, atol=1e-4, equal_nan=True)


def test_embedding_needs_its_arrays():
    w = _weights(1)
    with pytest.raises(ValueError, match="needs"):
        NetWeights(w.mean, w.scale, w.layers, embedding="ple")
    with pytest.raises(ValueError, match="embedding"):
        NetWeights(w.mean, w.scale, w.layers, embedding="fourier")


def test_duration_output_ignores_hold_column():
    w = _weights(5)
    X = np.random.default_rng(6).normal(0, 1, (16, F)).astype(np.float32)
    X2 = X.copy()
    X2[:, -1] += 50
    a, b = _run(w, X), _run(w, X2)
    np.testing.assert_array_equal(a["duration"], b["duration"])
    assert not np.allclose(a["profit"], b["profit"])


def test_bad_layer_is_refused():
    with pytest.raises(ValueError, match="Dense.activation"):
        Dense("trunk", np.zeros((2, 2), np.float32), np.zeros(2, np.float32), "gelu")
    with pytest.raises(ValueError, match=r"expected \(in, out\)"):
        Dense("trunk", np.zeros((2, 2), np.float32), np.zeros(3, np.float32))


@pytest.mark.skipif(not HAS_MLX, reason="mlx is not installed")
def test_graph_matches_the_fitted_mlx_family(demo):
    from arbscore.export.bundle import probe_matrix
    from arbscore.export.onnx_mlp import net_weights

    families, spec, X = demo
    net = families["mlx"]
    rows = np.vstack([X[::37], probe_matrix(spec, 64, seed=9)])
    got = _run(net_weights(net), rows)
    native = net.predict(rows)
    for head in HEADS:
        np.testing.assert_allclose(
            got[head], getattr(native, head), rtol=1e-4, atol=1e-4, err_msg=head
        )


MLX_VARIANTS = [
    dict(numeric_embedding="periodic", categorical_embedding_dim=2, activation="silu"),
    dict(numeric_embedding="none", categorical_embedding_dim=0, scaling="standard", smooth_clip=0),
    dict(numeric_embedding="ple", categorical_embedding_dim=0, head_hidden=0, ensemble_size=1),
]


@pytest.mark.skipif(not HAS_MLX, reason="mlx is not installed")
@pytest.mark.parametrize("variant", MLX_VARIANTS)
def test_graph_matches_fitted_mlx_family_variants(variant):
    """Each input stage the config can select, beyond the defaults the demo family uses."""
    from arbscore.export.bundle import probe_matrix
    from arbscore.export.demo import training_matrix
    from arbscore.export.onnx_mlp import net_weights
    from arbscore.mlx_models import MLXConfig, MLXFamily

    X, targets, spec = training_matrix(120, seed=5)
    base = dict(trunk_sizes=(16,), head_hidden=8, max_epochs=2, batch_size=128, purge_hours=2.0)
    config = MLXConfig(**{**base, **variant})
    net = MLXFamily(config).fit(X, targets, list(spec.feature_names))
    rows = np.vstack([X[::11], probe_matrix(spec, 32, seed=2)])
    got = _run(net_weights(net), rows)
    native = net.predict(rows)
    for head in HEADS:
        np.testing.assert_allclose(
            got[head], getattr(native, head), rtol=1e-4, atol=1e-4, err_msg=head
        )


def test_a_row_scores_the_same_alone_and_in_a_batch():
    # /predict (one row) and /predict/batch (many) must answer bit for bit the same: the graph
    # must not pick batch-size-dependent kernels (a batched per-feature MatMul did, at the
    # default sizes: 39 embedded columns x 16 bins x 8 dims, 1000 rows; 35 % of rows differed)
    from arbscore.export.demo import training_matrix
    from arbscore.export.onnx_mlp import net_weights
    from arbscore.mlx_models import MLXFamily
    from arbscore.mlx_models.config import MLXConfig

    X, targets, spec = training_matrix(1500, seed=3)
    fam = MLXFamily(MLXConfig(max_epochs=1, purge_hours=2.0)).fit(
        X, targets, list(spec.feature_names)
    )
    model = mlp_to_onnx(net_weights(fam))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rows = np.ascontiguousarray(X[:1000], dtype=np.float32)
    batch = sess.run(list(HEADS), {"features": rows})
    for i in range(0, 1000, 7):
        one = sess.run(list(HEADS), {"features": rows[i : i + 1]})
        for h, (b, o) in enumerate(zip(batch, one, strict=True)):
            assert b[i, 0] == o[0, 0], (HEADS[h], i, b[i, 0], o[0, 0])


def test_net_graph_carries_only_the_requested_heads():
    w = _weights(1, "relu", 3.0)
    full = mlp_to_onnx(w)
    X = np.random.default_rng(3).normal(0, 5, (16, F)).astype(np.float32)

    def run(model):
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        return dict(zip(names, sess.run(None, {"features": X}), strict=True))

    want = run(full)
    for heads in (["profit"], ["success", "duration"], ["duration"]):
        model = mlp_to_onnx(w, heads)
        assert [o.name for o in model.graph.output] == heads
        assert len(model.graph.node) < len(full.graph.node)
        got = run(model)
        for h in heads:
            np.testing.assert_array_equal(got[h], want[h])
    with pytest.raises(ValueError, match="choose from"):
        mlp_to_onnx(w, ["volatility"])
