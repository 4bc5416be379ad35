"""Run directory -> model bundle: one ONNX graph per winning head (the MLX net as one
multi-output graph), optional Core ML files, and ``manifest.json``.

``export_bundle`` reads the run directory's contract (docs/architecture.md): ``metrics.json``
for the winner of each head and the out-of-sample metrics, ``models/<family>/`` for the fitted
families, ``models/feature_spec.json`` for the feature encoding. ``export_families`` is the
same from objects in memory (tests, notebooks). Every graph is checked against the family's own
``predict`` on probe rows before the manifest is written, so a bundle never ships a graph that
disagrees with the model it came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import onnx

from arbscore.data_tools.costs import FeeSchedule
from arbscore.data_tools.features import FeatureSpec
from arbscore.data_tools.features.inputs import model_inputs
from arbscore.data_tools.two_pass import hold_index
from arbscore.export.manifest import BUNDLE_VERSION, FORMAT, write_manifest
from arbscore.export.parity import check_parity, probe_matrix
from arbscore.export.staging import check_replaceable, is_bundle, staged
from arbscore.export.terms import run_hold_grid, run_terms
from arbscore.progress import Progress
from arbscore.schema import FEES_FILE_NAME, HEADS, HOLD_GRID_HOURS


@dataclass(frozen=True)
class ExportConfig:
    """Options of ``arbscore export``.

    ``families``: force a family per head (``{"profit": "xgboost", ...}``) instead of what
    ``ship`` picks; ``ship``: "recommended" ships the family the backtest recommends for trading
    (its three heads: the strategy that was booked), falling back to the per-head winners when
    the run recommends none; "head_winners" ships each head's winner (a mix no book traded,
    which the manifest's ``strategy`` says); ``coreml``: also write Core ML files;
    ``tolerance``: max |ONNX - native| accepted by the export-time parity check;
    ``overwrite``: an existing bundle at the output may be replaced (never a directory holding
    anything else).
    """

    families: tuple[tuple[str, str], ...] = ()
    ship: str = "recommended"
    coreml: bool = False
    tolerance: float = 1e-4
    probe_rows: int = 256
    overwrite: bool = True

    def __post_init__(self) -> None:
        bad = [h for h, _ in self.families if h not in HEADS]
        if bad:
            raise ValueError(
                f"ExportConfig.families has unknown heads {bad}; expected {list(HEADS)}"
            )
        if self.ship not in ("recommended", "head_winners"):
            raise ValueError(
                f"ExportConfig.ship={self.ship!r}: expected 'recommended' or 'head_winners'"
            )
        if not self.tolerance > 0:
            raise ValueError(f"ExportConfig.tolerance={self.tolerance}: must be > 0")


def _is_gbdt(family: Any) -> bool:
    return hasattr(family, "models_") and hasattr(family, "calibration_")


def _head_graph(family: Any, head: str, n_features: int) -> onnx.ModelProto:
    from arbscore.export.onnx_gbdt import Link, booster_to_onnx

    a, b = family.calibration_
    link = {
        "profit": Link("identity"),
        "success": Link("platt", float(a), float(b)),
        "duration": Link("exp"),
    }[head]
    return booster_to_onnx(family.models_[head], head, n_features, link)


def export_families(
    winners: Mapping[str, tuple[str, Any]],
    spec: FeatureSpec,
    out_dir: Path,
    config: ExportConfig = ExportConfig(),
    *,
    metrics: Mapping[str, Any] | None = None,
    training_data: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    reference: Mapping[str, Any] | None = None,
    fees: Mapping[str, Any] | None = None,
    hold_grid_hours: Sequence[float] = HOLD_GRID_HOURS,
    terms: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a bundle for ``winners`` (head -> (family name, fitted family)); return manifest.

    ``reference``: training histograms for drift detection (``arbscore.export.reference``).
    ``fees``: the fee schedule the labels were simulated with (``FeeSchedule.to_dict()``),
    written as the manifest's ``"fees"`` so the server sizes and exits at the same fees;
    ``None`` writes the default schedule and says so in ``"fees_source"``.
    ``hold_grid_hours``: the holds the labels were simulated at; the manifest carries it and
    the complete input list (``"inputs"``, ``features.inputs.model_inputs``).
    ``terms``: further run terms (entry rule, sizing, book, data window, universe, strategy),
    written as they are under their own keys."""
    grid = sorted({float(h) for h in hold_grid_hours})
    missing = [h for h in HEADS if h not in winners]
    if missing:
        raise ValueError(f"no model for heads {missing}; every bundle serves {list(HEADS)}")
    dest = Path(out_dir)
    check_replaceable(
        dest, is_bundle if config.overwrite else lambda _: False, "--out", "a model bundle"
    )
    with staged(dest, "export") as tmp:  # a bundle appears whole or not at all
        return _write_bundle(
            winners,
            spec,
            tmp,
            config,
            metrics=metrics,
            training_data=training_data,
            progress=progress,
            reference=reference,
            fees=fees,
            grid=grid,
            terms=terms,
        )


