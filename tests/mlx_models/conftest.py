"""Fixtures of the MLX family tests: one small synthetic data set and one fitted family."""

from __future__ import annotations

import numpy as np
import pytest

from arbscore.data_tools.targets import Targets

from .synthetic import make_dataset, tiny_config


@pytest.fixture(scope="session")
def dataset() -> tuple[np.ndarray, Targets, list[str]]:
    return make_dataset()


@pytest.fixture(scope="session")
def fitted(dataset):  # type: ignore[no-untyped-def]
    from arbscore.mlx_models import MLXFamily

    x, targets, names = dataset
    return MLXFamily(tiny_config()).fit(x, targets, names)
