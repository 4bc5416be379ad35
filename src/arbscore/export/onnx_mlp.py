"""The MLX multi-head net as a hand-built ONNX graph, from plain numpy weights.

Why by hand: there is no MLX -> ONNX converter, and the net is a few dense layers, so the graph
is written op by op and mirrors ``arbscore.mlx_models.model`` (see its docstring):

    x_s    = clip((x - mean) / scale, -c, c)    scaling inside the graph: callers pass raw
    x_s    = x_s / sqrt(1 + (x_s / s)^2)         features, exactly like the GBDT graphs
    emb    = relu(reshape(enc(x_s[:, num + hold])) @ blockdiag(W_m) + b)   ple | periodic
    categ  = x_s[:, cat] @ blockdiag(E_g)        (or the one-hot columns as they are)
    z      = trunk(concat(emb[:, numeric], categ))            never sees hold_hours
    zh     = concat(z, x_s[:, F-1:], emb[:, hold])            hold-conditioned heads
    profit = profit_layers(zh) * profit_scale + profit_offset
    success= sigmoid(a * success_layers(zh) + b)                Platt calibration
    duration = clip(exp(duration_layers(z)) - 1, min_hold, max_hold)   log1p target

The per-feature embedding layers become one block-diagonal MatMul, the ensembled heads arrive
folded into plain layers (``MLXFamily.layer_params``), so the graph needs only standard ops
(Gather, Unsqueeze, Sub/Div/Clip or Mul/Sin/Cos, Reshape, MatMul). One input
``features [N, F]``, up to three ``[N, 1]`` outputs named ``profit``, ``success``,
``duration`` (a bundle's net carries only the heads it serves): one multi-output graph, one
session. :func:`reference_forward` is the same computation in float64 numpy (the oracle for
tests that lack MLX; it shares the input stage with the MLX family's ``numpy_forward``
through :mod:`arbscore.mlx_models.reference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from arbscore.export.onnx_gbdt import INPUT_NAME, IR_VERSION, OPSET
from arbscore.mlx_models.config import NUMERIC_EMBEDDINGS, numpy_activation
from arbscore.mlx_models.reference import InputParams, numpy_inputs, numpy_scale
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
    """What the exporter needs from a fitted MLX family, as numpy.

    The input-stage fields follow :class:`arbscore.mlx_models.reference.InputParams`;
    ``numeric=None`` means every column but the hold, in order, and no one-hot columns.
    """

    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[Dense, ...]
    calibration: tuple[float, float] = (1.0, 0.0)
    profit_scale: float = 1.0
    profit_offset: float = 0.0
    max_hold_hours: float = float(MAX_HOLD_HOURS)
    min_hold_hours: float = MIN_PREDICTED_HOLD_HOURS
    input_clip: float = 0.0  # scaled inputs clipped to [-c, c] when > 0 (as in training)
    smooth_clip: float = 0.0
    numeric: np.ndarray | None = None
    categorical: np.ndarray | None = None
    embedding: str = "none"
    encoding: np.ndarray | None = None
    width: np.ndarray | None = None
    embed_weight: np.ndarray | None = None
    embed_bias: np.ndarray | None = None
    categorical_matrix: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.embedding not in NUMERIC_EMBEDDINGS:
            raise ValueError(
                f"NetWeights.embedding={self.embedding!r}; one of {NUMERIC_EMBEDDINGS}"
            )
        need = ("encoding", "embed_weight", "embed_bias") + (
            ("width",) if self.embedding == "ple" else ()
        )
        if self.embedding != "none" and any(getattr(self, n) is None for n in need):
            raise ValueError(f"NetWeights with embedding={self.embedding!r} needs {need}")

    def block(self, name: str) -> list[Dense]:
        return [d for d in self.layers if d.block == name]

    @property
    def n_features(self) -> int:
        return int(np.asarray(self.mean).shape[0])

    def inputs(self) -> InputParams:
        """The input stage as the MLX family's :class:`InputParams`."""
        numeric = np.arange(self.n_features - 1) if self.numeric is None else self.numeric
        cat = np.zeros(0, np.int64) if self.categorical is None else self.categorical
        return InputParams(
            np.asarray(self.mean, np.float32),
            np.asarray(self.scale, np.float32),
            float(self.input_clip),
            float(self.smooth_clip),
            np.asarray(numeric, np.int64),
            np.asarray(cat, np.int64),
            self.embedding,
            self.encoding,
            self.width,
            self.embed_weight,
            self.embed_bias,
            self.categorical_matrix,
        )


def net_weights(family) -> NetWeights:
    """A fitted MLX family's state (``layer_params()``, ``input_params()``, ``calibration_``)
    as :class:`NetWeights`, the input of the ONNX and Core ML writers."""
    layers = tuple(
        Dense(
            p.block, np.asarray(p.weight, np.float32), np.asarray(p.bias, np.float32), p.activation
        )
        for p in family.layer_params()
    )
    p = family.input_params()
    a, b = family.calibration_
    return NetWeights(
        mean=p.mean,
        scale=p.scale,
        layers=layers,
        calibration=(float(a), float(b)),
        input_clip=p.input_clip,
        smooth_clip=p.smooth_clip,
        numeric=p.numeric,
        categorical=p.categorical,
        embedding=p.embedding,
        encoding=p.encoding,
        width=p.width,
        embed_weight=p.embed_weight,
        embed_bias=p.embed_bias,
        categorical_matrix=p.categorical_matrix,
    )


