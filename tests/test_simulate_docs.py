"""docs/capacity.md and docs/decision.md say what `wsrelay simulate` does: every assumption in the
assumptions table, one image per scenario and no other, the pages linked from each other and
from docs/cost.md, every command they show accepted by its tool, and the default scenario's
table the command's own output. When the model changes, rerun the commands the pages show and
update them."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from pathlib import Path

import pytest

from wsrelay.cli.main import main
from wsrelay.tools.simulate import report
from wsrelay.tools.simulate.command import COMMAND
from wsrelay.tools.simulate.parameters import NAMES, SimConfig
from wsrelay.tools.simulate.runs import label_of

DOCS = Path(__file__).resolve().parents[1] / "docs"
CAPACITY = (DOCS / "capacity.md").read_text(encoding="utf-8")
DECISION = (DOCS / "decision.md").read_text(encoding="utf-8")


def test_every_assumption_is_in_the_assumptions_table():
    table = CAPACITY.split("## Assumptions", 1)[1].split("\n## ", 1)[0]
    missing = [f.name for f in dataclasses.fields(SimConfig) if f"`{f.name}`" not in table]
    assert missing == []


def test_one_image_per_scenario_each_shown_and_nothing_else_in_the_folder():
    images = {p.name for p in (DOCS / "img" / "simulate").iterdir()}
    assert images == {f"{name}.png" for name in NAMES}
    shown = set(re.findall(r"\]\(img/simulate/([^)]+)\)", CAPACITY))
    assert shown == images


def test_the_pages_link_each_other_and_cost_links_the_decision():
    assert "](decision.md)" in CAPACITY and "](capacity.md)" in DECISION
    assert "](decision.md)" in (DOCS / "cost.md").read_text(encoding="utf-8")


def commands(text: str, tool: str) -> list[list[str]]:
    """Every `wsrelay TOOL ...` command in a code block or inline code of `text`, as argv."""
    found = []
    for match in re.finditer(rf"wsrelay {tool}( [^`\n|]*)?", text):
        words = shlex.split(match.group(1) or "", comments=True)
        placeholders = {"NAME": "steady", "SCENARIO": "steady"}  # FLAGS: the row's own, checked below
        found.append([placeholders.get(w, w) for w in words if w != "FLAGS"])
    return found


def test_every_simulate_command_the_decision_shows_is_accepted():
    from wsrelay.cli import options
    from wsrelay.cli.command import Parser

    parser = Parser(prog="wsrelay simulate")
    COMMAND.add_arguments(parser)
    flags = [argv for argv in commands(DECISION, "simulate") if argv]
    assert len(flags) >= 2
    for argv in flags:
        if "--scenario" not in argv:
            argv = ["--scenario", "steady", *argv]
        options.build(SimConfig, parser.parse_args(argv))


def test_the_sensitivity_rows_flags_are_flags_of_their_tools():
    from wsrelay.cli.command import Parser
    from wsrelay.tools.cost.command import COMMAND as COST

    simulate, cost = Parser(prog="wsrelay simulate"), Parser(prog="wsrelay cost")
    COMMAND.add_arguments(simulate)
    COST.add_arguments(cost)
    table = DECISION.split("## Which assumption would flip the answer", 1)[1].split("\n## ", 1)[0]
    known = {a for p in (simulate, cost) for action in p._actions for a in action.option_strings}
    used = set(re.findall(r"[ `](--[a-z][a-z0-9-]*)", table))
    assert used and used <= known, used - known


@pytest.mark.slow
def test_the_steady_table_is_what_the_command_gives(tmp_path):
    out = tmp_path / "steady.json"
    assert main(["simulate", "--scenario", "steady", "--seeds", "5", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    section = CAPACITY.split("### steady", 1)[1].split("\n###", 1)[0]
    for s in doc["summary"]:
        relay = label_of(s["relay"], s["publisher_ack"])
        cells = [s["compute"], relay, report.delivered_cell(s), report.versus_cell(s)]
        cells += [report.cell(s, key, digits) for _, key, digits in report.COLUMNS]
        row = "| " + " | ".join(cells) + " |"
        assert row in section, f"docs/capacity.md lacks this row of `--seeds 5`:\n{row}"
