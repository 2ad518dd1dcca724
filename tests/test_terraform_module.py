"""The Terraform module, validated without a provider download or the terraform binary.

- every resource, data source, argument and nested block exists in hashicorp/aws 6.69.1's schema
  (read as data from cdktn-provider-aws's jsii assembly);
- structure (what each argument refers to, from python-hcl2's parse): routes have integrations,
  compute modes drive the right resources, IAM has no wildcard actions, alarms only use metrics
  that exist, follow create_alarms and alarm_actions, and LMI alarms use 5-minute periods;
- the interface: the outputs, a description on every input and output, and examples that use
  only the module's variables and outputs.

The terraform binary and checkov: test_terraform_evaluated.py; the contract with the code:
test_terraform_contract.py.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
import tf_schema
from terraform_support import EXAMPLES, MODULE, blocks_of, parse, references

pytestmark = pytest.mark.terraform

LMI_METRICS = {
    "ConcurrencyThrottles",
    "CPUThrottles",
    "MemoryThrottles",
    "DiskThrottles",
    "ExecutionEnvironmentConcurrency",
    "ExecutionEnvironmentConcurrencyLimit",
    "ExecutionEnvironmentCPUUtilization",
    "ExecutionEnvironmentMemoryUtilization",
    "CPUUtilization",
    "MemoryUtilization",
    "vCPUAvailable",
    "vCPUAllocated",
    "MemoryAvailable",
    "MemoryAllocated",
}
ALLOWED_METRICS = LMI_METRICS | {
    "Errors",
    "Throttles",  # AWS/Lambda
    "IntegrationError",
    "ExecutionError",  # AWS/ApiGateway
    "PostFailures",
    "AcksUnroutable",
    "HandlerErrors",
    "ResultsWithoutSubscriber",
    "ResultsPublished",
    "DeliveryLatency",  # wsrelay EMF
}


@pytest.fixture(scope="module")
def module() -> dict[str, list[Any]]:
    return parse(MODULE)


@pytest.fixture(scope="module")
def resources(module):
    return blocks_of(module, "resource")


# -- schema ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> tf_schema.Schema:
    path = tf_schema.assembly_path()
    if path is None:
        pytest.skip("cdktn-provider-aws is not installed (pip install cdktn-provider-aws)")
    return tf_schema.load(path)


def _check_body(body: dict[str, Any], block: tf_schema.Block, where: str, errors: list[str]) -> None:
    for key, value in body.items():
        if key.startswith("__") or key in tf_schema.META_ARGUMENTS:
            continue
        if key == "dynamic":
            for dynamic in value:
                for name, spec in dynamic.items():
                    if name not in block.blocks:
                        errors.append(f"{where}: no nested block {name!r}")
                        continue
                    for content in spec.get("content", []):
                        _check_body(content, block.blocks[name], f"{where}.{name}", errors)
            continue
        if key in block.blocks:
            for nested in value:
                if isinstance(nested, dict):
                    _check_body(nested, block.blocks[key], f"{where}.{key}", errors)
        elif key not in block.arguments:
            errors.append(f"{where}: no argument or block {key!r}")


@pytest.mark.parametrize(
    "directory", [MODULE, *sorted(p for p in EXAMPLES.iterdir() if p.is_dir())], ids=lambda p: p.name
)
def test_everything_used_exists_in_the_provider_schema(schema, directory):
    assert schema.version == "6.69.1"
    parsed = parse(directory)
    errors: list[str] = []
    checked = 0
    for kind, known in (("resource", schema.resources), ("data", schema.data_sources)):
        for (type_name, name), body in blocks_of(parsed, kind).items():
            checked += 1
            if type_name not in known:
                errors.append(f"{kind} {type_name}.{name}: unknown type")
                continue
            _check_body(body, known[type_name], f"{type_name}.{name}", errors)
    assert errors == []
    assert checked >= (30 if directory == MODULE else 0)


def test_schema_checker_catches_the_seed_plans_mistakes(schema):
    """The checker itself: the plan's spelling must be refused."""
    errors: list[str] = []
    body = {"name": ["x"], "capacity_provider_scaling_policy": [{"scaling_mode": ["AUTO"]}]}
    _check_body(body, schema.resources["aws_lambda_capacity_provider"], "cp", errors)
    assert errors == ["cp: no argument or block 'capacity_provider_scaling_policy'"]


