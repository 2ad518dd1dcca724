"""What `wsrelay simulate` reports: the JSON's runs, assumptions and seeds; the mean and 95%
interval over seeds and the marks of differences within the seed variance; a table that fits
120 columns; a plot that leaves a gap where no job was delivered and shades the event window."""

from __future__ import annotations

import json
import math

import pytest

from wsrelay.cli.main import main
from wsrelay.tools.simulate import plot, report, runs
from wsrelay.tools.simulate.metrics import Series
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.stats import estimate, paired_difference, t975

SHORT = ["--duration-s", "200", "--event-at-s", "60", "--throttle-s", "100"]
RUN_FIELDS = {"compute", "relay", "publisher_ack", "jobs", "delivered", "timed_out", "lost", "in_flight"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict:
    """The throttle scenario, shortened, over seeds 3, 4 and 5."""
    path = tmp_path_factory.mktemp("sim") / "throttle.json"
    flags = ["--scenario", "throttle", "--seed", "3", "--seeds", "3", "--json", str(path), *SHORT]
    assert main(["simulate", *flags]) == 0
    return json.loads(path.read_text())


@pytest.mark.slow
def test_the_json_has_every_run_of_every_seed_with_its_fields(seeded):
    assert seeded["seeds"] == [3, 4, 5] and seeded["seed"] == 3
    assert seeded["event_window_s"] == [60.0, 160.0]
    assert len(seeded["runs"]) == 27
    for run in seeded["runs"]:
        assert RUN_FIELDS <= run.keys()
        assert run["relay"] in ("legacy", "wsrelay") and run["publisher_ack"] in ("router", "stored")
        assert run["publisher_ack"] == "router" or run["relay"] == "wsrelay"  # legacy acks via the router
    pairs = {(r["compute"], r["relay"], r["publisher_ack"]) for r in seeded["runs"]}
    assert pairs == set(runs.PAIRS)


@pytest.mark.slow
def test_the_assumptions_are_the_toml_keys_and_read_back(seeded, tmp_path):
    assumptions = seeded["assumptions"]
    assert assumptions == {**runs.assumptions(SimConfig(duration_s=200, event_at_s=60, throttle_s=100))}
    assert assumptions["mean_jobs_per_s"] == 2.9 and assumptions["threads_per_worker"] == 2
    assert assumptions["queue_retention_s"] == 300 and assumptions["visibility_timeout_s"] == 60
    config = tmp_path / "assumptions.toml"
    config.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in assumptions.items()))
    out = tmp_path / "again.json"
    flags = ["--scenario", "throttle", "--seed", "3", "--config", str(config), "--json", str(out)]
    assert main(["simulate", *flags]) == 0
    again = json.loads(out.read_text())
    assert again["assumptions"] == assumptions and again["runs"] == seeded["runs"][:9]


@pytest.mark.slow
def test_the_summary_has_means_intervals_and_the_comparison_with_the_best_mode(seeded):
    for s in seeded["summary"]:
        share = s["delivered_pct"]
        assert share["n"] == 3 and share["low"] <= share["mean"] <= share["high"]
        rows = [
            r
            for r in seeded["runs"]
            if (r["compute"], r["relay"], r["publisher_ack"])
            == (s["compute"], s["relay"], s["publisher_ack"])
        ]
        assert share["mean"] == pytest.approx(
            sum(100 * r["delivered"] / r["jobs"] for r in rows) / 3, abs=0.01
        )
        if s["compute"] == s["best_compute"]:
            assert s["within_seed_variance"] is None and s["vs_best_pp"]["mean"] == 0
        else:
            assert isinstance(s["within_seed_variance"], bool) and s["vs_best_pp"]["mean"] <= 0


def test_estimates_and_the_t_quantile():
    assert t975(1) == 12.706 and t975(4) == 2.776 and t975(1000) == 1.96
    one = estimate([99.0])
    assert one.mean == 99.0 and one.half is None and one.contains_zero() is None
    three = estimate([1.0, 2.0, 3.0])
    assert three.mean == 2.0 and three.half == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    # a difference the seeds agree on is outside the noise; one they disagree on is inside
    assert paired_difference([90.0, 91.0, 89.5], [99.0, 99.2, 98.9]).contains_zero() is False
    assert paired_difference([99.0, 98.0, 99.5], [98.9, 99.2, 98.7]).contains_zero() is True


