"""The ``publisher_ack`` setting: WSRELAY_PUBLISHER_ACK, ``serve --publisher-ack``, the TTL rule of
``stored`` mode at init, and what the stores keep for it (``store_acked``, older SQLite files)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from tool_support import serve_once as serve

from wsrelay.cli.checks import UsageError
from wsrelay.config import ConfigError, Settings
from wsrelay.functions import RelayFunctions
from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.local.settings import GatewaySettings
from wsrelay.stores.sqlite_shared import SharedSqliteStore

NOW = 1_800_000_000.0


def test_default_is_stored_and_router_is_accepted():
    assert Settings().publisher_ack == "stored"
    assert Settings.from_env({}).publisher_ack == "stored"
    assert Settings.from_env({"WSRELAY_PUBLISHER_ACK": " Router "}).publisher_ack == "router"
    assert GatewaySettings().publisher_ack == "stored"


def test_settings_round_trip_in_both_modes():
    for mode in ("stored", "router"):
        settings = Settings(publisher_ack=mode, result_ttl_seconds=300)
        assert Settings.from_env(settings.to_env()) == settings


def test_an_unknown_mode_names_the_variable():
    with pytest.raises(ConfigError, match="WSRELAY_PUBLISHER_ACK must be one of stored, router, got 'later'"):
        Settings.from_env({"WSRELAY_PUBLISHER_ACK": "later"})


@pytest.mark.parametrize(("ttl", "ok"), [(119, False), (120, True), (600, True)])
def test_stored_mode_needs_a_ttl_of_120_s(ttl, ok):
    settings = Settings.from_env({"RESULT_TTL_SECONDS": str(ttl)})
    if ok:
        assert settings.check() is settings
    else:
        with pytest.raises(ConfigError, match="RESULT_TTL_SECONDS must be at least 120"):
            settings.check()
    router = Settings.from_env({"RESULT_TTL_SECONDS": str(ttl), "WSRELAY_PUBLISHER_ACK": "router"})
    assert router.check() is router  # router mode keeps any TTL


def test_the_functions_refuse_a_short_ttl_in_stored_mode(tmp_path):
    store = SharedSqliteStore(tmp_path / "r.db", 60)
    with pytest.raises(ConfigError, match="RESULT_TTL_SECONDS"):
        RelayFunctions(Settings(result_ttl_seconds=60), store, lambda endpoint: None)  # type: ignore[arg-type,return-value]


@pytest.mark.processes
def test_the_lambda_init_fails_naming_the_variable(tmp_path):
    """Importing the handlers (Lambda's init) with a short TTL in stored mode fails, naming it."""
    env = {
        "RESULT_TTL_SECONDS": "60",
        "WSRELAY_STORE": "sqlite",
        "WSRELAY_SQLITE_PATH": str(tmp_path / "r.db"),
        "WSRELAY_MANAGEMENT_ENDPOINT": "http://127.0.0.1:9/x",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import wsrelay.handlers"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and "RESULT_TTL_SECONDS must be at least 120" in proc.stderr


@pytest.mark.processes
def test_serve_refuses_a_short_ttl_in_stored_mode_naming_the_flags():
    with pytest.raises(UsageError, match=r"--result-ttl-s \(RESULT_TTL_SECONDS\) must be at least 120"):
        GatewaySettings(result_ttl_s=30).validate()
    assert GatewaySettings(result_ttl_s=30, publisher_ack="router").validate()
    refused = serve("--publisher-ack", "later")
    assert refused.returncode == 2 and "--publisher-ack" in refused.stderr


def test_serve_flag_reaches_the_relay_settings(tmp_path):
    settings = GatewaySettings(state_dir=tmp_path, publisher_ack="router")
    assert settings.relay_settings("http://127.0.0.1:1/local").publisher_ack == "router"
    assert GatewaySettings(state_dir=tmp_path).relay_settings("http://x/y").publisher_ack == "stored"


@pytest.mark.processes
def test_serve_exits_2_naming_the_flag():
    proc = serve("--result-ttl-s", "10")
    assert proc.returncode == 2
    assert "--result-ttl-s (RESULT_TTL_SECONDS) must be at least 120" in proc.stderr


def test_every_store_keeps_the_store_acked_publishers(make_store):
    store = make_store()
    store.publish("g", "W1", "r", NOW, ack_on_store=True)
    store.publish("g", "W2", "r", NOW)
    assert store.withhold_ack("g", "W9", NOW) is None  # not there: nothing changes
    channel = store.ack("g", "R", NOW)
    assert channel.publishers == {"W1", "W2"} and channel.store_acked == {"W1"}


def test_every_store_withholds_and_tells_who_acked_meanwhile(make_store):
    store = make_store()
    store.publish("g", "W", "r", NOW, ack_on_store=True)
    assert store.withhold_ack("g", "W", NOW) is None
    assert store.ack("g", "R", NOW).store_acked == frozenset()
    store.publish("h", "W", "r", NOW, ack_on_store=True)
    store.ack("h", "R", NOW)
    assert store.withhold_ack("h", "W", NOW) == "R"
    assert store.withhold_ack("never", "W", NOW) is None


@pytest.mark.parametrize("kind", ["shared", "owned"])
def test_a_sqlite_file_from_before_gets_the_new_column(tmp_path, kind):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the schema before publisher_ack, with a live row
        db.execute(
            "CREATE TABLE channels (guid TEXT PRIMARY KEY, subscribers TEXT NOT NULL DEFAULT '', "
            "publishers TEXT NOT NULL DEFAULT '', result TEXT, published_at REAL, acked_by TEXT, "
            "expires_at REAL NOT NULL) WITHOUT ROWID"
        )
        db.execute("INSERT INTO channels VALUES ('g', 'R', 'W', 'r', 1.0, NULL, 9e12)")
    db.close()
    store = SharedSqliteStore(path, 600) if kind == "shared" else OwnedSqliteStore(path, 600)
    assert store.subscribe("g", "R2", NOW).result == "r"
    store.publish("g", "W2", "r", NOW, ack_on_store=True)
    assert store.ack("g", "R", NOW).store_acked == {"W2"}
