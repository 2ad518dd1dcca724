"""docs/cost.md says what `wsrelay cost` computes: its headline and default table are the
command's own Markdown, and every row of its sensitivity table is the model's answer to that
row's flags. When the model, the prices or measured.json change, rerun the commands the page
shows and update it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from wsrelay.cli.main import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cost.md"


def sensitivity_rows() -> list[list[str]]:
    """The rows of the table under "Which assumption moves it", as cells."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Which assumption moves it", 1)[1].split("\n\n", 2)[2]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "(none)" or cells[0].startswith("`"):
            rows.append(cells)
    return rows


def test_the_page_shows_the_commands_own_headline_and_table(capsys):
    assert main(["cost", "--format", "markdown"]) == 0
    out = capsys.readouterr().out.splitlines()
    text = DOC.read_text(encoding="utf-8")
    table = [line for line in out if line.startswith(("**", "|"))]
    assert len(table) == 7
    for line in table:
        assert line in text, f"docs/cost.md lacks this line of `wsrelay cost --format markdown`:\n{line}"


def test_the_sensitivity_table_has_its_rows():
    rows = sensitivity_rows()
    assert len(rows) >= 10 and rows[0][0] == "(none)"


@pytest.mark.parametrize("cells", sensitivity_rows(), ids=lambda cells: cells[0])
def test_each_sensitivity_row_is_what_the_model_gives(capsys, cells):
    flags = [] if cells[0] == "(none)" else shlex.split(cells[0].strip("`"))
    assert main(["cost", "--json", "-", *flags]) == 0
    s = {x["name"]: x for x in json.loads(capsys.readouterr().out)["scenarios"]}
    shown = [
        f"{s['legacy']['total_usd_month']:.0f}",
        f"{s['lmi-all']['total_usd_month']:.0f}",
        f"{s['lmi-all']['vs_legacy_usd']:+.0f}",
        str(s["lmi-all"]["sizing"]["instances"]),
        f"{s['lmi-sendmessage']['total_usd_month']:.0f}",
        f"{s['ondemand']['total_usd_month']:.0f}",
    ]
    assert cells[2:] == shown, f"rerun: wsrelay cost --json - {cells[0]}"