def block_diagonal(weight: np.ndarray) -> np.ndarray:
    """(M, T, d) per-feature weights -> (M * T, M * d) with W_m on the diagonal."""
    m, t, d = weight.shape
    out = np.zeros((m * t, m * d), dtype=np.float32)
    for i in range(m):
        out[i * t : (i + 1) * t, i * d : (i + 1) * d] = weight[i]
    return out


def reference_forward(w: NetWeights, X: np.ndarray) -> dict[str, np.ndarray]:
    """The graph's computation in float64 numpy: {head: values [N]}."""
    p = w.inputs()
    with np.errstate(over="ignore", invalid="ignore"):
        xs = numpy_scale(X, p, np.float64)
        trunk_in, hold = numpy_inputs(p, xs)

    def run(block: str, h: np.ndarray) -> np.ndarray:
        for d in w.block(block):
            h = numpy_activation(h @ d.weight.astype(np.float64) + d.bias, d.activation)
        return h

    z = run("trunk", trunk_in)
    zh = np.concatenate([z, hold], axis=1)
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

    def gather(self, x: str, columns: np.ndarray) -> str:
        return self.op("Gather", [x, self.const(columns, "cols", np.int64)], axis=1)

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


NET_OUTPUTS = ("profit", "success", "duration")


def mlp_to_onnx(w: NetWeights, outputs: Sequence[str] = NET_OUTPUTS) -> onnx.ModelProto:
    """ONNX graph ``features [N, F] -> profit, success, duration [N, 1]`` for the net ``w``;
    ``outputs``: only these heads (a bundle that serves one head from the net carries no
    nodes for the others: ONNX Runtime evaluates every node of a graph on each run)."""
    F = w.n_features
    unknown = [o for o in outputs if o not in NET_OUTPUTS]
    if unknown or not outputs:
        raise ValueError(f"net outputs {list(outputs)}: choose from {list(NET_OUTPUTS)}")
    for block in BLOCKS:
        if not w.block(block) and block != "trunk":
            raise ValueError(f"NetWeights has no {block!r} layers; expected trunk and three heads")
    g = _Builder()
    p = w.inputs()
    xs = g.op(
        "Div", [g.op("Sub", [INPUT_NAME, g.const(w.mean, "mean")]), g.const(w.scale, "scale")]
    )
    if w.input_clip > 0:
        xs = g.op("Clip", [xs, g.const(-w.input_clip, "clip_lo"), g.const(w.input_clip, "clip_hi")])
    if w.smooth_clip > 0:
        r = g.op("Mul", [xs, g.const(1.0 / w.smooth_clip, "inv_s")])
        den = g.op("Sqrt", [g.op("Add", [g.op("Mul", [r, r]), g.const(1.0, "one")])])
        xs = g.op("Div", [xs, den])
    hold = [g.cols(xs, F - 1, F)]
    if p.embedding != "none":
        m = len(p.numeric) + 1
        cols = np.append(p.numeric, F - 1).astype(np.int64)
        v = g.op("Unsqueeze", [g.gather(xs, cols), g.const([2], "ax2", np.int64)])
        if p.embedding == "ple":
            enc = g.op(
                "Div", [g.op("Sub", [v, g.const(p.encoding, "ple_lo")]), g.const(p.width, "ple_w")]
            )
            enc = g.op("Clip", [enc, g.const(0.0, "zero"), g.const(1.0, "one")])
        else:
            angle = g.op("Mul", [v, g.const(2.0 * np.pi * p.encoding.astype(np.float64), "freq")])
            enc = g.op("Concat", [g.op("Sin", [angle]), g.op("Cos", [angle])], axis=2)
        # numeric columns and the hold as two matmuls, so a NaN hold (garbage in) never
        # reaches the duration head through the block-diagonal zeros (NaN * 0 = NaN)
        shape = g.const([0, -1], "shape", np.int64)
        ew, eb = p.embed_weight, p.embed_bias
        emb = []
        for lo_col, hi_col in ((0, m - 1), (m - 1, m)):
            flat = g.op("Reshape", [g.cols(enc, lo_col, hi_col), shape])
            dense = Dense(
                "trunk",
                block_diagonal(ew[lo_col:hi_col]),
                eb[lo_col:hi_col].reshape(-1),
                "relu",
            )
            emb.append(g.dense(flat, dense))
        parts = [emb[0]]
        hold.append(emb[1])
    else:
        parts = [g.gather(xs, np.asarray(p.numeric, np.int64))]
    if len(p.categorical):
        cat = g.gather(xs, np.asarray(p.categorical, np.int64))
        if p.categorical_matrix is not None:
            cat = g.op("MatMul", [cat, g.const(p.categorical_matrix, "E")])
        parts.append(cat)
    trunk_in = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    z = g.run(trunk_in, w.block("trunk"))
    zh = g.op("Concat", [z, *hold], axis=1)
    if "profit" in outputs:
        profit = g.run(zh, w.block("profit"))
        profit = g.op(
            "Add",
            [
                g.op("Mul", [profit, g.const(w.profit_scale, "pscale")]),
                g.const(w.profit_offset, "poffset"),
            ],
        )
        g.op("Identity", [profit], out="profit")
    if "success" in outputs:
        a, b = w.calibration
        logit = g.op(
            "Add",
            [
                g.op("Mul", [g.run(zh, w.block("success")), g.const(a, "platt_a")]),
                g.const(b, "platt_b"),
            ],
        )
        g.op("Sigmoid", [logit], out="success")
    if "duration" in outputs:
        dur = g.op("Sub", [g.op("Exp", [g.run(z, w.block("duration"))]), g.const(1.0, "one")])
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
            for h in NET_OUTPUTS
            if h in outputs
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
