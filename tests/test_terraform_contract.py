"""The module's contract with the code it deploys, evaluated for real (a provider-free
`terraform apply`, tests/terraform_support.py) and read from python-hcl2's parse:

- the functions' environment (lambda.tf) sets exactly the variables src/wsrelay/config.py reads
  that a Lambda function may set, and what the module sets with its defaults, config.py accepts;
- every bound config.py puts on a setting is a validation of the variable that feeds it: for each
  bound, a value config.py refuses fails the apply, and the value at the bound applies;
- the LMI and traffic defaults are `wsrelay cost`'s (src/wsrelay/tools/cost/defaults.py), and
  the stage's throttling is 10x Compiler Explorer's peak.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from terraform_support import MODULE, TERRAFORM, apply, blocks_of, offline_root, outputs, parse, references

from wsrelay import config
from wsrelay.client.options import ConnectionConfig
from wsrelay.config import ConfigError, Settings
from wsrelay.relay import PUBLISHER_ACK_MODES
from wsrelay.tools.cost import defaults

pytestmark = pytest.mark.terraform

# Read by config.py but never set by the module, each for its reason:
# Lambda sets these itself, and a function's configuration may not (reserved variables).
RESERVED_BY_LAMBDA = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME"}
LOCAL_ONLY = {
    # the SQLite store's file: the local stack's store; in Lambda the store is DynamoDB
    "WSRELAY_SQLITE_PATH",
    # points the SDK at moto or DynamoDB Local; in AWS the SDK's own endpoint is the right one
    "AWS_ENDPOINT_URL_DYNAMODB",
}
# The endpoint the rest of the module builds from the API's id: any https URL stands in for it.
STAND_IN_ENDPOINT = '"https://abc123.execute-api.us-east-1.amazonaws.com/prod"'


@pytest.fixture(scope="module")
def module() -> dict[str, list[Any]]:
    return parse(MODULE)


@pytest.fixture(scope="module")
def environment(module) -> dict[str, Any]:
    """The functions' environment map as lambda.tf writes it (key -> python-hcl2 value)."""
    function = blocks_of(module, "resource")[("aws_lambda_function", "this")]
    return function["environment"][0]["variables"][0]


def _hcl(value: Any) -> str:
    """A python-hcl2 value back to HCL: `${...}` is an expression, anything else a literal."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return '"' + str(value).replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def root(tmp_path_factory, environment) -> Path:
    """The provider-free module with lambda.tf's environment map as an output."""
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    env = "{\n" + "".join(f"    {k} = {_hcl(v)}\n" for k, v in environment.items()) + "  }"
    shown = {"environment": env, "functions": "local.function_settings"}
    for name in ("allowed_instance_types", "throttling_rate_limit", "throttling_burst_limit"):
        shown[name] = f"var.{name}"
    stand_ins = {"management_endpoint": STAND_IN_ENDPOINT}
    return offline_root(tmp_path_factory.mktemp("contract-root"), shown, stand_ins)


def config_accepts(env: dict[str, str]) -> bool:
    """What a function's init does with this environment (in Lambda: AWS_LAMBDA_FUNCTION_NAME)."""
    try:
        Settings.from_env({**env, "AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage-lmi"}).check()
    except ConfigError:
        return False
    return True


# -- environment keys --------------------------------------------------------------------------


def keys_config_reads() -> set[str]:
    """Every variable `Settings.from_env` looks up (an empty environment takes every branch), and
    every one `Settings.to_env` writes."""
    read: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recording())
    full = Settings(management_endpoint="https://x.example", dynamodb_endpoint="http://localhost:8000")
    return read | set(full.to_env())


def test_the_environment_sets_exactly_what_config_reads_that_a_function_may_set(environment):
    """A variable config.py gains, or one lambda.tf sets that config.py ignores, fails here."""
    read = keys_config_reads()
    assert RESERVED_BY_LAMBDA | LOCAL_ONLY <= read, "an exclusion names a variable config.py no longer reads"
    assert set(environment) == read - RESERVED_BY_LAMBDA - LOCAL_ONLY


def test_the_default_environment_is_what_config_expects(root):
    """With the module's defaults, a function's init succeeds: DynamoDB, the stage's endpoint."""
    result = apply(root)
    assert result.returncode == 0, result.stderr
    env = outputs(root)["environment"]
    assert config_accepts(env)
    settings = Settings.from_env({**env, "AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage-lmi"})
    assert settings.store == "dynamodb" and settings.management_endpoint == STAND_IN_ENDPOINT.strip('"')
    assert settings.table == "events-wsrelay-connections"


# -- bounds ------------------------------------------------------------------------------------

