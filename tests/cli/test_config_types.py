"""``--config`` values of the wrong type are exit 2 naming the key before any work (a stopgap
until the configs parse themselves): ``n_estimators = true`` used to train one tree and exit 0,
``= 2.5`` to crash after the data stage, ``days = 1e9`` to try to allocate 2.1 TiB."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from arbscore.cli import app


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("[families.xgboost]\nn_estimators = true\n", "n_estimators = True (expected int)"),
        ("[families.xgboost]\nn_estimators = 2.5\n", "n_estimators = 2.5 (expected int)"),
        ("[synthetic]\ndays = 1e9\n", "days must be at most 3660"),
        ('[synthetic]\ndays = "30"\n', "days = '30' (expected float)"),
    ],
    ids=["bool-for-int", "float-for-int", "days-1e9", "text-for-float"],
)
def test_wrong_config_types_are_exit_2_before_any_work(tmp_path, toml, says):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(toml)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "--out", str(out), "--config", str(cfg)])
    assert res.exit_code == 2, res.output
    assert says in " ".join(res.output.split())
    assert not (out / "training_data.parquet").exists()