def test_provider_version_constraint(module):
    required = module["terraform"][0]["required_providers"][0]["aws"]
    required = required[0] if isinstance(required, list) else required
    assert required["source"] == "hashicorp/aws" and required["version"] == ">= 6.69"


# -- structure ---------------------------------------------------------------------------------
# Parsed structure only: which resources, variables and locals each argument refers to, never how
# the expression is spelled, so a refactor that keeps the wiring keeps these tests green.


def _locals(module) -> dict[str, Any]:
    return {k: v for entry in module["locals"] for k, v in entry.items()}


def test_routes_have_integrations_and_the_stage_auto_deploys(module, resources):
    assert set(_locals(module)["routes"][0]) == {"$connect", "$disconnect", "$default"}
    route = resources[("aws_apigatewayv2_route", "this")]
    assert references(route["for_each"]) == {"local.routes"}
    assert references(route["target"]) == {"aws_apigatewayv2_integration.this"}
    integration = resources[("aws_apigatewayv2_integration", "this")]
    assert integration["integration_type"] == ["AWS_PROXY"]
    assert references(integration["integration_uri"]) == {"local.invoke_arns"}
    api = resources[("aws_apigatewayv2_api", "this")]
    assert api["protocol_type"] == ["WEBSOCKET"]
    assert api["route_selection_expression"] == ["$request.body.action"]
    stage = resources[("aws_apigatewayv2_stage", "this")]
    assert stage["auto_deploy"] == [True]
    settings = stage["default_route_settings"][0]
    assert settings["detailed_metrics_enabled"] == [True]
    assert references(settings["throttling_rate_limit"]) == {"var.throttling_rate_limit"}
    assert references(settings["throttling_burst_limit"]) == {"var.throttling_burst_limit"}
    assert "access_log_settings" in stage


def test_integrations_invoke_what_has_warm_capacity(module):
    # LMI: the published function; otherwise the alias (an unqualified ARN skips provisioned
    # concurrency). Which one each compute gets: test_terraform_evaluated.py.
    assert references(_locals(module)["invoke_arns"]) == {
        "local.functions",
        "local.compute",
        "aws_lambda_function.this",
        "aws_lambda_alias.live",
    }


def test_compute_modes_drive_the_resources(resources):
    function = resources[("aws_lambda_function", "this")]
    dynamic = function["dynamic"][0]["capacity_provider_config"]
    assert "local.compute" in references(dynamic["for_each"])
    assert function["publish"] == [True]
    assert references(function["publish_to"]) == {"local.compute"}
    assert references(function["memory_size"]) == {"local.function_settings"}
    assert function["runtime"] == ["python3.13"] and function["architectures"] == [["arm64"]]
    assert function["handler"] == ["wsrelay.handlers.${each.key}"]
    assert function["lifecycle"][0]["create_before_destroy"] == [True]
    lmi = dynamic["content"][0]["lambda_managed_instances_capacity_provider_config"][0]
    assert references(lmi["capacity_provider_arn"]) == {"aws_lambda_capacity_provider.this"}
    assert resources[("aws_lambda_alias", "live")]["for_each"] == ["${local.aliased_functions}"]
    pc = resources[("aws_lambda_provisioned_concurrency_config", "this")]
    assert references(pc["for_each"]) == {"local.provisioned_functions"}
    assert references(pc["qualifier"]) == {"aws_lambda_alias.live"}
    assert references(pc["provisioned_concurrent_executions"]) == {"local.function_settings"}
    scaling = resources[("aws_lambda_function_scaling_config", "this")]
    assert references(scaling["for_each"]) == {"local.managed_functions"}
    assert scaling["qualifier"] == ["$LATEST.PUBLISHED"]
    provider = resources[("aws_lambda_capacity_provider", "this")]
    assert references(provider["count"]) == {"local.any_managed"}
    assert references(provider["name"]) == {"local.capacity_provider_name"}
    assert provider["instance_requirements"][0]["architectures"] == [["arm64"]]
    scaling_config = provider["capacity_provider_scaling_config"][0]
    assert scaling_config["scaling_mode"] == ["Auto"] and "max_vcpu_count" in scaling_config
    operator = resources[("aws_iam_role_policy_attachment", "capacity_operator")]
    assert operator["policy_arn"][0].endswith(":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator")


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    dynamic = [c for d in document.get("dynamic", []) if "statement" in d for c in d["statement"]["content"]]
    return [*document.get("statement", []), *dynamic]


