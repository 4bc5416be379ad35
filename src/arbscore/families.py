"""The one small interface every model family implements (scikit-learn style).

The evaluation harness, export and the CLI only ever talk to this interface; they never
special-case a family. A family learns all three heads:

- profit:   actual_profit_pct for an (opportunity, hold) row          (regression)
- success:  P(actual_profit_pct > 0) for an (opportunity, hold) row   (calibrated probability)
- duration: optimal_hold_hours for an opportunity                      (regression, hours)

``X`` is the float32 matrix made by :mod:`arbscore.data_tools.features` in the order of its
``feature_names``; the last column is always ``hold_hours``. The duration head is trained on
one row per opportunity (``Targets.opportunity_id``; :mod:`arbscore.data_tools.targets`) so
opportunities are not counted once per hold, and it must not use the ``hold_hours`` column (it
is an input of the simulation).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from arbscore.data_tools.targets import Targets


class HeadOutputs(NamedTuple):
    """Predictions of the three heads, one value per input row."""

    profit: np.ndarray  # predicted net profit, percent of notional
    success: np.ndarray  # calibrated probability that profit > 0
    duration: np.ndarray  # predicted optimal hold, hours


@runtime_checkable
class ModelFamily(Protocol):
    """fit / predict / save / load. ``__init__`` only stores keyword hyperparameters."""

    name: str

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> ModelFamily: ...

    def predict(self, X: np.ndarray) -> HeadOutputs: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> ModelFamily: ...


# --- the contract, runnable on any family (a plug-in's too) ------------------------------------


class _Check:
    """Raises ``AssertionError`` naming the family and the broken rule (never a bare assert,
    so ``python -O`` cannot skip a check)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, ok: object, message: str) -> None:
        if not ok:
            raise AssertionError(f"check_family({self.label}): {message}")

    def raises_value_error(self, what: str, call) -> None:
        try:
            call()
        except ValueError:
            return
        except Exception as exc:  # noqa: BLE001 - the wrong type is the finding
            raise AssertionError(
                f"check_family({self.label}): {what} must raise ValueError, "
                f"raised {type(exc).__name__}: {exc}"
            ) from exc
        raise AssertionError(f"check_family({self.label}): {what} must raise ValueError")


def _fast_config(cls: type):
    """The family's ``fast_config()`` (fast but real settings for checks), or None."""
    hook = getattr(cls, "fast_config", None)
    return hook() if callable(hook) else None


def _same(check: _Check, first: HeadOutputs, second: HeadOutputs, what: str) -> None:
    for head, a, b in zip(HeadOutputs._fields, first, second, strict=True):
        check(np.array_equal(np.asarray(a), np.asarray(b)), f"{what}: {head} predictions differ")


def _config_round_trip(check: _Check, config: object) -> None:
    """A config with ``to_dict``/``from_dict`` must survive JSON and compare equal."""
    import json

    to_dict, from_dict = getattr(config, "to_dict", None), getattr(config, "from_dict", None)
    if not (callable(to_dict) and callable(from_dict)):
        return
    data = to_dict()
    try:
        text = json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"check_family({check.label}): config.to_dict() is not JSON ({exc})"
        ) from exc
    check(
        from_dict(json.loads(text)) == config,
        f"{type(config).__name__}.from_dict(to_dict()) != the config (through JSON)",
    )


