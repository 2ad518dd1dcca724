"""`wsrelay cost` at Compiler Explorer's scale (issue 19): the WebSocket API's charges, egress
through NAT gateways or public IPv4 addresses, LMI's minimum environments per function and their
placement, the headline and the difference from legacy, the flat JSON inputs, every new flag as
a TOML key, and the defaults the Terraform module shares. Each charge is checked against a hand
computation from the prices on file (us-east-1, a month of 730 hours)."""

from __future__ import annotations

import argparse
import json

import pytest

from wsrelay.cli import options
from wsrelay.cli.command import Parser
from wsrelay.cli.main import main
from wsrelay.tools import prices
from wsrelay.tools.cost import defaults, sizing, usage
from wsrelay.tools.cost.command import COMMAND
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.measured import load_measured

MONTH_S = 730 * 3600
SCENARIOS = ("legacy", "lmi-all", "lmi-sendmessage", "ondemand")


def run_json(capsys, *flags: str) -> dict:
    assert main(["cost", "--json", "-", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def by_name(doc: dict) -> dict[str, dict]:
    return {s["name"]: s for s in doc["scenarios"]}


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="wsrelay cost")
    COMMAND.add_arguments(p)
    return p


# -- the WebSocket API ---------------------------------------------------------------------------


def test_websocket_messages_are_billed_in_32_kb_units_against_a_hand_computation(capsys):
    # One job a second of 40,000-byte results, no resends: received subscribe, ack, unsubscribe
    # (1 unit each) and the publish (40,000 B: 2 units); sent the result (2 units) and the ack
    # to the publisher (1): 8 units a job, 2,628,000 jobs a month, $1.00 a million.
    s = by_name(
        run_json(capsys, "--mean-jobs-per-s", "1", "--result-sizes", "40000:1", "--resend-fraction", "0")
    )
    for name in SCENARIOS:
        assert s[name]["items"]["websocket_messages"] == pytest.approx(8 * 2_628_000 / 1e6, abs=0.01)


def test_websocket_messages_at_the_defaults(capsys):
    # Every default result fits one 32 KB unit: 3 control frames + 1.01 x (publish, post, ack).
    assert usage.websocket_units_per_job(Inputs()) == pytest.approx(3 + 1.01 * 3)
    s = by_name(run_json(capsys))
    expected = 2.9 * MONTH_S * 6.03 / 1e6
    assert s["legacy"]["items"]["websocket_messages"] == pytest.approx(expected, abs=0.01)


def test_websocket_connection_minutes_against_a_hand_computation(capsys):
    s = by_name(run_json(capsys, "--connections", "100"))
    # 100 connections x 730 h x 60 min at $0.25 a million connection-minutes
    for name in SCENARIOS:
        assert s[name]["items"]["websocket_connection_minutes"] == pytest.approx(1.095, abs=0.005)


# -- egress --------------------------------------------------------------------------------------


def test_public_egress_bills_one_ipv4_address_per_instance(capsys):
    s = by_name(run_json(capsys, "--egress", "public"))
    for name in ("lmi-all", "lmi-sendmessage"):
        count = s[name]["sizing"]["instances"]
        assert s[name]["sizing"]["public_ipv4_addresses"] == count
        assert s[name]["items"]["egress"] == pytest.approx(count * 0.005 * 730, abs=0.01)
    assert s["lmi-all"]["items"]["egress"] == pytest.approx(6 * 3.65, abs=0.01)
    assert s["legacy"]["items"]["egress"] == s["ondemand"]["items"]["egress"] == 0


def test_nat_egress_bills_gateway_hours_and_gb(capsys):
    s = by_name(run_json(capsys, "--egress", "nat", "--nat-gateways", "2", "--egress-gb-month", "100"))
    # 2 x $0.045 x 730 h + 100 GB x $0.045
    assert s["lmi-all"]["items"]["egress"] == pytest.approx(65.7 + 4.5, abs=0.01)


def test_egress_data_given_with_public_egress_is_a_warning(capsys):
    doc = run_json(capsys, "--egress", "public", "--egress-gb-month", "50")
    assert any("--egress public does not bill it" in w for w in doc["warnings"])
    assert by_name(doc)["lmi-all"]["items"]["egress"] == pytest.approx(6 * 3.65, abs=0.01)


def test_no_nat_gateway_bills_no_nat_at_all(capsys):
    for extra in ([], ["--egress-gb-month", "500"]):
        s = by_name(run_json(capsys, "--egress", "nat", "--nat-gateways", "0", *extra))
        for name in SCENARIOS:
            assert s[name]["items"]["egress"] == 0
        assert s["lmi-all"]["sizing"]["nat_gb_month"] == 0


def test_public_is_cheaper_than_three_nat_gateways_at_the_defaults(capsys):
    public = by_name(run_json(capsys, "--egress", "public"))
    nat = by_name(run_json(capsys, "--egress", "nat", "--nat-gateways", "3"))
    for name in ("lmi-all", "lmi-sendmessage"):
        assert public[name]["total_usd_month"] < nat[name]["total_usd_month"]
        assert public[name]["items"]["egress"] < nat[name]["items"]["egress"]
    assert public["legacy"] == nat["legacy"]


# -- LMI's minimum environments and their placement ------------------------------------------


def test_min_environments_is_per_function_and_accepts_zero(capsys):
    s = by_name(run_json(capsys, "--min-environments", "sendmessage=2,onconnect=0,ondisconnect=0"))
    # any traffic keeps one environment; onconnect and ondisconnect run about once a minute
    assert s["lmi-all"]["sizing"]["environments"] == {"onconnect": 1, "ondisconnect": 1, "sendmessage": 2}
    # four 1-vCPU environments spread over three AZs fit the baseline of 3 instances
    assert s["lmi-all"]["sizing"]["instances"] == 3
    assert s["lmi-sendmessage"]["sizing"]["environments"] == {"sendmessage": 2}


def test_environments_are_spread_across_the_azs_in_turn():
    assert sizing.spread([3, 3, 3], 3) == [[1, 1, 1]] * 3
    assert sizing.spread([1, 1, 1], 3) == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    # the second function carries on where the first stopped: in the second AZ
    assert sizing.spread([4, 1], 3) == [[2, 0], [1, 1], [1, 0]]


def test_larger_environments_need_more_instances(capsys):
    # 4096 MB at 4 GiB per vCPU: one environment fills a c8g.large's 4 GiB; nine of them spread
    # three to an AZ need nine instances, against six for 2048 MB at 2 GiB per vCPU
    s = by_name(run_json(capsys, "--managed-memory-mb", "4096", "--memory-gib-per-vcpu", "4"))
    assert s["lmi-all"]["sizing"]["instances"] == 9
    price = prices.load("us-east-1").instance("c8g.large").usd_hour
    assert s["lmi-all"]["items"]["instances"] == pytest.approx(9 * price * 730, abs=0.01)


def test_the_peak_factor_does_not_move_the_answer_at_compiler_explorers_traffic(capsys):
    totals = {
        factor: by_name(run_json(capsys, "--peak-factor", factor))["lmi-all"]["total_usd_month"]
        for factor in ("1", "3", "30")
    }
    assert len(set(totals.values())) == 1


# -- the headline and the difference from legacy ----------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--mean-jobs-per-s", "500"],  # LMI's instances beat per-invocation duration here
        ["--legacy-sendmessage-provisioned", "0", "--legacy-other-provisioned", "0"],  # legacy = on demand
    ],
)
def test_the_headline_names_the_cheapest_deployment(capsys, flags):
    doc = run_json(capsys, *flags)
    totals = {s["name"]: s["total_usd_month"] for s in doc["scenarios"]}
    cheapest = min(totals, key=lambda name: totals[name])
    assert doc["cheapest"] == cheapest
    assert f"the cheapest deployment is {cheapest} (${totals[cheapest]:,.0f} a month)" in doc["headline"]
    assert assert_line_first(capsys, flags) == doc["headline"]


