"""Native XGBoost / LightGBM boosters -> one ONNX graph per head, through onnxmltools.

Why the detour through the raw margin: onnxmltools turns a ``binary:logistic`` booster into a
classifier graph that outputs uncalibrated probabilities, but the families calibrate the success
head with Platt scaling on the *margin* (``p = sigmoid(a * margin + b)``). So every booster is
first rewritten to an identity-link regression booster whose output is exactly the native margin
(same trees, base score moved into margin space), converted, and the link is appended as plain
ONNX ops: identity (profit), Platt sigmoid (success), exp (log-link duration objectives).

Every graph takes ``features`` float32 ``[N, F]`` (the full feature matrix, ``hold_hours``
last) and returns ``[N, 1]`` float32 under the head's name. A booster trained on fewer columns
(the duration head ignores ``hold_hours``) gets a leading ``Slice`` so callers never special-case
heads.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: ONNX IR version pinned so older runtimes (onnxruntime-node, C#, Java) load the files
IR_VERSION = 8
#: default-domain opset; ai.onnx.ml opset 3 has TreeEnsembleRegressor with float thresholds
OPSET = 15
ML_OPSET = 3
INPUT_NAME = "features"

_LOGISTIC = ("binary:logistic", "binary:logitraw", "reg:logistic", "binary")
_LOG_LINK = ("count:poisson", "reg:gamma", "reg:tweedie", "poisson", "gamma", "tweedie")


@dataclass(frozen=True)
class Link:
    """What turns the raw margin into the head's output."""

    kind: str  # "identity" | "platt" | "exp"
    a: float = 1.0  # Platt slope (kind == "platt")
    b: float = 0.0  # Platt intercept

    def __post_init__(self) -> None:
        if self.kind not in ("identity", "platt", "exp"):
            raise ValueError(f"Link.kind={self.kind!r}; expected identity, platt or exp")

    def apply(self, margin: np.ndarray) -> np.ndarray:
        """The same link in numpy (float64), for references and tree-reading checks."""
        m = np.asarray(margin, dtype=np.float64)
        if self.kind == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * m + self.b)))
        if self.kind == "exp":
            return np.exp(m)
        return m


def as_booster(model: Any) -> Any:
    """The native booster inside a scikit-learn wrapper (XGBRegressor, LGBMRegressor, ...)."""
    if hasattr(model, "get_booster"):
        return model.get_booster()
    if hasattr(model, "booster_"):
        return model.booster_
    return model


def _booster_kind(booster: Any) -> str:
    module = type(booster).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    raise ValueError(
        f"booster of type {type(booster).__name__}: expected an xgboost.Booster "
        "or a lightgbm.Booster"
    )


def objective_of(booster: Any) -> str:
    """The booster's objective name (``reg:squarederror``, ``binary``, ...)."""
    if _booster_kind(booster) == "xgboost":
        return json.loads(booster.save_config())["learner"]["objective"]["name"]
    match = re.search(r"^objective=(\S+)", booster.model_to_string(), flags=re.M)
    return match.group(1) if match else "regression"


def native_link(booster: Any) -> str:
    """The link the native ``predict`` applies to the margin: identity, logistic or exp."""
    objective = objective_of(booster)
    if objective.startswith(_LOGISTIC) and objective != "binary:logitraw":
        return "logistic"
    if objective.startswith(_LOG_LINK):
        return "exp"
    return "identity"


def n_features_of(booster: Any) -> int:
    """Number of input columns the booster was trained on."""
    if _booster_kind(booster) == "xgboost":
        return int(booster.num_features())
    return int(booster.num_feature())


def margin_booster(booster: Any) -> Any:
    """A copy of ``booster`` whose plain ``predict`` equals the native raw margin."""
    if _booster_kind(booster) == "xgboost":
        import xgboost as xgb

        raw = json.loads(bytes(booster.save_raw("json")))
        learner = raw["learner"]
        params = learner["learner_model_param"]
        base = float(str(params["base_score"]).strip("[]"))
        link = native_link(booster)
        if link == "logistic":
            base = math.log(base / (1.0 - base))
        elif link == "exp":
            base = math.log(base)
        params["base_score"] = repr(base)
        learner["objective"] = {
            "name": "reg:squarederror",
            "reg_loss_param": {"scale_pos_weight": "1"},
        }
        out = xgb.Booster()
        out.load_model(bytearray(json.dumps(raw).encode()))
        return out
    import lightgbm as lgb

    text = booster.model_to_string()
    text = re.sub(r"^objective=.*$", "objective=regression", text, flags=re.M)
    text = re.sub(r"^\[objective: .*\]$", "[objective: regression]", text, flags=re.M)
    return lgb.Booster(model_str=text)