TTL = "RESULT_TTL_SECONDS"
_low, _high = map(int, re.search(r"\{(\d+),(\d+)\}", config.TABLE_NAME.pattern).groups())
_stored, _router = PUBLISHER_ACK_MODES

# (variables, what config.py sees of them). Whether config.py accepts is asked at run time, so a
# bound that moves in config.py fails here until the module's validation moves with it.
BOUNDS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"result_ttl_seconds": 0, "publisher_ack": _router}, {TTL: "0", "WSRELAY_PUBLISHER_ACK": _router}),
    ({"result_ttl_seconds": 1, "publisher_ack": _router}, {TTL: "1", "WSRELAY_PUBLISHER_ACK": _router}),
    ({"result_ttl_seconds": 1.5, "publisher_ack": _router}, {TTL: "1.5", "WSRELAY_PUBLISHER_ACK": _router}),
    ({"result_ttl_seconds": config.MAX_RESULT_TTL_SECONDS}, {TTL: str(config.MAX_RESULT_TTL_SECONDS)}),
    (
        {"result_ttl_seconds": config.MAX_RESULT_TTL_SECONDS + 1},
        {TTL: str(config.MAX_RESULT_TTL_SECONDS + 1)},
    ),
    (
        {"result_ttl_seconds": config.MIN_STORED_ACK_TTL_SECONDS - 1, "publisher_ack": _stored},
        {TTL: str(config.MIN_STORED_ACK_TTL_SECONDS - 1), "WSRELAY_PUBLISHER_ACK": _stored},
    ),
    (
        {"result_ttl_seconds": config.MIN_STORED_ACK_TTL_SECONDS, "publisher_ack": _stored},
        {TTL: str(config.MIN_STORED_ACK_TTL_SECONDS), "WSRELAY_PUBLISHER_ACK": _stored},
    ),
    *[({"publisher_ack": mode}, {"WSRELAY_PUBLISHER_ACK": mode}) for mode in (*PUBLISHER_ACK_MODES, "both")],
    ({"table_name": "t" * (_low - 1)}, {"CONNECTIONS_TABLE": "t" * (_low - 1)}),
    ({"table_name": "t" * _low}, {"CONNECTIONS_TABLE": "t" * _low}),
    ({"table_name": "t" * _high}, {"CONNECTIONS_TABLE": "t" * _high}),
    ({"table_name": "t" * (_high + 1)}, {"CONNECTIONS_TABLE": "t" * (_high + 1)}),
    ({"table_name": "events connections"}, {"CONNECTIONS_TABLE": "events connections"}),
    ({"name_prefix": "ce.prod"}, {"CONNECTIONS_TABLE": "ce.prod-wsrelay-connections"}),
    ({"name_prefix": "ce prod"}, {"CONNECTIONS_TABLE": "ce prod-wsrelay-connections"}),
    ({"legacy_subscriptions": True}, {"WSRELAY_LEGACY_SUBSCRIPTIONS": "true"}),
    ({"legacy_subscriptions": "maybe"}, {"WSRELAY_LEGACY_SUBSCRIPTIONS": "maybe"}),
    *[
        ({variable: value}, {key: value})
        for variable, key in (
            ("metrics_namespace", "WSRELAY_METRICS_NAMESPACE"),
            ("service_name", "WSRELAY_SERVICE"),
        )
        for value in ("", "n", "n" * 255, "n" * 256)
    ],
]
# A "." is fine in a table name but not in a function name: there the module is stricter than
# config.py, on purpose.
STRICTER = [{"name_prefix": "ce.prod"}]


@pytest.fixture(scope="module")
def default_env(root) -> dict[str, str]:
    assert apply(root).returncode == 0
    return outputs(root)["environment"]


@pytest.mark.parametrize(("variables", "seen"), BOUNDS, ids=lambda v: str(v)[:60])
def test_each_bound_of_config_is_the_modules(root, default_env, variables, seen):
    """The module refuses what config.py refuses, and applies what it accepts at its bounds."""
    accepted = config_accepts({**default_env, **seen})
    result = apply(root, **variables)
    if variables in STRICTER:
        assert accepted and result.returncode != 0
        return
    assert (result.returncode == 0) == accepted, result.stderr
    if accepted:  # and what the module sets is what config.py was asked about
        env = outputs(root)["environment"]
        assert {k: env[k] for k in seen} == seen and config_accepts(env)


def fed_variables(module, environment) -> set[str]:
    """The variables the environment's values depend on, through locals."""
    locals_ = {k: v for entry in module["locals"] for k, v in entry.items()}
    found: set[str] = set()
    pending = set().union(*(references(v) for v in environment.values()))
    while pending:
        ref = pending.pop()
        kind, _, name = ref.partition(".")
        if kind == "var":
            found.add(name)
        elif kind == "local" and name in locals_:
            pending |= references(locals_[name])
    return found