def assert_line_first(capsys, flags: list[str]) -> str:
    """The headline is the first line of the table and of the Markdown."""
    assert main(["cost", *flags]) == 0
    table_first = capsys.readouterr().out.splitlines()[0]
    assert main(["cost", "--format", "markdown", *flags]) == 0
    markdown_first = capsys.readouterr().out.splitlines()[0]
    assert markdown_first == f"**{table_first}**"
    return table_first


def test_every_scenario_has_its_difference_from_legacy(capsys):
    doc = run_json(capsys)
    legacy = by_name(doc)["legacy"]["total_usd_month"]
    for s in doc["scenarios"]:
        assert s["vs_legacy_usd"] == pytest.approx(s["total_usd_month"] - legacy, abs=0.02)
        assert s["vs_legacy_ratio"] == pytest.approx(s["total_usd_month"] / legacy, rel=1e-3)
    assert by_name(doc)["legacy"]["vs_legacy_usd"] == 0 and by_name(doc)["legacy"]["vs_legacy_ratio"] == 1
    lmi = by_name(doc)["lmi-all"]
    assert f"+${lmi['vs_legacy_usd']:,.0f} a month" in doc["headline"]


def test_the_shared_items_are_the_same_in_every_scenario(capsys):
    doc = run_json(capsys)
    shared = ("requests", "dynamodb", "websocket_messages", "websocket_connection_minutes", "logs", "metrics")
    first = doc["scenarios"][0]["items"]
    for s in doc["scenarios"]:
        assert {k: s["items"][k] for k in shared} == {k: first[k] for k in shared}
    assert doc["shared_usd_month"] == pytest.approx(sum(first[k] for k in shared), abs=0.02)


# -- inputs: the JSON, the notes, the flags and TOML keys --------------------------------------