def check_family(
    cls: type,
    *,
    config: object | None = None,
    name: str | None = None,
    n_rows: int = 1800,
    seed: int = 0,
) -> None:
    """Check that ``cls`` keeps the :class:`ModelFamily` contract the harness, the exporter
    and the CLI rely on; raises ``AssertionError`` naming the rule it breaks.

    Builds its own small synthetic matrix (``arbscore.data_tools.synthetic_matrix``: numpy only,
    about ``n_rows`` rows of 9 holds per opportunity, drawn with ``seed``) and checks:

    - ``cls(config=config)`` (or ``cls()`` without one) only stores hyperparameters: no
      learned ``*_`` attributes before ``fit``; ``predict`` before ``fit`` is a ``ValueError``;
    - ``fit`` returns ``self``; the fitted model is a :class:`ModelFamily` with a non-empty
      ``name`` (equal to ``name`` when given, e.g. its registry name);
    - ``predict`` on later rows gives :class:`HeadOutputs` of three 1-D float arrays of one
      value per row, all finite, ``success`` in [0, 1], ``duration`` > 0 hours; a row's
      prediction does not depend on the other rows of the batch; a matrix with a column too
      few is a ``ValueError``;
    - ``save(dir)`` then ``cls.load(dir)`` gives the same type and identical predictions,
      and (when the model has a ``config``) the same config; a config with
      ``to_dict``/``from_dict`` round-trips through JSON;
    - two fits with the same config and data give identical predictions (fixed seeds);
    - a very small training set (40 opportunities) still fits and predicts finite values.

    ``config`` defaults to the family's ``fast_config()`` classmethod when it has one (fewer
    trees or epochs, so the check takes seconds), else the family's defaults.
    """
    import tempfile
    from pathlib import Path

    from arbscore.data_tools.synthetic_matrix import make_synthetic_matrix

    check = _Check(getattr(cls, "__name__", repr(cls)))
    if n_rows < 90:
        raise ValueError(f"check_family: n_rows must be >= 90 (10 opportunities), got {n_rows}")
    for method in ("fit", "predict", "save", "load"):
        check(callable(getattr(cls, method, None)), f"has no {method}()")
    config = config if config is not None else _fast_config(cls)

    def make():
        return cls() if config is None else cls(config=config)

    n_opportunities = max(10, -(-n_rows // 9))
    X, targets, names = make_synthetic_matrix(n_opportunities, seed=seed, days=30)
    later_ms = int(targets.timestamp_ms.max()) + 86_400_000
    X_new, _, _ = make_synthetic_matrix(
        max(10, n_opportunities // 4), seed=seed + 1, days=5, start_ms=later_ms
    )

    model = make()
    learned = sorted(k for k in vars(model) if k.endswith("_") and not k.startswith("__"))
    check(not learned, f"__init__ set learned state {learned}; it may only store parameters")
    check.raises_value_error("predict() before fit()", lambda: make().predict(X_new))
    check(model.fit(X, targets, list(names)) is model, "fit() must return self")
    check(isinstance(model, ModelFamily), "the fitted model does not follow ModelFamily")
    label = getattr(model, "name", None)
    check(isinstance(label, str) and label.strip(), f"name must be a non-empty str, got {label!r}")
    if name is not None:
        check(label == name, f"name is {label!r}, registered as {name!r}")

    pred = model.predict(X_new)
    check(
        isinstance(pred, HeadOutputs), f"predict() returned {type(pred).__name__}, not HeadOutputs"
    )
    for head, values in zip(HeadOutputs._fields, pred, strict=True):
        values = np.asarray(values)
        check(values.shape == (len(X_new),), f"{head}: shape {values.shape}, want ({len(X_new)},)")
        check(np.issubdtype(values.dtype, np.floating), f"{head}: dtype {values.dtype}, not float")
        check(np.isfinite(values).all(), f"{head}: non-finite predictions")
    success, duration = np.asarray(pred.success), np.asarray(pred.duration)
    check(((success >= 0) & (success <= 1)).all(), "success: probabilities outside [0, 1]")
    check((duration > 0).all(), "duration: predictions must be > 0 hours")
    lo, hi = 3, min(len(X_new), 25)
    part = model.predict(X_new[lo:hi])
    for head, a, b in zip(HeadOutputs._fields, pred, part, strict=True):
        check(
            np.allclose(np.asarray(a)[lo:hi], np.asarray(b), rtol=1e-5, atol=1e-6),
            f"{head}: a row's prediction changes with the other rows of the batch",
        )
    check.raises_value_error(
        "predict() with a column too few", lambda: model.predict(X_new[:, :-1])
    )

    with tempfile.TemporaryDirectory(prefix="check_family_") as tmp:
        model.save(Path(tmp) / "model")
        loaded = cls.load(Path(tmp) / "model")
    check(type(loaded) is type(model), f"load() returned {type(loaded).__name__}")
    _same(check, pred, loaded.predict(X_new), "save() then load()")
    saved_config = getattr(model, "config", None)
    if saved_config is not None:
        check(getattr(loaded, "config", None) == saved_config, "load() lost the config")
        _config_round_trip(check, saved_config)

    _same(check, pred, make().fit(X, targets, list(names)).predict(X_new), "a second fit")

    X_small, t_small, names_small = make_synthetic_matrix(40, seed=seed + 2, days=10)
    small = make().fit(X_small, t_small, list(names_small)).predict(X_new)
    for head, values in zip(HeadOutputs._fields, small, strict=True):
        check(np.isfinite(np.asarray(values)).all(), f"{head}: non-finite after 40 opportunities")
    check((np.asarray(small.duration) > 0).all(), "duration <= 0 after 40 opportunities")
