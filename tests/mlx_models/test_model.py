"""The network's shapes, its head wiring, and the numpy reference exporters rely on."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from arbscore.mlx_models.config import MLXConfig
from arbscore.mlx_models.model import MultiHeadNet, NetOutputs, numpy_forward


@pytest.mark.parametrize("batch", [1, 7, 256])
@pytest.mark.parametrize("head_hidden", [0, 16])
@pytest.mark.parametrize("activation", ["relu", "silu"])
def test_output_shapes(batch: int, head_hidden: int, activation: str) -> None:
    net = MultiHeadNet(
        6, MLXConfig(trunk_sizes=(8, 4), head_hidden=head_hidden, activation=activation)
    )
    out = net(mx.random.normal((batch, 6)))
    assert isinstance(out, NetOutputs)
    for arr in out:
        assert arr.shape == (batch,)
        assert arr.dtype == mx.float32


def test_duration_head_ignores_hold_but_profit_uses_it() -> None:
    mx.random.seed(1)
    net = MultiHeadNet(5, MLXConfig(trunk_sizes=(8,), head_hidden=4))
    x = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    x2 = x.copy()
    x2[:, -1] += 3.0
    a, b = net(mx.array(x)), net(mx.array(x2))
    assert np.array_equal(np.array(a.duration_log), np.array(b.duration_log))
    assert not np.allclose(np.array(a.profit), np.array(b.profit))
    assert not np.allclose(np.array(a.success_logit), np.array(b.success_logit))


def test_layer_params_chain_and_numpy_reference_matches_predict(fitted, dataset) -> None:
    x, _, _ = dataset
    params = fitted.layer_params()
    assert [p.block for p in params] == [
        "trunk",
        "trunk",
        "profit",
        "profit",
        "success",
        "success",
        "duration",
    ]
    trunk = [p for p in params if p.block == "trunk"]
    assert trunk[0].weight.shape == (x.shape[1] - 1, 32)
    assert trunk[1].weight.shape == (32, 16)
    assert params[2].weight.shape == (17, 16)  # trunk output + standardised hold
    assert params[-1].weight.shape == (16, 1) and params[-1].activation == "identity"
    assert all(p.activation == "relu" for p in trunk)
    profit, prob, dur = numpy_forward(
        params, x, fitted.mean_, fitted.scale_, fitted.calibration_, fitted.config.input_clip
    )
    native = fitted.predict(x)
    np.testing.assert_allclose(profit, native.profit, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(prob, native.success, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dur, native.duration, rtol=1e-4, atol=1e-3)


def test_layer_params_are_copies(fitted) -> None:
    params = fitted.layer_params()
    params[0].weight[:] = 0.0
    assert np.any(fitted.layer_params()[0].weight != 0.0)