def test_json_inputs_are_a_flat_object_of_toml_keys(capsys):
    doc = run_json(capsys)
    keys = {f.name for f, _spec in options.declared(Inputs)}
    assert set(doc["inputs"]) == keys
    assert doc["inputs"]["mean_jobs_per_s"] == 2.9 and doc["inputs"]["egress"] == "public"
    assert doc["inputs"]["min_environments"] == {"onconnect": 3, "ondisconnect": 3, "sendmessage": 3}


def test_the_notes_give_the_traffic_source_and_what_to_check_on_the_first_deploy(capsys):
    notes = run_json(capsys)["notes"]
    assert any("92 million compilations a year (Compiler Explorer, 2025)" in n for n in notes)
    assert any(
        "does not say whether LMI instances get a public IP" in n and "First deploy" in n for n in notes
    )
    nat = run_json(capsys, "--egress", "nat")["notes"]
    assert any("First deploy" in n and "BytesOutToDestination" in n for n in nat)
    given = run_json(capsys, "--mean-jobs-per-s", "1")["notes"]
    assert any(n.startswith("traffic: 1 jobs/s mean (as given)") for n in given)


NEW_SETTINGS = {
    # field: (flag values, TOML text)
    "mean_jobs_per_s": (["--mean-jobs-per-s", "1.5"], "mean_jobs_per_s = 1.5"),
    "peak_factor": (["--peak-factor", "2"], "peak_factor = 2"),
    "egress": (["--egress", "nat"], 'egress = "nat"'),
    "nat_gateways": (["--nat-gateways", "0"], "nat_gateways = 0"),
    "min_environments": (["--min-environments", "1"], "min_environments = 1"),
    "invocations_per_job": (["--invocations-per-job", "5"], "invocations_per_job = 5"),
}


@pytest.mark.parametrize("name", sorted(NEW_SETTINGS))
def test_every_new_flag_is_also_a_toml_key(tmp_path, name):
    flags, text = NEW_SETTINGS[name]
    config = tmp_path / "inputs.toml"
    config.write_text(text + "\n")
    from_flags = options.build(Inputs, parser().parse_args(flags))
    from_toml = options.build(Inputs, parser().parse_args(["--config", str(config)]), config)
    assert from_flags == from_toml != Inputs()
    assert getattr(from_flags, name) != getattr(Inputs(), name)


def test_every_input_is_a_flag_and_a_toml_key():
    p = parser()
    flags = {s for action in p._actions for s in action.option_strings}
    for f, spec in options.declared(Inputs):
        assert spec.toml and options.flag_of(f.name) in flags, f.name


# -- the defaults the Terraform module shares ----------------------------------------------------


def test_the_shared_defaults_are_inputs_defaults():
    inputs = Inputs()
    assert set(defaults.TERRAFORM_SHARED) == {
        "LMI_MEMORY_MB",
        "LMI_MEMORY_GIB_PER_VCPU",
        "LMI_PER_ENVIRONMENT_CONCURRENCY",
        "LMI_MIN_ENVIRONMENTS",
        "LMI_INSTANCE_TYPE",
        "LEGACY_SENDMESSAGE_PROVISIONED",
        "LEGACY_OTHER_PROVISIONED",
        "MEAN_JOBS_PER_S",
        "PEAK_FACTOR",
    }
    assert all(getattr(defaults, name) == value for name, value in defaults.TERRAFORM_SHARED.items())
    assert (inputs.managed_memory_mb, inputs.memory_gib_per_vcpu) == (2048, 2)
    assert inputs.per_environment_concurrency == defaults.LMI_PER_ENVIRONMENT_CONCURRENCY
    assert set(dict(inputs.min_environments).values()) == {defaults.LMI_MIN_ENVIRONMENTS}
    assert inputs.instance_type == defaults.LMI_INSTANCE_TYPE
    assert (inputs.mean_jobs_per_s, inputs.peak_factor) == (defaults.MEAN_JOBS_PER_S, defaults.PEAK_FACTOR)
    assert inputs.legacy_sendmessage_provisioned == defaults.LEGACY_SENDMESSAGE_PROVISIONED
    assert inputs.legacy_other_provisioned == defaults.LEGACY_OTHER_PROVISIONED


def test_the_lmi_memory_default_holds_its_processes_as_measured():
    # The reason 2048 MB at 2 GiB per vCPU wins: 16 processes of the measured size leave a
    # quarter of the environment free. If the handlers grow, this fails before the cost is wrong.
    rss = load_measured()["per_job_mean"]["rss_mib"]
    assert defaults.LMI_PER_ENVIRONMENT_CONCURRENCY * rss * 1.25 <= defaults.LMI_MEMORY_MB
    assert defaults.LMI_MEMORY_MB / 1024 / defaults.LMI_MEMORY_GIB_PER_VCPU == 1  # one vCPU
