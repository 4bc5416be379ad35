"""A small ONNX graph builder whose tensors behave like numpy columns.

:class:`Sym` is a symbolic 1-D tensor: ``a + b``, ``a / 3.0``, ``a < 0``, ``c & d`` append the
ONNX node and return the result's :class:`Sym`, so an expression written for numpy (the
feature definitions of :mod:`arbscore.data_tools.features.defs`) emits the same computation as a
graph. :func:`onnx_ops` is the third ``ops`` namespace next to ``features.ops.ARRAY_OPS`` and
``SCALAR_OPS``: the same operation names, numpy's semantics (NaN propagation of ``maximum`` /
``minimum`` / ``clip``, ``safe_div``'s zero and finite guards), written with standard ONNX ops.
Python numbers in an expression become float64 scalar constants (numpy's float64 promotion).

:meth:`Graph.inline` copies another model's graph in under a prefix (the model heads), and
:meth:`Graph.model` drops nodes no output needs.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from arbscore.export import onnx_trig


class Sym:
    """One tensor of a :class:`Graph` (its name); operators append nodes."""

    __slots__ = ("g", "name")

    def __init__(self, g: Graph, name: str) -> None:
        self.g, self.name = g, name

    def _bin(self, op: str, other: Any, swap: bool = False) -> Sym:
        o = self.g.lift(other)
        return self.g.op(op, o, self) if swap else self.g.op(op, self, o)

    def __add__(self, o):
        return self._bin("Add", o)  # noqa: E704

    def __radd__(self, o):
        return self._bin("Add", o, True)  # noqa: E704

    def __sub__(self, o):
        return self._bin("Sub", o)  # noqa: E704

    def __rsub__(self, o):
        return self._bin("Sub", o, True)  # noqa: E704

    def __mul__(self, o):
        return self._bin("Mul", o)  # noqa: E704

    def __rmul__(self, o):
        return self._bin("Mul", o, True)  # noqa: E704

    def __truediv__(self, o):
        return self._bin("Div", o)  # noqa: E704

    def __rtruediv__(self, o):
        return self._bin("Div", o, True)  # noqa: E704

    def __lt__(self, o):
        return self._bin("Less", o)  # noqa: E704

    def __le__(self, o):
        return self._bin("LessOrEqual", o)  # noqa: E704

    def __gt__(self, o):
        return self._bin("Greater", o)  # noqa: E704

    def __ge__(self, o):
        return self._bin("GreaterOrEqual", o)  # noqa: E704

    def __and__(self, o):
        return self._bin("And", o)  # noqa: E704

    def __or__(self, o):
        return self._bin("Or", o)  # noqa: E704

    def __invert__(self):
        return self.g.op("Not", self)  # noqa: E704

    def __neg__(self):
        return self.g.op("Neg", self)  # noqa: E704

    def eq(self, o: Any) -> Sym:
        """Elementwise ``==`` (a method: ``__eq__`` stays identity for dict keys)."""
        return self._bin("Equal", o)

    def __bool__(self) -> bool:
        raise TypeError("a symbolic tensor has no truth value; use ops.where")


class Graph:
    """Nodes, constants, inputs and outputs of one ONNX graph under construction."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.opsets: dict[str, int] = {}
        self._count = 0
        self._consts: dict[tuple, Sym] = {}

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def op(self, op_type: str, *inputs: Sym | None, domain: str = "", **attrs: Any) -> Sym:
        """Append one single-output node; returns its output."""
        out = self.fresh(op_type.lower())
        names = ["" if i is None else i.name for i in inputs]
        self.nodes.append(helper.make_node(op_type, names, [out], domain=domain or None, **attrs))
        return Sym(self, out)

    def const(self, value: Any, dtype: Any = None) -> Sym:
        """A constant tensor (a float64 scalar for a Python number; an array keeps its dtype
        unless ``dtype`` is given), shared between equal uses."""
        if dtype is None and not isinstance(value, np.ndarray):
            dtype = np.float64
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())  # bytes: 0.0 and -0.0 stay distinct
        if key not in self._consts:
            name = self.fresh("const")
            self.initializers.append(numpy_helper.from_array(arr, name))
            self._consts[key] = Sym(self, name)
        return self._consts[key]

    def lift(self, x: Any) -> Sym:
        """``x`` itself if symbolic, else a float64 constant (numpy's promotion of a Python
        number against a float64 column)."""
        if isinstance(x, Sym):
            return x
        if isinstance(x, (bool, np.bool_)):
            return self.const(x, np.bool_)
        return self.const(float(x))

    def input(self, name: str, elem_type: int, shape: list) -> Sym:
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return Sym(self, name)

    def output(self, sym: Sym, name: str, elem_type: int, shape: list) -> None:
        self.nodes.append(helper.make_node("Identity", [sym.name], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def inline(self, model: onnx.ModelProto, prefix: str, feeds: dict[str, Sym]) -> dict[str, Sym]:
        """Copy ``model``'s graph in with every name prefixed, its inputs bound to ``feeds``;
        returns its outputs. Raises ValueError for a subgraph attribute (not needed by the
        heads) or an unbound input."""
        graph = model.graph
        inits = {t.name for t in graph.initializer}
        unbound = [i.name for i in graph.input if i.name not in feeds and i.name not in inits]
        if unbound:
            raise ValueError(f"inlining {graph.name!r}: inputs {unbound} are not fed")

        def rename(n: str) -> str:
            return feeds[n].name if n in feeds else (f"{prefix}{n}" if n else "")

        for init in graph.initializer:
            if init.name not in feeds:
                copy = onnx.TensorProto()
                copy.CopyFrom(init)
                copy.name = rename(init.name)
                self.initializers.append(copy)
        for node in graph.node:
            if any(
                a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                for a in node.attribute
            ):
                raise ValueError(f"inlining {graph.name!r}: subgraph in node {node.name!r}")
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            copy.name = f"{prefix}{node.name}" if node.name else ""
            copy.input[:] = [rename(n) for n in node.input]
            copy.output[:] = [rename(n) for n in node.output]
            self.nodes.append(copy)
        for imp in model.opset_import:
            domain = imp.domain or ""
            self.opsets[domain] = max(self.opsets.get(domain, 0), imp.version)
        return {o.name: Sym(self, rename(o.name)) for o in graph.output}

    def model(self, opset: int, ir_version: int, doc: str = "") -> onnx.ModelProto:
        """The checked model; nodes and constants no output depends on are dropped."""
        needed = {o.name for o in self.outputs}
        kept = []
        for node in reversed(self.nodes):
            if needed.intersection(node.output):
                kept.append(node)
                needed.update(n for n in node.input if n)
        inits = [t for t in self.initializers if t.name in needed]
        graph = helper.make_graph(kept[::-1], self.name, self.inputs, self.outputs, inits)
        opsets = {**self.opsets, "": max(opset, self.opsets.get("", 0))}
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
            ir_version=ir_version,
            producer_name="arbscore",
            doc_string=doc,
        )
        onnx.checker.check_model(model)
        return model


def _where(cond: Sym, a: Any, b: Any) -> Sym:
    g = cond.g
    return g.op("Where", cond, g.lift(a), g.lift(b))


def _isfinite(v: Sym) -> Sym:
    g = v.g
    return g.op("Not", g.op("Or", g.op("IsNaN", v), g.op("IsInf", v)))


def _maximum(a: Sym, b: Any) -> Sym:
    # numpy: NaN wins; maximum(-0.0, 0.0) is the second argument (as SCALAR_OPS)
    return _where((a > b) | a.g.op("IsNaN", a), a, b)


def _minimum(a: Sym, b: Any) -> Sym:
    return _where((a < b) | a.g.op("IsNaN", a), a, b)


def _clip(v: Sym, c: float) -> Sym:
    # np.clip(v, -c, c): NaN stays NaN
    return _where(v < -c, -c, _where(v > c, c, v))


def clip_range(v: Sym, lo: float, hi: float) -> Sym:
    """np.clip(v, lo, hi): NaN stays NaN."""
    return _where(v < lo, lo, _where(v > hi, hi, v))


def _safe_div(num: Sym, den: Sym, clip: float) -> Sym:
    nonzero = ~den.eq(0.0)
    out = _where(nonzero, num / _where(nonzero, den, 1.0), 0.0)
    return _clip(_where(_isfinite(out), out, 0.0), clip)


def _log1p(x: Sym) -> Sym:
    # ONNX has no Log1p; log(u) * x / (u - 1) with u = 1 + x is accurate to a few ulp
    # (Goldberg 1991), where log(1 + x) alone loses every digit of a tiny x
    g = x.g
    u = 1.0 + x
    return _where(u.eq(1.0), x, g.op("Log", u) * x / (u - 1.0))


def onnx_ops() -> SimpleNamespace:
    """The ``ops`` namespace of the feature definitions, emitting ONNX nodes."""
    return SimpleNamespace(
        where=_where,
        abs=lambda v: v.g.op("Abs", v),
        maximum=_maximum,
        minimum=_minimum,
        isinf=lambda v: v.g.op("IsInf", v),
        isfinite=_isfinite,
        clip=_clip,
        safe_div=_safe_div,
        sin=onnx_trig.sin,  # not the Sin/Cos ops: no float64 Cos kernel in onnxruntime 1.20
        cos=onnx_trig.cos,
        log1p=_log1p,
    )


def asinh(z: Sym) -> Sym:
    """asinh(z) = sign(z) * log(|z| + sqrt(z^2 + 1)) (onnxruntime has no double Asinh)."""
    g = z.g
    a = g.op("Abs", z)
    return g.op("Sign", z) * g.op("Log", a + g.op("Sqrt", a * a + 1.0))


__all__ = ["Graph", "Sym", "TensorProto", "asinh", "clip_range", "onnx_ops"]
