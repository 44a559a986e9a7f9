"""make report-preview: the sample report renders to files, and Chromium screenshots it."""

from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from tools.preview_report import CHROMIUM, main, sample_report

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent"),
]


@pytest.mark.parametrize("empty", [False, True], ids=["sample", "no-responses"])
def test_the_preview_writes_the_report_and_its_screenshots(tmp_path: Path, empty: bool) -> None:
    args = ["--out", str(tmp_path), "--language", "en"] + (["--empty"] if empty else [])
    assert main(args) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"report.html", "report.txt", "report.xlsx", "report.png", "report-narrow.png"} <= names
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    with Image.open(tmp_path / "report-narrow.png") as shot:
        assert shot.width == 390 and shot.height > 400  # the whole email, phone width
    book = load_workbook(tmp_path / "report.xlsx")
    if empty:
        assert "No responses this period." in html
        assert "trend.png" not in names
        return
    data = sample_report("en")
    [nps] = [b for b in data.blocks if b.metric == "nps"]
    # the same NPS, rounded as shown, in the email and in the workbook
    assert f"{nps.headline.value:.1f}" in html
    values = [c for row in book["Summary"].iter_rows(values_only=True) for c in row]
    assert any(isinstance(v, float) and abs(v - nps.headline.value) < 1e-9 for v in values)
    assert 'src="trend.png"' in html and "&lt;script&gt;" in html
