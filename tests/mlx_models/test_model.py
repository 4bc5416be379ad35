"""The network's shapes, its head wiring, and the numpy reference exporters rely on."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from arbscore.mlx_models import MLXFamily
from arbscore.mlx_models.config import MLXConfig
from arbscore.mlx_models.embeddings import input_layout
from arbscore.mlx_models.model import MultiHeadNet, NetOutputs, numpy_forward

from .synthetic import tiny_config

NAMES = ["f0", "strategy_spot_perp", "strategy_perp_perp", "f1", "market_regime_bull", "hold_hours"]
#: every input-stage option the config can select
VARIANTS = [
    dict(numeric_embedding="ple", categorical_embedding_dim=4),
    dict(numeric_embedding="periodic", categorical_embedding_dim=3, activation="silu"),
    dict(numeric_embedding="none", categorical_embedding_dim=0, scaling="standard", smooth_clip=0),
    dict(numeric_embedding="ple", categorical_embedding_dim=0, head_hidden=0, loss_balance="none"),
]


def test_input_layout_finds_one_hot_groups() -> None:
    layout = input_layout(NAMES)
    assert layout.numeric == (0, 3)
    assert layout.categorical == ((1, 2), (4,))
    assert layout.hold == 5
    with pytest.raises(ValueError, match="hold_hours"):
        input_layout(["a", "b"])


@pytest.mark.parametrize("batch", [1, 7, 256])
@pytest.mark.parametrize("variant", VARIANTS)
def test_output_shapes(batch: int, variant: dict) -> None:
    config = MLXConfig(trunk_sizes=(8, 4), ensemble_size=3, **variant)
    net = MultiHeadNet(input_layout(NAMES), config)
    x = mx.random.normal((batch, len(NAMES)))
    out = net(x)
    assert isinstance(out, NetOutputs)
    for arr in out:
        assert arr.shape == (batch,)
        assert arr.dtype == mx.float32
    for arr in net.members(x):
        assert arr.shape == (config.ensemble_size, batch)


@pytest.mark.parametrize("variant", VARIANTS)
def test_duration_head_ignores_hold_but_profit_uses_it(variant: dict) -> None:
    mx.random.seed(1)
    net = MultiHeadNet(input_layout(NAMES), MLXConfig(trunk_sizes=(8,), **variant))
    x = np.random.default_rng(0).normal(size=(20, len(NAMES))).astype(np.float32)
    if variant["numeric_embedding"] == "ple":  # the placeholder bins never fire: fit some
        net.embed.lo = mx.array(np.tile(np.linspace(-2, 2, 16, dtype=np.float32), (3, 1)))
        net.embed.width = mx.full((3, 16), 0.25)
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
        "duration",
    ]
    k, d = fitted.config.ensemble_size, fitted.config.embedding_dim
    trunk = [p for p in params if p.block == "trunk"]
    assert trunk[0].weight.shape == ((x.shape[1] - 1) * d, 32)  # PLE: d per numeric input
    assert trunk[1].weight.shape == (32, 16)
    assert params[2].weight.shape == (16 + 1 + d, 16 * k)  # trunk, hold, hold embedding
    assert params[3].weight.shape == (16 * k, 1) and params[3].activation == "identity"
    assert params[-1].weight.shape == (16 * k, 1) and params[-1].activation == "identity"
    assert all(p.activation == "relu" for p in trunk)
    profit, prob, dur = numpy_forward(params, fitted.input_params(), x, fitted.calibration_)
    native = fitted.predict(x)
    np.testing.assert_allclose(profit, native.profit, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(prob, native.success, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dur, native.duration, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("variant", VARIANTS)
def test_numpy_reference_matches_predict_for_every_variant(dataset, variant) -> None:
    x, targets, names = dataset
    x = x.copy()
    x[:, 1] = (x[:, 1] > 0).astype(np.float32)  # two columns become a one-hot group
    x[:, 2] = 1.0 - x[:, 1]
    names = [names[0], "strategy_a", "strategy_b", *names[3:]]
    fam = MLXFamily(tiny_config(max_epochs=2, ensemble_size=2, **variant)).fit(x, targets, names)
    got = numpy_forward(fam.layer_params(), fam.input_params(), x, fam.calibration_)
    for want, have in zip(fam.predict(x), got, strict=True):
        np.testing.assert_allclose(have, want, rtol=1e-4, atol=1e-4)
    assert fam.input_params().embedding == variant["numeric_embedding"]


def test_layer_params_are_copies(fitted) -> None:
    params = fitted.layer_params()
    params[0].weight[:] = 0.0
    assert np.any(fitted.layer_params()[0].weight != 0.0)
