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


def _weights(seed: int, act: str = "relu", clip: float = 10.0) -> NetWeights:
    rng = np.random.default_rng(seed)

    def dense(block, n_in, n_out, a):
        w = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)).astype(np.float32)
        return Dense(block, w, rng.normal(0, 0.1, n_out).astype(np.float32), a)

    layers = (
        dense("trunk", F - 1, 12, act),
        dense("trunk", 12, 8, act),
        dense("profit", 9, 4, act),
        dense("profit", 4, 1, "identity"),
        dense("success", 9, 1, "identity"),
        dense("duration", 8, 1, "identity"),
    )
    return NetWeights(
        mean=rng.normal(0, 2, F).astype(np.float32),
        scale=rng.uniform(0.5, 3, F).astype(np.float32),
        layers=layers,
        calibration=(0.9, -0.1),
        input_clip=clip,
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
    from arbscore.export.bundle import net_weights, probe_matrix

    families, spec, X = demo
    net = families["mlx"]
    rows = np.vstack([X[::37], probe_matrix(spec, 64, seed=9)])
    got = _run(net_weights(net), rows)
    native = net.predict(rows)
    for head in HEADS:
        np.testing.assert_allclose(
            got[head], getattr(native, head), rtol=1e-4, atol=1e-4, err_msg=head
        )