def summary(compute: str, mean: float, best: str, within: bool | None, low: float | None = None) -> dict:
    high = None if low is None else 2 * mean - low
    figure = {"mean": 1.0, "low": None, "high": None, "n": 1}
    return {
        "compute": compute,
        "relay": "wsrelay",
        "publisher_ack": "router",
        "delivered_pct": {"mean": mean, "low": low, "high": high, "n": 3},
        "vs_best_pp": {"mean": mean - 99.9, "low": None, "high": None, "n": 3},
        "best_compute": best,
        "within_seed_variance": within,
        **{key: figure for _, key, _ in report.COLUMNS},
        "p99_latency_s": None,
    }


def test_the_table_marks_differences_within_the_seed_variance_and_fits_120_columns():
    rows = [
        summary("ondemand", 94.71, "managed", False, 94.0),
        summary("provisioned", 99.87, "managed", True, 99.5),
        summary("managed", 99.9, "managed", None, 99.8),
    ]
    lines = report.render(rows, report.title("throttle", [1, 2, 3], 3600, (1200, 1800)), [1, 2, 3])
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= report.MAX_WIDTH and "…" not in text
    assert "seeds 1-3 (mean)" in text and "event from minute 20 to 30" in text
    by_mode = {
        line.split()[0]: line
        for line in lines
        if line.split()[:1] in (["ondemand"], ["provisioned"], ["managed"])
    }
    assert (
        "94.7 ±0.7" in by_mode["ondemand"]
        and "-5.2" in by_mode["ondemand"]
        and "~" not in by_mode["ondemand"]
    )
    assert " 0.0 ~" in by_mode["provisioned"]  # -0.03 pp: no sign on what rounds to 0
    assert "best" in by_mode["managed"]
    assert " - " in by_mode["managed"] + " "  # no latency sample: a dash, never 0
    assert "within the seed variance" in text


@pytest.mark.slow
def test_the_printed_table_of_a_real_run_fits_120_columns(seeded):
    lines = report.render(seeded["summary"], report.title("throttle", [3, 4, 5], 200, (60, 160)), [3, 4, 5])
    assert max(len(line) for line in lines) <= 120 and "…" not in "\n".join(lines)


def test_the_latency_panel_leaves_a_gap_where_nothing_was_delivered_and_the_event_is_shaded():
    series = Series(
        t=[10.0, 20.0, 30.0],
        queue_depth=[1, 2, 3],
        workers=[3, 4, 4],
        connected_workers=[3, 4, 4],
        throttles=[0, 5, 0],
        latency_p99_s=[1.5, None, 2.0],
    )
    fig = plot.figure("outage", [("ondemand", "wsrelay router", series)], window=(15.0, 25.0))
    try:
        latency = fig.axes[3]
        y = latency.get_lines()[0].get_ydata()
        assert y[0] == 1.5 and math.isnan(y[1]) and y[2] == 2.0  # a gap, not 0 s
        for ax in fig.axes[:4]:
            spans = [p for p in ax.patches if p.get_label() == "event"]
            assert len(spans) == 1
            assert spans[0].get_x() == pytest.approx(15.0 / 60)
        assert [ax.get_title() for ax in fig.axes[:4]] == [title for _, title, _ in plot.PANELS]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.mark.slow
def test_the_plot_is_one_png(capsys, tmp_path):
    path = tmp_path / "outage.png"
    flags = ["--scenario", "outage", "--plot", str(path), "--duration-s", "120", "--event-at-s", "30"]
    assert main(["simulate", *flags]) == 0
    captured = capsys.readouterr()
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes()[:4] == b"\x89PNG"
    assert f"wsrelay simulate: wrote {path}" in captured.err
    assert "managed" in captured.out and "wsrelay stored" in captured.out


def error_line(capsys, *flags: str) -> str:
    try:
        code = main(["simulate", *flags])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("wsrelay simulate: error: "), err
    return lines[0]


def test_a_too_short_duration_is_explained_in_seconds_naming_sample_s(capsys):
    line = error_line(capsys, "--scenario", "steady", "--duration-s", "20")
    assert "--duration-s 20 is too short: a run needs at least 100 s" in line
    assert "10 samples of --sample-s 10 s" in line
    line = error_line(capsys, "--scenario", "steady", "--duration-s", "20", "--sample-s", "5")
    assert "a run needs at least 50 s (10 samples of --sample-s 5 s)" in line


def test_an_event_after_the_end_of_the_run_is_refused(capsys):
    line = error_line(capsys, "--scenario", "outage", "--duration-s", "600")
    assert "--event-at-s 1200 is not before the end of the run (600 s)" in line
