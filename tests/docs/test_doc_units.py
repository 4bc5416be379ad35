"""The docs' example requests give inputs that agree with each other: ``fund_apr`` is the same
funding edge as ``fund_profit_8h``, per year instead of per 8 h (``opportunities.py``: edge x 8 x
100 and edge x 24 x 365 x 100, so fund_apr = fund_profit_8h x 1095)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: 8 h periods per year
PERIODS_PER_YEAR = 24 * 365 / 8
NUMBER = r"(-?\d+(?:\.\d+)?)"
PAIR = re.compile(
    r"""["']?(?:fundProfit8h|fund_profit_8h)["']?\]?\s*[:=]\s*""" + NUMBER + r""".{0,80}?"""
    r"""["']?(?:fundApr|fund_apr)["']?\]?\s*[:=]\s*""" + NUMBER,
    re.DOTALL,
)


def example_pairs() -> list[tuple[str, float, float]]:
    found = []
    for doc in DOCS:
        for m in PAIR.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, float(m.group(1)), float(m.group(2))))
    return found


def test_the_docs_have_examples_to_check():
    assert any(name == "README.md" for name, _, _ in example_pairs())


@pytest.mark.parametrize(("doc", "per_8h", "per_year"), example_pairs())
def test_fund_apr_is_fund_profit_8h_per_year(doc, per_8h, per_year):
    assert per_year == pytest.approx(per_8h * PERIODS_PER_YEAR, abs=0.01), (
        f"{doc}: fundApr {per_year} but fundProfit8h {per_8h} x 1095 = "
        f"{per_8h * PERIODS_PER_YEAR:.4f}"
    )


def _guide_section() -> str:
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    start = text.index("## Your own training data: the guide's CSV layout")
    return text[start:]


def test_the_guide_csv_layout_is_documented_column_by_column():
    from arbscore.schema import GUIDE_CSV_REQUIRED_COLUMNS

    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", _guide_section(), re.MULTILINE)
    documented = {name: unit for name, unit in rows}
    assert set(GUIDE_CSV_REQUIRED_COLUMNS) <= set(documented)
    assert all(unit.strip() for unit in documented.values())


def test_the_documented_guide_csv_example_trains_as_it_is(tmp_path):
    from arbscore.data_tools.dataset_files import load_training_data

    block = re.search(r"```csv\n(.*?)```", _guide_section(), re.DOTALL).group(1)
    path = tmp_path / "training_data.csv"
    path.write_text(block)
    frame = load_training_data(path)
    assert len(frame) == 2 and sorted(frame["hold_hours"]) == [8.0, 48.0]
    row = frame.iloc[0]
    assert row["fund_apr"] == pytest.approx(row["fund_profit_8h"] * PERIODS_PER_YEAR)