def _write_bundle(
    winners: Mapping[str, tuple[str, Any]],
    spec: FeatureSpec,
    out: Path,
    config: ExportConfig,
    *,
    metrics: Mapping[str, Any] | None,
    training_data: Mapping[str, Any] | None,
    progress: Progress | None,
    reference: Mapping[str, Any] | None,
    fees: Mapping[str, Any] | None,
    grid: list[float],
    terms: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The body of :func:`export_families`, writing into the empty directory ``out``."""
    n_features = spec.n_features
    X = probe_matrix(spec, config.probe_rows, hold_grid=grid)
    heads: dict[str, dict[str, Any]] = {}
    parity: dict[str, float] = {}
    by_family: dict[str, list[str]] = {}
    for head in HEADS:
        by_family.setdefault(winners[head][0], []).append(head)
    for name, fam_heads in by_family.items():
        family = winners[fam_heads[0]][1]
        if progress:
            progress(f"exporting {name} ({', '.join(fam_heads)})")
        if _is_gbdt(family):
            for head in fam_heads:
                graph = _head_graph(family, head, n_features)
                parity.update(check_parity(family, graph, [head], X, config.tolerance))
                file = f"{head}.{name}.onnx"
                onnx.save_model(graph, out / file)
                heads[head] = {"family": name, "file": file, "output": head, "kind": "gbdt"}
        elif hasattr(family, "layer_params"):
            from arbscore.export.onnx_mlp import mlp_to_onnx, net_weights

            graph = mlp_to_onnx(net_weights(family), fam_heads)  # the served heads only
            parity.update(check_parity(family, graph, fam_heads, X, config.tolerance))
            file = f"net.{name}.onnx"
            onnx.save_model(graph, out / file)
            for head in fam_heads:
                heads[head] = {"family": name, "file": file, "output": head, "kind": "mlp"}
        else:
            raise ValueError(
                f"family {name!r} exposes neither models_/calibration_ (GBDT) nor "
                "layer_params() (MLP); the exporter cannot read it"
            )
    coreml_files: dict[str, str] = {}
    if config.coreml:
        from arbscore.export.coreml import export_coreml

        coreml_files = export_coreml(winners, spec, out, progress=progress)
    from arbscore.export.onnx_raw import write_raw_input

    if progress:
        progress("raw-input graph (features inside)")
    raw_input = write_raw_input(out, spec, heads, tuple(grid), terms)
    created = datetime.now(timezone.utc)
    families = sorted({winners[h][0] for h in HEADS})
    from arbscore import __version__

    manifest = {
        "format": FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "model_version": f"{'+'.join(families)}_{__version__}_{created:%Y%m%dT%H%M%SZ}",
        "created_at": created.isoformat(timespec="seconds"),
        "arbscore_version": __version__,
        "training_data": dict(training_data or {}),
        "feature_spec": spec.to_dict(),
        "feature_names": list(spec.feature_names),
        "input": {
            "name": "features",
            "dtype": "float32",
            "shape": [None, n_features],
            "hold_column": hold_index(spec.feature_names),
        },
        "heads": heads,
        "raw_input": raw_input,
        "heads_doc": (
            "evaluate duration first; set column hold_column to the predicted hold "
            "(to the hold grid's range, schema.clip_hold_hours) "
            "unless the caller gives one, then profit and success"
        ),
        "coreml": coreml_files,
        "metrics": dict(metrics or {}),
        "export": {**asdict(config), "parity_max_rel_error": parity},
        "fees": dict(fees) if fees is not None else FeeSchedule().to_dict(),
        "fees_source": "training run" if fees is not None else "default schedule",
        "hold_grid_hours": grid,
        "inputs": [i.to_dict() for i in model_inputs(spec, max(grid))],
        **dict(terms or {}),
    }
    if reference:
        manifest["reference"] = dict(reference)  # drift detection (arbscore.ops.drift)
    return write_manifest(out, manifest)


def _winners_from_metrics(metrics: Mapping[str, Any]) -> dict[str, str]:
    winner = metrics.get("winner") or metrics.get("winners") or {}
    out = {}
    for head in HEADS:
        value = winner.get(head)
        if isinstance(value, Mapping):
            value = value.get("family")
        if value:
            out[head] = str(value)
    return out


def _training_range(run_dir: Path, metrics: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("data", "training_data", "data_range"):
        if isinstance(metrics.get(key), Mapping):
            return dict(metrics[key])
    file = run_dir / "training_data.parquet"
    if file.is_file():
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        ts = pq.read_table(file, columns=["timestamp"]).column("timestamp")
        lo, hi = pc.min(ts).as_py(), pc.max(ts).as_py()
        return {
            "start": lo.isoformat() if lo else None,
            "end": hi.isoformat() if hi else None,
            "rows": len(ts),
        }
    return {}


def export_bundle(
    run_dir: Path,
    out_dir: Path,
    config: ExportConfig = ExportConfig(),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Bundle the winners of a run directory (see module docstring); return the manifest."""
    from arbscore.registry import get_family

    run = Path(run_dir)
    models = run / "models"
    if not models.is_dir():
        raise ValueError(f"--from {run}: no models/ directory; run `arbscore train` first")
    spec_file = models / "feature_spec.json"
    if not spec_file.is_file():
        raise ValueError(f"--from {run}: no models/feature_spec.json (the feature encoding)")
    spec = FeatureSpec.load(spec_file)
    metrics: dict[str, Any] = {}
    if (run / "metrics.json").is_file():
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    chosen = _winners_from_metrics(metrics)
    recommended = (metrics.get("recommended_family") or {}).get("family")
    mix = metrics.get("head_winner_mix") or {}
    if config.ship == "recommended" and recommended and (models / recommended).is_dir():
        chosen = {head: str(recommended) for head in HEADS}
    elif config.ship == "recommended" and recommended and recommended == mix.get("name"):
        chosen = {head: str(mix["heads"][head]) for head in HEADS}  # the booked per-head mix
    chosen.update(dict(config.families))
    available = sorted(p.name for p in models.iterdir() if p.is_dir())
    fallback: dict[str, str] = {}
    for head in HEADS:
        if head not in chosen:
            # no winner (no finite metric for this head): reuse another head's winner, else the
            # only family; the manifest's metrics record the fallback
            others = [chosen[h] for h in HEADS if h in chosen and chosen[h] in available]
            if not others and len(available) != 1:
                raise ValueError(
                    f"--from {run}: no winner for head {head!r} in metrics.json and "
                    f"{len(available)} families in models/ {available}; pass one with "
                    "--family HEAD=FAMILY"
                )
            chosen[head] = fallback[head] = others[0] if others else available[0]
        if chosen[head] not in available:
            raise ValueError(
                f"--from {run}: winner {chosen[head]!r} for {head!r} has no "
                f"models/{chosen[head]}/ (have {available})"
            )
    loaded = {name: get_family(name).load(models / name) for name in sorted(set(chosen.values()))}
    winners = {head: (name, loaded[name]) for head, name in chosen.items()}
    head_metrics = {head: _head_metrics(metrics, head, name) for head, name in chosen.items()}
    if fallback:
        head_metrics["winner_fallback"] = fallback
    reference = None
    if (run / "training_data.parquet").is_file():  # drift reference (arbscore.export.reference)
        from arbscore.export.reference import bundle_reference

        if progress:
            progress("drift reference")
        reference = bundle_reference(run / "training_data.parquet", spec, winners)
    return export_families(
        winners,
        spec,
        out_dir,
        config,
        metrics=head_metrics,
        training_data=_training_range(run, metrics),
        progress=progress,
        reference=reference,
        fees=_run_fees(run),
        hold_grid_hours=run_hold_grid(run),
        terms=run_terms(run, metrics, chosen),
    )


def _run_fees(run: Path) -> dict[str, Any] | None:
    """The fee schedule the run's data stage simulated with (``fees.json``), if recorded."""
    file = run / FEES_FILE_NAME
    if not file.is_file():
        return None
    return FeeSchedule.from_dict(json.loads(file.read_text(encoding="utf-8"))).to_dict()


def _head_metrics(metrics: Mapping[str, Any], head: str, family: str) -> dict[str, Any]:
    """The out-of-sample metrics of ``family`` for ``head`` (whatever shape the harness used)."""
    winner = (metrics.get("winner") or {}).get(head)
    if isinstance(winner, Mapping):
        return {k: v for k, v in winner.items() if k != "family"}
    fams = metrics.get("families") or {}
    entry = fams.get(family, {}) if isinstance(fams, Mapping) else {}
    if isinstance(entry, Mapping):
        for key in (head, "mean", "summary"):
            if isinstance(entry.get(key), Mapping):
                return dict(entry[key])
    return {}


__all__ = [
    "ExportConfig",
    "check_parity",
    "export_bundle",
    "export_families",
    "probe_matrix",
]
