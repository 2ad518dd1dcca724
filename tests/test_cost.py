"""`wsrelay cost`: scenarios and their items, DynamoDB billed by result size, LMI sizing from the
measured figures, instance eligibility, every bad input refused with one line and exit 2, the
terminal renderings, the JSON and the plot (the command-line convention: tests/test_cost_cli.py)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tomllib

import pytest

from wsrelay.cli.main import main
from wsrelay.tools import prices
from wsrelay.tools.cost import inputs as cost_inputs
from wsrelay.tools.cost import model, plot, sizing, usage
from wsrelay.tools.measured import load_measured

FIGURES = sizing.Measured(cpu_ms=1.5, rss_mib=50.0, log_bytes=350.0, source="test")


def run_json(capsys, *flags: str) -> dict:
    assert main(["cost", "--json", "-", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def by_name(doc: dict) -> dict[str, dict]:
    return {s["name"]: s for s in doc["scenarios"]}


def error_line(capsys, *flags: str) -> str:
    try:
        code = main(["cost", *flags])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsrelay cost: error: "), err
    return lines[0]


def test_json_has_every_scenario_with_every_item_summing_to_the_total(capsys):
    doc = run_json(capsys)
    assert [s["name"] for s in doc["scenarios"]] == ["legacy", "lmi-all", "lmi-sendmessage", "ondemand"]
    for scenario in doc["scenarios"]:
        assert set(scenario) >= {"name", "total_usd_month", "items"}
        assert set(scenario["items"]) == set(model.ITEMS)
        assert scenario["total_usd_month"] == pytest.approx(sum(scenario["items"].values()), abs=0.05)


def test_lmi_bills_instances_fee_and_egress_but_no_duration(capsys):
    s = by_name(run_json(capsys))
    lmi, legacy, ondemand = s["lmi-all"], s["legacy"], s["ondemand"]
    assert lmi["items"]["duration"] == 0 and lmi["items"]["provisioned_concurrency"] == 0
    assert lmi["items"]["instances"] > 0 and lmi["items"]["egress"] > 0
    # the fee is 15% of the on-demand instance price
    assert lmi["items"]["management_fee"] == pytest.approx(0.15 * lmi["items"]["instances"], rel=1e-3)
    assert legacy["items"]["provisioned_concurrency"] > 0 and legacy["items"]["egress"] == 0
    assert ondemand["items"]["provisioned_concurrency"] == 0 and ondemand["items"]["duration"] > 0
    # only sendmessage on LMI keeps the other two functions' provisioned concurrency
    kept = s["lmi-sendmessage"]["items"]["provisioned_concurrency"]
    assert 0 < kept < legacy["items"]["provisioned_concurrency"]


def test_lmi_default_minimum_places_three_environments_per_function_across_three_azs(capsys):
    s = by_name(run_json(capsys, "--instance-type", "c8g.large"))
    sizing_all = s["lmi-all"]["sizing"]
    assert sizing_all["environments"] == {"onconnect": 3, "ondisconnect": 3, "sendmessage": 3}
    # each AZ holds one 1-vCPU, 2 GiB environment of each function: 3 vCPU on 2-vCPU instances,
    # 2 instances an AZ, 6 in all (packed freely, nine environments would fit on 5)
    assert sizing_all["instances"] == 6
    assert s["lmi-sendmessage"]["sizing"]["instances"] == 3
    price = prices.load("us-east-1").instance("c8g.large").usd_hour
    assert s["lmi-sendmessage"]["items"]["instances"] == pytest.approx(3 * price * 730, abs=0.01)


def test_instance_count_and_egress_can_be_given(capsys):
    s = by_name(run_json(capsys, "--instances", "7", "--egress", "nat", "--egress-gb-month", "1000"))
    assert s["lmi-all"]["sizing"]["instances"] == 7 and s["lmi-sendmessage"]["sizing"]["instances"] == 7
    # 3 NAT gateways for 730 h plus 1000 GB processed
    assert s["lmi-all"]["items"]["egress"] == pytest.approx(3 * 0.045 * 730 + 1000 * 0.045, abs=0.01)
    assert s["legacy"]["items"]["egress"] == 0


def test_savings_plan_discounts_instances_not_the_management_fee(capsys):
    base = by_name(run_json(capsys))["lmi-all"]["items"]
    saved = by_name(run_json(capsys, "--savings-plan", "0.4"))["lmi-all"]["items"]
    assert saved["instances"] == pytest.approx(base["instances"] * 0.6, abs=0.02)
    assert saved["management_fee"] == base["management_fee"]


def test_dynamodb_is_billed_by_the_result_size_on_publish_and_ack():
    small = cost_inputs.Inputs(result_sizes=((200, 1.0),), resend_fraction=0.0)
    big = dataclasses.replace(small, result_sizes=((4096, 1.0),))
    # subscribe 1 + publish 1 + ack 1 + unsubscribe 1
    assert usage.write_units_per_job(small) == 4
    # 4096 + 200 bytes of item: 5 units for the publish and again for the ack (the item before it)
    assert usage.write_units_per_job(big) == 2 + 2 * 5


def test_dynamodb_item_grows_with_the_results(capsys):
    small = by_name(run_json(capsys, "--result-sizes", "100:1"))["legacy"]["items"]["dynamodb"]
    large = by_name(run_json(capsys, "--result-sizes", "30000:1"))["legacy"]["items"]["dynamodb"]
    assert large > 7 * small


def test_sizing_grows_past_the_minimum_at_high_traffic():
    inputs = cost_inputs.Inputs()
    low = model.size_managed(inputs, FIGURES, 2048, 10.0, 3)
    assert (low.environments, low.limit) == (3, "minimum")
    # a minimum of 0 still keeps the one environment any traffic needs
    assert model.size_managed(inputs, FIGURES, 2048, 10.0, 0).environments == 1
    high = model.size_managed(inputs, FIGURES, 2048, 20000.0, 3)
    assert high.environments > 3 and high.limit in ("cpu", "concurrency")
    # processes per environment: the concurrency setting, unless memory holds fewer
    assert high.processes_per_environment == 16
    fat = dataclasses.replace(FIGURES, rss_mib=500.0)
    assert model.size_managed(inputs, fat, 2048, 1.0, 3).processes_per_environment == 4
    # a slower target architecture needs more environments for the same rate
    slower = dataclasses.replace(inputs, cpu_factor=2.0, io_wait_ms=0.001)
    assert (
        model.size_managed(slower, FIGURES, 2048, 20000.0, 3).environments
        > model.size_managed(
            dataclasses.replace(inputs, io_wait_ms=0.001), FIGURES, 2048, 20000.0, 3
        ).environments
    )


def test_lambda_duration_slows_below_one_vcpu_of_memory():
    inputs = cost_inputs.Inputs(io_wait_ms=10.0)
    assert sizing.lambda_duration_s(inputs, FIGURES, 1769) == pytest.approx(0.0115)
    assert sizing.lambda_duration_s(inputs, FIGURES, 128) > 0.03


@pytest.mark.parametrize(
    ("instance_type", "reason"),
    [
        ("c8g.medium", "needs size .large or bigger"),
        ("m8g.small", "needs size .large or bigger"),
        ("t4g.large", "only C, M and R families"),
        ("x2gd.large", "only C, M and R families"),
    ],
)
def test_ineligible_instance_type_is_refused_with_the_cheapest_eligible(capsys, instance_type, reason):
    line = error_line(capsys, "--instance-type", instance_type)
    assert reason in line and instance_type in line
    assert "cheapest eligible: c7g.large" in line


def test_instance_that_cannot_hold_an_environment_suggests_one_that_can(capsys):
    line = error_line(
        capsys, "--managed-memory-mb", "4096", "--memory-gib-per-vcpu", "2", "--reserved-memory-mib", "512"
    )
    assert "cannot hold a 4096 MB environment" in line and "cheapest eligible: m7g.large" in line


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--mean-jobs-per-s", "-1"], "--mean-jobs-per-s must be a positive"),
        (["--mean-jobs-per-s", "abc"], "--mean-jobs-per-s"),
        (
            ["--peak-factor", "0.5"],
            "--peak-factor must be at least 1 (the peak is the mean times this), got 0.5",
        ),
        (["--min-environments", "-1"], "--min-environments must be 0..15000 for each function"),
        (["--min-environments", "lambda=1"], "unknown function 'lambda'"),
        (["--min-environments", "many"], "argument --min-environments: expected N or NAME=N"),
        (["--egress", "vpn"], "argument --egress: invalid choice: 'vpn'"),
        (["--managed-memory-mb", "1024"], "--managed-memory-mb must be at least 2048"),
        (["--managed-memory-mb", "3072"], "a multiple of 2048"),
        (["--memory-gib-per-vcpu", "3"], "--memory-gib-per-vcpu must be 2, 4 or 8"),
        (["--savings-plan", "0.9"], "--savings-plan must be 0..0.72"),
        (["--lambda-savings-plan", "0.3"], "--lambda-savings-plan must be 0..0.17"),
        (["--per-environment-concurrency", "0"], "--per-environment-concurrency must be 1..1600"),
        (["--legacy-other-provisioned", "-1"], "--legacy-other-provisioned must be at least 0"),
        (["--result-sizes", "big"], "argument --result-sizes: expected X:Y"),
        (["--result-sizes", "1.5:1"], "sizes must be whole bytes"),
        (["--result-sizes", "200000:1"], "--result-sizes has 200000 bytes, outside 1..131072"),
        (["--profile", "10:5,2:6"], "--profile must have increasing minutes, got 10:5,2:6"),
        (["--functions", "sendmessage=managed"], "argument --functions: expected NAME=COMPUTE"),
        (["--functions", "sendmessage=managed:1024"], "--functions sendmessage=managed:1024: an LMI"),
        (["--functions", "sendmessage=warm:512"], "compute 'warm', not one of"),
        (["--functions", "onconnect=ondemand:64"], "--functions needs memory 128..10240 MB"),
        (["--functions", "onconnect=ondemand:128", "--functions", "onconnect=ondemand:256"], "given twice"),
        (["--dynamodb-gateway-endpoint", "maybe"], "unrecognized arguments: maybe"),
        (["--region", "eu-west-1"], "--region eu-west-1: no prices for region"),
        (["--region", "moon"], "--region must be an AWS region name"),
        (["--format", "json"], "--format"),
        (["--instance-type", "r7g.large"], "--instance-type r7g.large: no price for r7g.large"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(capsys, flags, names):
    assert names in error_line(capsys, *flags)


def test_bad_config_files(capsys, tmp_path):
    assert "no such file" in error_line(capsys, "--config", str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("mean_jobs_per_s = [")
    assert "not valid TOML" in error_line(capsys, "--config", str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("mean_jobs = 3\n")
    assert "unknown key 'mean_jobs'" in error_line(capsys, "--config", str(unknown))
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('mean_jobs_per_s = "many"\n')
    assert "mean_jobs_per_s: expected a number" in error_line(capsys, "--config", str(wrong))
    assert "--measured" in (line := error_line(capsys, "--measured", str(tmp_path / "none.json")))
    assert "no such file" in line
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{")
    assert "not JSON" in error_line(capsys, "--measured", str(garbage))
    other = tmp_path / "other.json"
    other.write_text('{"rate": 3}')
    assert "not a measured-figures file" in error_line(capsys, "--measured", str(other))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('result_sizes = [[1000, "a"]]\n', "result_sizes: expected a list of [x, y] pairs of numbers"),
        ("profile = [[0, 1, 2]]\n", "profile: expected a list of [x, y] pairs"),
        ('[functions.sendmessage]\ncompute = "managed"\nmemory_mb = "big"\n', "memory_mb and provisioned"),
        ('[functions.sendmessage]\ncompute = "managed"\nmemory_mb = 2048\nsize = 1\n', "expected keys"),
        ('[functions.sendmessage]\ncompute = "managed"\nmemory_mb = 3072\n', "a multiple of 2048"),
        ("functions = 3\n", "functions: expected a table"),
        ("min_environments = [3]\n", "min_environments: expected a number, or a table"),
        ("min_environments = {sendmessage = 1.5}\n", "min_environments: expected whole numbers"),
        ('egress = "vpn"\n', "egress must be one of nat, public"),
    ],
)
def test_badly_typed_config_values_are_one_line(capsys, tmp_path, text, says):
    config = tmp_path / "inputs.toml"
    config.write_text(text)
    assert says in error_line(capsys, "--config", str(config))


def test_bad_prices_file(capsys, tmp_path):
    prices_file = tmp_path / "prices.toml"
    prices_file.write_text('[[price]]\nregion = "us-east-1"\nkey = "nat.hour"\nusd = "cheap"\n')
    assert "usd is missing or not a number" in error_line(capsys, "--prices", str(prices_file))
    prices_file.write_text("month_hours = 730\n")
    assert "no prices for region 'us-east-1'" in error_line(capsys, "--prices", str(prices_file))
    assert "--prices" in (line := error_line(capsys, "--prices", str(tmp_path / "none.toml")))
    assert "no such file" in line


def test_toml_config_applies_and_flags_win(capsys, tmp_path):
    config = tmp_path / "inputs.toml"
    config.write_text(
        'instance_type = "m7g.large"\nmean_jobs_per_s = 5\npeak_factor = 2\n'
        "result_sizes = [[1000, 1]]\n"
        '[functions.sendmessage]\ncompute = "managed"\nmemory_mb = 2048\n'
    )
    doc = run_json(capsys, "--config", str(config), "--mean-jobs-per-s", "2")
    assert doc["inputs"]["mean_jobs_per_s"] == 2 and doc["inputs"]["instance_type"] == "m7g.large"
    assert doc["inputs"]["peak_factor"] == 2
    s = by_name(doc)
    assert s["lmi-all"]["sizing"]["instance_type"] == "m7g.large"
    assert s["custom"]["sizing"]["environments"] == {"sendmessage": 3}


def test_a_fast_ramp_warns_about_lmi_scaling(capsys):
    assert main(["cost", "--json", "-", "--profile", "0:20,3:60"]) == 0
    captured = capsys.readouterr()
    assert "more than doubles within 5 minutes" in captured.err
    assert json.loads(captured.out)["warnings"]
    assert run_json(capsys)["warnings"] == []  # mean to peak over an hour: no warning
    assert sizing.doubling_warnings(((0, 10), (60, 100))) == []
    assert sizing.doubling_warnings(((0, 10), (20, 100)))  # a steep linear ramp


def test_markdown_and_table_formats(capsys):
    assert main(["cost", "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # the headline, a blank line, then the table: head, rule and one row per scenario
    assert lines[0].startswith("**At 2.9 jobs/s the cheapest deployment is") and lines[1] == ""
    assert lines[2].startswith("| scenario |") and "| vs legacy |" in lines[2]
    assert [line.split(" | ")[0] for line in lines[4:8]] == [
        "| legacy",
        "| lmi-all",
        "| lmi-sendmessage",
        "| ondemand",
    ]
    assert any(line.startswith("- traffic: 2.9 jobs/s mean (92 million compilations") for line in lines)
    assert main(["cost"]) == 0
    out = capsys.readouterr().out
    assert "Monthly cost (USD)" in out and "lmi-all" in out and "c8g.large" in out
    assert out.startswith("At 2.9 jobs/s the cheapest deployment is")


def test_plot_is_written_with_break_even_points(tmp_path, capsys):
    path = tmp_path / "cost.png"
    assert main(["cost", "--plot", str(path)]) == 0
    assert f"wsrelay cost: wrote {path}" in capsys.readouterr().err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [path]
    grid = [1.0, 10.0, 100.0]
    crossings = plot.break_evens(grid, {"flat": [50.0, 50.0, 50.0], "rising": [10.0, 40.0, 90.0]})
    ((a, b, x, y),) = crossings
    assert (a, b) == ("flat", "rising") and 10 < x < 100 and y == pytest.approx(50.0)


def test_a_plot_path_that_cannot_be_a_png_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "does not exist" in error_line(capsys, "--plot", str(blocker / "x.png"))
    assert "expected a FILE.png" in error_line(capsys, "--plot", str(tmp_path))  # a folder
    assert "expected a FILE.png" in error_line(capsys, "--plot", str(tmp_path / "cost"))  # no .png
    assert list(tmp_path.iterdir()) == [blocker]  # nothing written


def test_every_price_row_has_a_source_and_a_check_date():
    data = tomllib.loads(prices.default_path().read_text())
    for row in [*data["price"], *data["instance"]]:
        assert row["source"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["checked"]), row
    assert all(prices.ineligibility(row["type"]) is None for row in data["instance"])


def test_measured_figures_are_shipped_and_read():
    data = load_measured()
    assert set(data["per_job_mean"]) == {"cpu_ms", "rss_mib", "log_bytes"}
    figures = sizing.measured(cost_inputs.Inputs())
    assert figures.cpu_ms > 0 and figures.rss_mib > 0
    given = sizing.measured(
        cost_inputs.Inputs(cpu_ms_per_invocation=9, rss_mib_per_process=99, log_bytes_per_invocation=1), {}
    )
    assert (given.cpu_ms, given.source) == (9, "flags")
    with pytest.raises(cost_inputs.UsageError, match="no measured figure"):
        sizing.measured(cost_inputs.Inputs(), {})


@pytest.mark.processes
def test_command_line_exit_status_and_single_line():
    proc = subprocess.run(
        [sys.executable, "-m", "wsrelay.cli", "cost", "--instance-type", "c8g.medium"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "cheapest eligible" in proc.stderr


@pytest.mark.processes
def test_parsing_the_command_line_loads_neither_simpy_nor_matplotlib():
    code = (
        "import sys\n"
        "from wsrelay.cli.main import main\n"
        "for argv in (['--help'], ['simulate', '--help'], ['cost', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'simpy', 'matplotlib'}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