def native_margin(booster: Any, X: np.ndarray) -> np.ndarray:
    """Raw margin of the native booster on ``X`` (float64), the parity reference."""
    booster = as_booster(booster)
    if _booster_kind(booster) == "xgboost":
        import xgboost as xgb

        return booster.predict(xgb.DMatrix(X, missing=np.nan), output_margin=True).astype(
            np.float64
        )
    return np.asarray(booster.predict(X, raw_score=True), dtype=np.float64)


def booster_to_onnx(booster: Any, head: str, n_features: int, link: Link) -> onnx.ModelProto:
    """Convert one head's booster to an ONNX graph ``features [N, n_features] -> head [N, 1]``."""
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = as_booster(booster)
    used = n_features_of(booster)
    if used > n_features:
        raise ValueError(
            f"{head} booster uses {used} features but the feature list has "
            f"{n_features}; export with the feature spec the model was trained on"
        )
    plain = margin_booster(booster)
    types = [("x_used", FloatTensorType([None, used]))]
    if _booster_kind(booster) == "xgboost":
        inner = convert_xgboost(plain, initial_types=types, target_opset=OPSET)
    else:
        inner = convert_lightgbm(plain, initial_types=types, target_opset=OPSET)
    return _wrap(inner, head, n_features, used, link)


def _wrap(
    inner: onnx.ModelProto, head: str, n_features: int, used: int, link: Link
) -> onnx.ModelProto:
    """Slice the input to the columns the trees use, then append the link ops."""
    graph = inner.graph
    if len(graph.output) != 1:
        raise ValueError(
            f"{head}: converted graph has outputs {[o.name for o in graph.output]}, "
            "expected one regression output"
        )
    margin = graph.output[0].name
    pre: list[onnx.NodeProto] = []
    inits = list(graph.initializer)
    if used == n_features:
        pre.append(helper.make_node("Identity", [INPUT_NAME], ["x_used"], name="take_all"))
    else:
        inits += [
            numpy_helper.from_array(np.array([0], np.int64), "slice_start"),
            numpy_helper.from_array(np.array([used], np.int64), "slice_end"),
            numpy_helper.from_array(np.array([1], np.int64), "slice_axis"),
        ]
        pre.append(
            helper.make_node(
                "Slice",
                [INPUT_NAME, "slice_start", "slice_end", "slice_axis"],
                ["x_used"],
                name="drop_unused_columns",
            )
        )
    post = _link_nodes(margin, head, link, inits)
    out_graph = helper.make_graph(
        pre + list(graph.node) + post,
        f"arbscore_{head}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(head, TensorProto.FLOAT, [None, 1])],
        initializer=inits,
    )
    model = helper.make_model(
        out_graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="arbscore",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model


def _link_nodes(margin: str, head: str, link: Link, inits: list) -> list[onnx.NodeProto]:
    """ONNX ops for ``link`` applied to the ``[N, 1]`` margin, ending in output ``head``."""
    m = "margin_2d"
    nodes = [helper.make_node("Reshape", [margin, "shape_n1"], [m], name="to_n_by_1")]
    inits.append(numpy_helper.from_array(np.array([-1, 1], np.int64), "shape_n1"))
    if link.kind == "identity":
        nodes.append(helper.make_node("Identity", [m], [head], name="identity_link"))
    elif link.kind == "exp":
        nodes.append(helper.make_node("Exp", [m], [head], name="exp_link"))
    else:
        inits += [
            numpy_helper.from_array(np.array(link.a, np.float32), "platt_a"),
            numpy_helper.from_array(np.array(link.b, np.float32), "platt_b"),
        ]
        nodes += [
            helper.make_node("Mul", [m, "platt_a"], ["platt_scaled"], name="platt_mul"),
            helper.make_node("Add", ["platt_scaled", "platt_b"], ["platt_logit"], name="platt_add"),
            helper.make_node("Sigmoid", ["platt_logit"], [head], name="platt_sigmoid"),
        ]
    return nodes
