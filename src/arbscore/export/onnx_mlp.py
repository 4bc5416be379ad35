"""The MLX multi-head net as a hand-built ONNX graph, from plain numpy weights.

Why by hand: there is no MLX -> ONNX converter, and the net is a few dense layers, so the graph
is written op by op and mirrors ``arbscore.mlx_models.model`` (see its docstring):

    x_std  = clip((x - mean) / scale, -c, c)    standardisation inside the graph: callers pass
                                                 raw features, exactly like the GBDT graphs
    z      = trunk(x_std[:, :F-1])               shared trunk, never sees hold_hours
    zh     = concat(z, x_std[:, F-1:])           hold-conditioned heads
    profit = profit_layers(zh) * profit_scale + profit_offset
    success= sigmoid(a * success_layers(zh) + b)                Platt calibration
    duration = clip(exp(duration_layers(z)) - 1, min_hold, max_hold)   log1p target

One input ``features [N, F]``, three ``[N, 1]`` outputs named ``profit``, ``success``,
``duration``: one multi-output graph, one session. :func:`reference_forward` is the same
computation in float64 numpy (the oracle for tests that lack MLX).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from arbscore.export.onnx_gbdt import INPUT_NAME, IR_VERSION, OPSET
from arbscore.mlx_models.config import numpy_activation
from arbscore.schema import MAX_HOLD_HOURS, MIN_PREDICTED_HOLD_HOURS

BLOCKS = ("trunk", "profit", "success", "duration")
ACTIVATIONS = ("relu", "silu", "identity")


@dataclass(frozen=True)
class Dense:
    """``y = activation(x @ weight + bias)`` with ``weight`` shaped ``(in, out)``."""

    block: str
    weight: np.ndarray
    bias: np.ndarray
    activation: str = "identity"

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"Dense.block={self.block!r}; expected one of {BLOCKS}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"Dense.activation={self.activation!r}; expected one of {ACTIVATIONS}")
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[1],):
            raise ValueError(
                f"Dense {self.block}: weight {self.weight.shape} / bias "
                f"{self.bias.shape}; expected (in, out) and (out,)"
            )


@dataclass(frozen=True)
class NetWeights:
    """What the exporter needs from a fitted MLX family, as numpy."""

    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[Dense, ...]
    calibration: tuple[float, float] = (1.0, 0.0)
    profit_scale: float = 1.0
    profit_offset: float = 0.0
    max_hold_hours: float = float(MAX_HOLD_HOURS)
    min_hold_hours: float = MIN_PREDICTED_HOLD_HOURS
    input_clip: float = 0.0  # standardised inputs clipped to [-c, c] when > 0 (as in training)

    def block(self, name: str) -> list[Dense]:
        return [d for d in self.layers if d.block == name]

    @property
    def n_features(self) -> int:
        return int(np.asarray(self.mean).shape[0])


def reference_forward(w: NetWeights, X: np.ndarray) -> dict[str, np.ndarray]:
    """The graph's computation in float64 numpy: {head: values [N]}."""
    xs = (np.asarray(X, np.float64) - w.mean) / w.scale
    if w.input_clip > 0:
        xs = np.clip(xs, -w.input_clip, w.input_clip)

    def run(block: str, h: np.ndarray) -> np.ndarray:
        for d in w.block(block):
            h = numpy_activation(h @ d.weight.astype(np.float64) + d.bias, d.activation)
        return h

    z = run("trunk", xs[:, :-1])
    zh = np.concatenate([z, xs[:, -1:]], axis=1)
    a, b = w.calibration
    with np.errstate(over="ignore", invalid="ignore"):
        return {
            "profit": run("profit", zh)[:, 0] * w.profit_scale + w.profit_offset,
            "success": 1.0 / (1.0 + np.exp(-(a * run("success", zh)[:, 0] + b))),
            "duration": np.clip(
                np.expm1(run("duration", z)[:, 0]), w.min_hold_hours, w.max_hold_hours
            ),
        }


class _Builder:
    """Accumulates nodes and initializers under unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def _name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, value, stem: str, dtype=np.float32) -> str:
        name = self._name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        out = out or self._name(op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, inputs, [out], name=self._name(op_type), **attrs)
        )
        return out

    def dense(self, x: str, d: Dense) -> str:
        y = self.op(
            "Add", [self.op("MatMul", [x, self.const(d.weight, "W")]), self.const(d.bias, "b")]
        )
        if d.activation == "relu":
            return self.op("Relu", [y])
        if d.activation == "silu":
            return self.op("Mul", [y, self.op("Sigmoid", [y])])
        return y

    def run(self, x: str, layers: list[Dense]) -> str:
        for d in layers:
            x = self.dense(x, d)
        return x

    def cols(self, x: str, start: int, end: int) -> str:
        i64 = np.int64
        return self.op(
            "Slice",
            [
                x,
                self.const([start], "s", i64),
                self.const([end], "e", i64),
                self.const([1], "ax", i64),
            ],
        )


def mlp_to_onnx(w: NetWeights) -> onnx.ModelProto:
    """ONNX graph ``features [N, F] -> profit, success, duration [N, 1]`` for the net ``w``."""
    F = w.n_features
    for block in BLOCKS:
        if not w.block(block) and block != "trunk":
            raise ValueError(f"NetWeights has no {block!r} layers; expected trunk and three heads")
    g = _Builder()
    xs = g.op(
        "Div", [g.op("Sub", [INPUT_NAME, g.const(w.mean, "mean")]), g.const(w.scale, "scale")]
    )
    if w.input_clip > 0:
        xs = g.op("Clip", [xs, g.const(-w.input_clip, "clip_lo"), g.const(w.input_clip, "clip_hi")])
    z = g.run(g.cols(xs, 0, F - 1), w.block("trunk"))
    zh = g.op("Concat", [z, g.cols(xs, F - 1, F)], axis=1)
    profit = g.run(zh, w.block("profit"))
    profit = g.op(
        "Add",
        [
            g.op("Mul", [profit, g.const(w.profit_scale, "pscale")]),
            g.const(w.profit_offset, "poffset"),
        ],
    )
    a, b = w.calibration
    logit = g.op(
        "Add",
        [
            g.op("Mul", [g.run(zh, w.block("success")), g.const(a, "platt_a")]),
            g.const(b, "platt_b"),
        ],
    )
    dur = g.op("Sub", [g.op("Exp", [g.run(z, w.block("duration"))]), g.const(1.0, "one")])
    g.op("Identity", [profit], out="profit")
    g.op("Sigmoid", [logit], out="success")
    g.op(
        "Clip",
        [dur, g.const(w.min_hold_hours, "lo"), g.const(w.max_hold_hours, "hi")],
        out="duration",
    )
    graph = helper.make_graph(
        g.nodes,
        "arbscore_mlx_net",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, F])],
        [
            helper.make_tensor_value_info(h, TensorProto.FLOAT, [None, 1])
            for h in ("profit", "success", "duration")
        ],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="arbscore",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model
