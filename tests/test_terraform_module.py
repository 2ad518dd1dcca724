"""The Terraform module, validated without a provider download or the terraform binary.

- every resource, data source, argument and nested block exists in hashicorp/aws 6.69.1's schema
  (read as data from cdktn-provider-aws's jsii assembly);
- structure: routes have integrations, compute modes drive the right resources, IAM has no
  wildcard actions, alarms only use metrics that exist, LMI alarms use 5-minute periods.

The terraform binary and checkov: test_terraform_evaluated.py.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
import tf_schema
from terraform_support import EXAMPLES, MODULE, blocks_of, parse

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


def test_routes_have_integrations_and_the_stage_auto_deploys(module, resources):
    locals_ = {k: v for entry in module["locals"] for k, v in entry.items()}
    assert set(locals_["routes"][0]) == {"$connect", "$disconnect", "$default"}
    route = resources[("aws_apigatewayv2_route", "this")]
    assert route["for_each"] == ["${local.routes}"]
    assert route["target"] == ["integrations/${aws_apigatewayv2_integration.this[each.value].id}"]
    integration = resources[("aws_apigatewayv2_integration", "this")]
    assert integration["integration_type"] == ["AWS_PROXY"]
    assert integration["integration_uri"] == ["${local.invoke_arns[each.key]}"]
    api = resources[("aws_apigatewayv2_api", "this")]
    assert api["protocol_type"] == ["WEBSOCKET"]
    assert api["route_selection_expression"] == ["$request.body.action"]
    stage = resources[("aws_apigatewayv2_stage", "this")]
    assert stage["auto_deploy"] == [True]
    settings = stage["default_route_settings"][0]
    assert settings["detailed_metrics_enabled"] == [True] and "throttling_rate_limit" in settings
    assert "access_log_settings" in stage


def test_integrations_invoke_what_has_warm_capacity(module):
    locals_ = {k: v for entry in module["locals"] for k, v in entry.items()}
    invoke = locals_["invoke_arns"]
    text = json.dumps(invoke)
    # LMI: the published function; otherwise the alias (an unqualified ARN skips provisioned concurrency)
    assert "aws_lambda_function.this[fn].invoke_arn" in text
    assert "aws_lambda_alias.live[fn].invoke_arn" in text
    assert 'var.compute[fn] == \\"managed\\"' in text


def test_compute_modes_drive_the_resources(resources):
    function = resources[("aws_lambda_function", "this")]
    dynamic = function["dynamic"][0]["capacity_provider_config"]
    assert 'var.compute[each.key] == "managed"' in dynamic["for_each"][0]
    assert function["publish"] == [True]
    assert function["publish_to"] == ['${var.compute[each.key] == "managed" ? "LATEST_PUBLISHED" : null}']
    assert function["runtime"] == ["python3.13"] and function["architectures"] == [["arm64"]]
    assert function["handler"] == ["wsrelay.handlers.${each.key}"]
    assert function["lifecycle"][0]["create_before_destroy"] == [True]
    env = function["environment"][0]["variables"][0]
    assert env["WSRELAY_MANAGEMENT_ENDPOINT"] == "${local.management_endpoint}"
    assert resources[("aws_lambda_alias", "live")]["for_each"] == ["${local.aliased_functions}"]
    pc = resources[("aws_lambda_provisioned_concurrency_config", "this")]
    assert pc["for_each"] == ["${local.provisioned_functions}"]
    assert pc["qualifier"] == ["${aws_lambda_alias.live[each.key].name}"]
    scaling = resources[("aws_lambda_function_scaling_config", "this")]
    assert scaling["for_each"] == ["${local.managed_functions}"]
    assert scaling["qualifier"] == ["$LATEST.PUBLISHED"]
    provider = resources[("aws_lambda_capacity_provider", "this")]
    assert provider["count"] == ["${1 if local.any_managed else 0}"] or "any_managed" in provider["count"][0]
    assert provider["instance_requirements"][0]["architectures"] == [["arm64"]]
    scaling_config = provider["capacity_provider_scaling_config"][0]
    assert scaling_config["scaling_mode"] == ["Auto"] and "max_vcpu_count" in scaling_config
    operator = resources[("aws_iam_role_policy_attachment", "capacity_operator")]
    assert operator["policy_arn"][0].endswith(":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator")


def test_iam_is_least_privilege(module):
    text = "\n".join(p.read_text() for p in MODULE.glob("*.tf"))
    actions = re.findall(r'"([a-z0-9-]+:[A-Za-z*]+)"', text)
    assert actions, "no IAM actions found"
    assert not [a for a in actions if "*" in a]
    documents = blocks_of(module, "data")[("aws_iam_policy_document", "function")]
    statements = {s["sid"][0]: s for s in documents["statement"]}
    assert set(statements["ItemsOfTheConnectionsTable"]["actions"][0]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    assert statements["ItemsOfTheConnectionsTable"]["resources"] == [["${local.table_arn}"]]
    posts = statements["PostToThisStagesConnections"]
    assert posts["actions"] == [["execute-api:ManageConnections"]]
    assert "@connections" in posts["resources"][0][0] and "execution_arn" in posts["resources"][0][0]
    assert "dynamodb:Scan" not in text


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


def test_alarms_use_only_metrics_that_exist_with_lmi_periods(resources):
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
    text = (MODULE / "alarms.tf").read_text()
    assert "Unhealthy" not in text
    for metric in (
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
        "ResultsWithoutSubscriber",
        "DeliveryLatency",
        "ExecutionEnvironmentConcurrencyLimit",
    ):
        assert metric in text
    assert {"ExecutionEnvironmentConcurrency", "ResultsPublished"} <= seen
    emf = alarms[("aws_cloudwatch_metric_alarm", "wsrelay")]
    assert emf["dimensions"] == [{"service": "${var.service_name}"}]
    assert alarms[("aws_cloudwatch_metric_alarm", "delivery_latency")]["extended_statistic"] == ["p99"]


def test_dynamodb_table_schema(resources):
    table = resources[("aws_dynamodb_table", "connections")]
    assert table["hash_key"] == ["connectionId"] and table["billing_mode"] == ["PAY_PER_REQUEST"]
    assert table["ttl"][0]["attribute_name"] == ["ttl"]
    assert table["point_in_time_recovery"][0]["enabled"] == ["${var.table_point_in_time_recovery}"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