def test_iam_is_least_privilege(module, resources):
    documents = {k: v for k, v in blocks_of(module, "data").items() if k[0] == "aws_iam_policy_document"}
    actions = [a for doc in documents.values() for s in _statements(doc) for a in s["actions"][0]]
    assert "sts:AssumeRole" in actions and not [a for a in actions if "*" in a]
    statements = {s["sid"][0]: s for s in _statements(documents[("aws_iam_policy_document", "function")])}
    assert set(statements["ItemsOfTheConnectionsTable"]["actions"][0]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    assert statements["ItemsOfTheConnectionsTable"]["resources"] == [["${local.table_arn}"]]
    assert statements["LegacySubscriptionIndex"]["actions"] == [["dynamodb:Query"]]
    posts = statements["PostToThisStagesConnections"]
    assert posts["actions"] == [["execute-api:ManageConnections"]]
    assert "@connections" in posts["resources"][0][0]
    assert references(posts["resources"]) == {"aws_apigatewayv2_api.this", "var.stage_name"}
    # every policy of the module is one of these documents
    policy = resources[("aws_iam_role_policy", "function")]["policy"]
    assert references(policy) == {"data.aws_iam_policy_document.function"}


def _metric_names(body: Any) -> list[tuple[str, Any]]:
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "metric_name":
                found.append((value[0], body.get("period", [None])[0]))
            else:
                found += _metric_names(value)
    elif isinstance(body, list):
        for item in body:
            found += _metric_names(item)
    return found


def test_alarms_use_only_metrics_that_exist_with_lmi_periods(module, resources):
    alarms = {k: v for k, v in resources.items() if k[0] == "aws_cloudwatch_metric_alarm"}
    seen = set()
    for (_, name), body in alarms.items():
        for metric, period in _metric_names(body):
            metric = metric.replace("${each.key}", "")
            if not metric:  # the capacity provider alarm takes its metric from its for_each keys
                seen |= {"CPUUtilization", "MemoryUtilization"}
                continue
            if "each.value.metric" in metric:
                continue
            seen.add(metric)
            assert metric in ALLOWED_METRICS, f"{name} uses {metric}"
            if metric in LMI_METRICS:
                assert period == 300, f"{name}: {metric} is published every 5 minutes"
    # the metrics the for_each maps name (alarm locals and keys), as words of the parsed values
    locals_ = _locals(module)
    mapped = [alarms[("aws_cloudwatch_metric_alarm", n)]["for_each"] for n in ("api", "capacity_provider")]
    words = set(
        re.findall(r"[A-Za-z]+", json.dumps([locals_["function_alarms"], locals_["wsrelay_alarms"], mapped]))
    )
    assert not {w for w in words if "Unhealthy" in w}
    assert {
        "ConcurrencyThrottles",
        "CPUThrottles",
        "MemoryThrottles",
        "Errors",
        "Throttles",
        "IntegrationError",
        "ExecutionError",
        "PostFailures",
        "AcksUnroutable",
        "HandlerErrors",
    } <= words
    assert {"ExecutionEnvironmentConcurrency", "ExecutionEnvironmentConcurrencyLimit"} <= seen
    assert {"ResultsPublished", "ResultsWithoutSubscriber", "DeliveryLatency"} <= seen
    emf = alarms[("aws_cloudwatch_metric_alarm", "wsrelay")]
    assert emf["dimensions"] == [{"service": "${var.service_name}"}]
    assert alarms[("aws_cloudwatch_metric_alarm", "delivery_latency")]["extended_statistic"] == ["p99"]


def test_every_alarm_follows_create_alarms_and_alarm_actions(module, resources):
    alarms = {k: v for k, v in resources.items() if k[0] == "aws_cloudwatch_metric_alarm"}
    assert len(alarms) >= 7
    for key, body in alarms.items():
        assert "var.create_alarms" in references(body.get("for_each", body.get("count"))), key
        assert references(body["alarm_actions"]) == {"local.alarm_actions"}, key
        assert references(body["ok_actions"]) == {"local.ok_actions"}, key
    locals_ = _locals(module)
    assert references(locals_["alarm_actions"]) == {"var.alarm_actions"}
    assert references(locals_["ok_actions"]) == {"var.ok_actions", "var.alarm_actions"}
    variables = {k: v for entry in module["variable"] for k, v in entry.items()}
    assert variables["alarm_actions"]["default"] == [[]] and variables["create_alarms"]["default"] == [True]


def test_dynamodb_table_schema(resources):
    table = resources[("aws_dynamodb_table", "connections")]
    assert table["hash_key"] == ["connectionId"] and table["billing_mode"] == ["PAY_PER_REQUEST"]
    assert references(table["name"]) == {"local.table_name"}
    assert table["ttl"][0]["attribute_name"] == ["ttl"]
    assert table["point_in_time_recovery"][0]["enabled"] == ["${var.table_point_in_time_recovery}"]


# -- interface ---------------------------------------------------------------------------------

OUTPUTS = {
    "api_id",
    "api_endpoint",
    "api_execution_arn",
    "websocket_url",
    "stage_name",
    "stage_arn",
    "management_endpoint",
    "function_names",
    "function_arns",
    "alias_arns",
    "function_role_arn",
    "capacity_provider_operator_role_arn",
    "table_name",
    "table_arn",
    "capacity_provider_arn",
    "auth_secret_arn",
    "authorizer_id",
    "connect_route_arn",
}


def test_outputs_and_variables_are_documented(module):
    outputs = {k: v for entry in module["output"] for k, v in entry.items()}
    assert OUTPUTS <= set(outputs)
    variables = {k: v for entry in module["variable"] for k, v in entry.items()}
    for name, body in [*outputs.items(), *variables.items()]:
        assert body.get("description", [""])[0].strip(), f"{name} has no description"
    required = {name for name, body in variables.items() if "default" not in body}
    assert required == {"name_prefix", "package_path"}


@pytest.mark.parametrize("example", sorted(p for p in EXAMPLES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_examples_use_the_modules_interface(module, example):
    variables = {k for entry in module["variable"] for k in entry}
    required = {k for entry in module["variable"] for k, v in entry.items() if "default" not in v}
    outputs = {k for entry in module["output"] for k in entry}
    parsed = parse(example)
    call = next(iter(parsed["module"][0].values()))
    arguments = set(call) - {"source"}
    assert arguments <= variables and required <= arguments
    for name in call.get("functions", [{}])[0]:
        assert name in {"onconnect", "ondisconnect", "sendmessage"}
    used = set(re.findall(r"module\.wsrelay\.(\w+)", json.dumps(parsed.get("output", []))))
    assert used <= outputs


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
