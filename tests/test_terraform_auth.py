"""The module's `authorization` ("none", "token", "iam"), read from python-hcl2's parse and
evaluated for real by the provider-free apply (tests/terraform_support.py):

- each value applies, and gives $connect its authorization type (the other routes NONE);
- "token" wires a REQUEST authorizer (identity source ``route.request.querystring.token``) to a
  function that is always on demand, outside any VPC and not a key of `functions`;
- the authorizer's IAM reads only its own secret (parsed structure, not source text);
- the authorizer's environment is tied to `AuthSettings` as the functions' is to `Settings`:
  exactly the variables it reads that a deployed authorizer may set, every bound both sides;
- the access logs never include the query string (it carries ``?token=``).

checkov with each value: test_terraform_evaluated.py.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from terraform_support import MODULE, TERRAFORM, apply, blocks_of, offline_root, outputs, parse, references

from wsrelay.auth.settings import SECRET_FILE, AuthSettings
from wsrelay.config import ConfigError

pytestmark = pytest.mark.terraform

# Read by AuthSettings but never set by the module: the local stack's secret file.
LOCAL_ONLY = {SECRET_FILE}
# Read by the authorizer beside AuthSettings (wsrelay.auth._authorizer): its metrics' namespace
# and service dimension, shared with the relay functions.
SHARED = {"WSRELAY_METRICS_NAMESPACE", "WSRELAY_SERVICE"}
STAND_IN_ARN = '"arn:aws:secretsmanager:us-east-1:123456789012:secret:events-wsrelay-auth-AbCdEf"'


@pytest.fixture(scope="module")
def module() -> dict[str, list[Any]]:
    return parse(MODULE)


@pytest.fixture(scope="module")
def resources(module):
    return blocks_of(module, "resource")


@pytest.fixture(scope="module")
def environment(resources) -> dict[str, Any]:
    """The authorizer function's environment map as authorization.tf writes it."""
    return resources[("aws_lambda_function", "authorizer")]["environment"][0]["variables"][0]


def _hcl(value: Any) -> str:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return '"' + str(value).replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def root(tmp_path_factory, environment) -> Path:
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    env = "{\n" + "".join(f"    {k} = {_hcl(v)}\n" for k, v in environment.items()) + "  }"
    shown = {"environment": env}
    for name in ("token_authorization", "connect_authorization_type", "route_authorization_types"):
        shown[name] = f"local.{name}"
    shown["authorizer"] = "local.authorizer"
    return offline_root(tmp_path_factory.mktemp("auth-root"), shown, {"auth_secret_arn": STAND_IN_ARN})


def applied(root: Path, **variables: Any) -> dict[str, Any]:
    result = apply(root, **variables)
    assert result.returncode == 0, result.stderr
    return outputs(root)


# -- each value, evaluated ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "connect"), [("none", "NONE"), ("token", "CUSTOM"), ("iam", "AWS_IAM")]
)
def test_each_authorization_applies_and_sets_connect_only(root, authorization, connect):
    out = applied(root, authorization=authorization)
    assert out["route_authorization_types"] == {
        "$connect": connect,
        "$disconnect": "NONE",
        "$default": "NONE",
    }
    assert out["token_authorization"] == (authorization == "token")


def test_none_is_the_default_and_anything_else_is_refused(root):
    assert applied(root)["connect_authorization_type"] == "NONE"
    refused = apply(root, authorization="jwt")
    assert refused.returncode != 0 and '"none", "token" or "iam"' in " ".join(refused.stderr.split())


def test_the_authorizer_is_not_a_key_of_functions(root):
    refused = apply(root, functions={"authorizer": {"compute": "managed"}})
    assert refused.returncode != 0 and "unknown key(s) authorizer" in " ".join(refused.stderr.split())