def test_every_variable_that_feeds_a_setting_has_a_refused_value(module, environment):
    """BOUNDS covers every input the environment depends on (a new one needs its cases)."""
    refused = {name for variables, seen in BOUNDS if not config_accepts(seen) for name in variables}
    assert fed_variables(module, environment) <= refused


# -- defaults shared with `wsrelay cost` -------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(root) -> dict[str, Any]:
    """The module's defaults, with every function on LMI (where the LMI settings apply)."""
    result = apply(
        root, functions={fn: {"compute": "managed"} for fn in ("onconnect", "ondisconnect", "sendmessage")}
    )
    assert result.returncode == 0, result.stderr
    return outputs(root)


def _one(
    evaluated: dict[str, Any],
    field: str,
    functions: tuple[str, ...] = ("onconnect", "ondisconnect", "sendmessage"),
) -> Any:
    values = {evaluated["functions"][fn][field] for fn in functions}
    return values.pop() if len(values) == 1 else values


# defaults.TERRAFORM_SHARED's names, each read from the evaluated module
MODULE_DEFAULTS = {
    "LMI_MEMORY_MB": lambda e: _one(e, "memory_mb"),
    "LMI_MEMORY_GIB_PER_VCPU": lambda e: _one(e, "memory_gib_per_vcpu"),
    "LMI_PER_ENVIRONMENT_CONCURRENCY": lambda e: _one(e, "processes_per_environment"),
    "LMI_MIN_ENVIRONMENTS": lambda e: _one(e, "min_environments"),
    # the first allowed type is the one the cost tool prices (the variable's description says so)
    "LMI_INSTANCE_TYPE": lambda e: e["allowed_instance_types"][0],
    "LEGACY_SENDMESSAGE_PROVISIONED": lambda e: _one(e, "provisioned_concurrency", ("sendmessage",)),
    "LEGACY_OTHER_PROVISIONED": lambda e: _one(e, "provisioned_concurrency", ("onconnect", "ondisconnect")),
}
# the traffic the module is sized by: its throttling (below)
TRAFFIC = {"MEAN_JOBS_PER_S", "PEAK_FACTOR"}


def test_every_shared_default_is_read_here():
    """A constant the cost tool adds to TERRAFORM_SHARED needs its reading here."""
    assert set(defaults.TERRAFORM_SHARED) == set(MODULE_DEFAULTS) | TRAFFIC


@pytest.mark.parametrize("name", sorted(MODULE_DEFAULTS))
def test_the_module_defaults_to_what_wsrelay_cost_prices(evaluated, name):
    """One set of defaults: `wsrelay cost` prices the deployment the module makes by default."""
    assert MODULE_DEFAULTS[name](evaluated) == defaults.TERRAFORM_SHARED[name]


def frames_per_job() -> int:
    """Client frames API Gateway's stage throttling counts per job, at the peak: the routed ones
    (subscribe, publish, ack, unsubscribe: the cost model's invocations per job) plus the
    connections' own traffic, rounded up to a whole frame: worker resends, the clients' idle
    `ping` (an upper bound: every connection idle) and $connect/$disconnect (API Gateway cuts
    connections at 2 h). The relay's posts to @connections are management calls, not routed."""
    peak = defaults.MEAN_JOBS_PER_S * defaults.PEAK_FACTOR
    idle_ping_s = ConnectionConfig(url="wss://x").idle_ping_s
    per_s = defaults.CONNECTIONS * (2 / defaults.CONNECTION_LIFETIME_S + 1 / idle_ping_s)
    return int(defaults.INVOCATIONS_PER_JOB) + math.ceil(defaults.RESEND_FRACTION + per_s / peak)


def test_throttling_is_ten_times_compiler_explorers_peak(module, evaluated):
    """10 x mean x peak factor x frames per job, from the cost tool's figures, and shown so."""
    frames = frames_per_job()
    rate = math.ceil(round(10 * defaults.MEAN_JOBS_PER_S * defaults.PEAK_FACTOR * frames, 6))
    assert evaluated["throttling_rate_limit"] == rate
    assert evaluated["throttling_burst_limit"] == rate  # one second of the rate at once
    # the description shows that arithmetic with these numbers
    variables = {k: v for entry in module["variable"] for k, v in entry.items()}
    shown = set(re.findall(r"\d+(?:\.\d+)?", variables["throttling_rate_limit"]["description"][0]))
    assert {
        "10",
        f"{defaults.MEAN_JOBS_PER_S:g}",
        f"{defaults.PEAK_FACTOR:g}",
        str(frames),
        str(rate),
    } <= shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
