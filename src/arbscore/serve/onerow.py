"""One-row scoring through ONNX Runtime I/O bindings: the ``POST /predict`` path.

``InferenceSession.run`` on a single row spends as long in its Python wrapper, the output
arrays it allocates (and frees) and the numpy glue of the two passes as the tree ensembles
take to evaluate. :class:`OneRow` binds each graph's input and the outputs the heads use to
buffers allocated once per thread (``threading.local``: the scoring threads and the event
loop's inline path each have their own), copies the row in, runs the duration graph, writes
the served hold (:func:`arbscore.data_tools.two_pass.served_hold_one`) into the second pass's
input and runs the profit/success graphs. Same graphs, same kernels, same float32 inputs as
``Scorer.predict_matrix``'s batch path. ``OneRow.build`` returns None (the scorer keeps the
batch path) for a graph whose inputs or used outputs are not float32 tensors of one value per
row; the scorer also checks the two paths agree exactly on probe rows before using it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np
import onnxruntime as ort

from arbscore.data_tools.two_pass import served_hold_one


def _one_per_row(arg: ort.NodeArg) -> bool:
    """A float32 tensor whose shape is (rows,) or (rows, 1)."""
    dims = list(arg.shape or [])
    return arg.type == "tensor(float)" and len(dims) in (1, 2) and dims[1:] in ([], [1])


class _Buffers:
    """One thread's inputs, outputs and bindings."""

    def __init__(self, plan: OneRow) -> None:
        width = plan.n_features
        self.x1 = np.zeros((1, width), np.float32)
        self.x2 = np.zeros((1, width), np.float32)
        self.out: dict[str, np.ndarray] = {}
        self.first = self._bind(plan, plan.first, self.x1)
        self.second = [self._bind(plan, item, self.x2) for item in plan.second]

    def _bind(self, plan: OneRow, item: tuple[str, list[tuple[str, str]]], x: np.ndarray):
        file, pairs = item
        sess = plan.sessions[file]
        binding = sess.io_binding()
        binding.bind_input("features", "cpu", 0, np.float32, list(x.shape), x.ctypes.data)
        shapes = {o.name: len(o.shape) for o in sess.get_outputs()}
        for head, output in pairs:
            buf = np.zeros((1, 1) if shapes[output] == 2 else (1,), np.float32)
            binding.bind_output(output, "cpu", 0, np.float32, list(buf.shape), buf.ctypes.data)
            self.out[head] = buf
        return sess, binding


class OneRow:
    """Thread-safe single-row runner over a scorer's sessions (build it with :meth:`build`)."""

    def __init__(
        self,
        sessions: Mapping[str, ort.InferenceSession],
        first: tuple[str, list[tuple[str, str]]],
        second: list[tuple[str, list[tuple[str, str]]]],
        n_features: int,
        hold_col: int,
        hold_grid: tuple[float, ...] | None = None,
    ) -> None:
        self.sessions, self.first, self.second = sessions, first, second
        self.n_features, self.hold_col, self.hold_grid = n_features, hold_col, hold_grid
        self._local = threading.local()

    @classmethod
    def build(
        cls,
        sessions: Mapping[str, ort.InferenceSession],
        heads: Mapping[str, tuple[str, str]],
        second: Mapping[str, list[tuple[str, str]]],
        n_features: int,
        hold_col: int,
        hold_grid: tuple[float, ...] | None = None,
    ) -> OneRow | None:
        """The runner, or None where a graph does not fit the one-value-per-row binding."""
        files = {heads["duration"][0], *second}
        used = {(f, o) for f, o in heads.values()}
        for file in files:
            sess = sessions[file]
            outputs = {o.name: o for o in sess.get_outputs()}
            inputs = sess.get_inputs()
            if [(i.type, len(i.shape or [])) for i in inputs] != [("tensor(float)", 2)]:
                return None
            if not all(_one_per_row(outputs[o]) for f, o in used if f == file):
                return None
        first = (heads["duration"][0], [("duration", heads["duration"][1])])
        return cls(sessions, first, list(second.items()), n_features, hold_col, hold_grid)

    def _buffers(self) -> _Buffers:
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = _Buffers(self)
        return buffers

    def predict(self, row: np.ndarray, given_hold: float) -> tuple[float, float, float]:
        """(profit, success, duration) for one float32 row of shape (1, n_features);
        ``given_hold`` NaN: evaluate at the served hold of the predicted duration."""
        b = self._buffers()
        np.copyto(b.x1, row)
        sess, binding = b.first
        sess.run_with_iobinding(binding)
        duration = b.out["duration"].item()
        np.copyto(b.x2, b.x1)
        b.x2[0, self.hold_col] = served_hold_one(duration, given_hold, self.hold_grid)
        for sess, binding in b.second:
            sess.run_with_iobinding(binding)
        return b.out["profit"].item(), b.out["success"].item(), duration