def test_the_authorizer_names_fit_and_its_handler_exists(root):
    out = applied(root, name_prefix="p" * 47, authorization="token")["authorizer"]
    assert len(out["function_name"]) <= 64 and len(out["role_name"]) <= 64
    module, _, function = out["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))


# -- structure -----------------------------------------------------------------------------------


def test_token_wires_a_request_authorizer_to_connect(resources):
    authorizer = resources[("aws_apigatewayv2_authorizer", "token")]
    assert authorizer["authorizer_type"] == ["REQUEST"]
    assert authorizer["identity_sources"] == [["route.request.querystring.token"]]
    assert references(authorizer["authorizer_uri"]) == {"aws_lambda_function.authorizer"}
    assert references(authorizer["count"]) == {"local.token_authorization"}
    route = resources[("aws_apigatewayv2_route", "this")]
    assert references(route["authorization_type"]) == {"local.route_authorization_types"}
    assert references(route["authorizer_id"]) == {
        "local.token_authorization",
        "aws_apigatewayv2_authorizer.token",
    }
    permission = resources[("aws_lambda_permission", "authorizer")]
    assert permission["principal"] == ["apigateway.amazonaws.com"]
    assert references(permission["source_arn"]) == {
        "aws_apigatewayv2_api.this",
        "aws_apigatewayv2_authorizer.token",
    }
    assert "/authorizers/" in permission["source_arn"][0]


def test_the_authorizer_function_is_on_demand_and_outside_any_vpc(resources):
    function = resources[("aws_lambda_function", "authorizer")]
    for lmi_or_vpc in ("capacity_provider_config", "vpc_config", "publish_to", "dynamic"):
        assert lmi_or_vpc not in function
    assert references(function["count"]) == {"local.token_authorization"}
    assert references(function["role"]) == {"aws_iam_role.authorizer"}
    assert references(function["handler"]) == {"local.authorizer"}
    for kind in ("aws_lambda_provisioned_concurrency_config", "aws_lambda_function_scaling_config"):
        assert "aws_lambda_function.authorizer" not in json.dumps(
            [body for (t, _), body in resources.items() if t == kind]
        )


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    dynamic = [c for d in document.get("dynamic", []) if "statement" in d for c in d["statement"]["content"]]
    return [*document.get("statement", []), *dynamic]


def test_the_authorizers_iam_reads_only_its_secret(module, resources):
    documents = {
        name: doc
        for (kind, name), doc in blocks_of(module, "data").items()
        if kind == "aws_iam_policy_document"
    }
    reading = {
        name: statement
        for name, doc in documents.items()
        for statement in _statements(doc)
        if any(a.startswith("secretsmanager:") for a in statement["actions"][0])
    }
    assert list(reading) == ["authorizer"]  # no other policy of the module touches a secret
    [statement] = reading.values()
    assert statement["actions"] == [["secretsmanager:GetSecretValue"]]
    assert references(statement["resources"]) == {"aws_secretsmanager_secret.auth"}
    assert "*" not in json.dumps(statement["resources"])
    for other in _statements(documents["authorizer"]):
        assert other is statement or not references(other["resources"]) & {"aws_secretsmanager_secret.auth"}
        assert not any(a.startswith(("dynamodb:", "execute-api:")) for a in other["actions"][0])
    policy = resources[("aws_iam_role_policy", "authorizer")]
    assert references(policy["policy"]) == {"data.aws_iam_policy_document.authorizer"}
    assert references(policy["role"]) == {"aws_iam_role.authorizer"}


# -- the environment, tied to AuthSettings -----------------------------------------------------


def keys_auth_settings_reads() -> set[str]:
    """Every variable `AuthSettings.from_env` looks up with a Secrets Manager secret, and with a
    file (the file source's branch), and every one `to_env` writes."""
    read: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    AuthSettings.from_env(Recording(WSRELAY_AUTH_SECRET_ARN="arn"))
    AuthSettings.from_env(Recording(), source=lambda env: (b"s" * 32,))
    full = AuthSettings((b"s" * 32,), secret_file="/f", secret_arn="arn")
    return read | set(full.to_env())


def test_the_environment_sets_exactly_what_auth_settings_reads(environment):
    read = keys_auth_settings_reads()
    assert LOCAL_ONLY <= read, "an exclusion names a variable AuthSettings no longer reads"
    assert set(environment) == (read - LOCAL_ONLY) | SHARED


def auth_accepts(env: dict[str, str]) -> bool:
    try:
        AuthSettings.from_env(env)
    except ConfigError:
        return False
    return True


# (variables, what AuthSettings sees of them); accepted or not is asked of AuthSettings.
BOUNDS: list[tuple[dict[str, Any], dict[str, str]]] = [
    *[({"auth_mode": m}, {"WSRELAY_AUTH_MODE": m}) for m in ("enforce", "permissive", "lenient")],
    *[({"auth_leeway_seconds": v}, {"WSRELAY_AUTH_LEEWAY_SECONDS": str(v)}) for v in (-1, 0, 300, 301)],
    ({"auth_leeway_seconds": 1.5}, {"WSRELAY_AUTH_LEEWAY_SECONDS": "1.5"}),
    *[
        ({"auth_secret_cache_seconds": v}, {"WSRELAY_AUTH_SECRET_TTL_SECONDS": str(v)})
        for v in (0, 1, 900, 901)
    ],
]


@pytest.fixture(scope="module")
def default_env(root) -> dict[str, str]:
    return applied(root, authorization="token")["environment"]


def test_the_default_environment_is_what_auth_settings_expects(default_env):
    settings = AuthSettings.from_env(default_env)
    assert settings.secret_arn == STAND_IN_ARN.strip('"') and settings.mode == "enforce"
    assert settings.secret_file is None and settings.secrets == ()


@pytest.mark.parametrize(("variables", "seen"), BOUNDS, ids=lambda v: str(v)[:50])
def test_each_bound_of_auth_settings_is_the_modules(root, default_env, variables, seen):
    accepted = auth_accepts({**default_env, **seen})
    result = apply(root, authorization="token", **variables)
    assert (result.returncode == 0) == accepted, result.stderr
    if accepted:
        env = outputs(root)["environment"]
        assert {k: env[k] for k in seen} == seen and auth_accepts(env)


def test_every_auth_variable_of_the_environment_has_a_refused_value(environment):
    fed = {
        ref.partition(".")[2] for v in environment.values() for ref in references(v) if ref.startswith("var.")
    }
    refused = {name for variables, seen in BOUNDS if not auth_accepts(seen) for name in variables}
    # namespace and service: the relay's bounds, in test_terraform_contract.py
    assert fed - {"metrics_namespace", "service_name"} <= refused


# -- access logs -----------------------------------------------------------------------------------

# $context variables that carry the request's query string, or the whole request.
CARRIES_THE_QUERY = ("$context.path", "$context.resourcePath", "$request", "$input", "querystring")


def test_the_access_logs_never_include_the_query_string(resources):
    stage = resources[("aws_apigatewayv2_stage", "this")]
    format_ = stage["access_log_settings"][0]["format"][0]
    text = json.dumps(format_)
    assert "$context.requestId" in text and "$context.authorize.status" in text
    assert not [word for word in CARRIES_THE_QUERY if word.lower() in text.lower()]
    settings = stage["default_route_settings"][0]
    assert settings["data_trace_enabled"] == [False]  # full request logging would hold ?token=
