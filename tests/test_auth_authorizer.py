"""The $connect authorizer: its event and response against API Gateway's documented formats,
enforce and permissive modes, the Lambda face, and how the local gateway judges a response."""

from __future__ import annotations

import json

import pytest
from auth_support import METHOD_ARN, PREVIOUS, SECRET, authorizer_event, secret_file, token
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
    parse_api_gateway_arn,
)

import wsrelay.auth
from wsrelay.auth import Authorizer, AuthSettings
from wsrelay.local.authorization import decide
from wsrelay.local.events import Api, ConnectionInfo
from wsrelay.local.events import authorizer_event as local_authorizer_event
from wsrelay.local.runtimes.base import Failure, Invocation

# The input of a WebSocket REQUEST authorizer as the developer guide's example shows it
# (docs/aws-facts.md, "Authorization"): its top-level keys and those of its requestContext.
DOCUMENTED_EVENT_KEYS = {
    "type",
    "methodArn",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "stageVariables",
    "requestContext",
}
DOCUMENTED_CONTEXT_KEYS = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}


def authorizer(mode: str = "enforce", *secrets: bytes) -> tuple[Authorizer, list[dict]]:
    lines: list[dict] = []
    settings = AuthSettings(secrets or (SECRET,), mode, 5)
    return Authorizer(settings, lambda line: lines.append(json.loads(line))), lines


def statement(response: dict) -> dict:
    [only] = response["policyDocument"]["Statement"]
    return only


# -- shapes ---------------------------------------------------------------------------------------


def test_the_local_authorizer_event_has_the_documented_shape():
    conn = ConnectionInfo(query={"token": "abc"}, headers={"Host": "127.0.0.1:3001"})
    event = local_authorizer_event(Api(stage="prod"), conn)
    assert set(event) == DOCUMENTED_EVENT_KEYS
    assert set(event["requestContext"]) == DOCUMENTED_CONTEXT_KEYS
    assert event["type"] == "REQUEST" and event["requestContext"]["routeKey"] == "$connect"
    assert event["requestContext"]["eventType"] == "CONNECT"
    assert event["queryStringParameters"] == {"token": "abc"}
    assert event["multiValueQueryStringParameters"] == {"token": ["abc"]}
    # methodArn: arn:aws:execute-api:region:account-id:api-id/stage-name/$connect
    arn = parse_api_gateway_arn(event["methodArn"], is_websocket_authorizer=True)
    assert (arn.api_id, arn.stage, arn.resource) == ("wsrelaylcl", "prod", "$connect")
    assert APIGatewayAuthorizerRequestEvent(event).query_string_parameters == {"token": "abc"}


def test_allow_is_the_documented_response_with_role_in_the_context():
    allow, _ = authorizer()
    response = allow(authorizer_event(token("publisher", sub="worker-1")), None)
    assert set(response) == {"principalId", "policyDocument", "context"}
    assert response["principalId"] == "worker-1"
    assert response["policyDocument"]["Version"] == "2012-10-17"
    assert statement(response) == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    assert response["context"] == {"role": "publisher", "mode": "enforce", "sub": "worker-1"}
    # Context values are strings: API Gateway stringifies them anyway, objects and lists fail.
    assert all(isinstance(v, str) for v in response["context"].values())
    # The same document aws-lambda-powertools builds for a WebSocket authorizer (it writes the
    # Resource as a list of one ARN; IAM takes either).
    built = APIGatewayAuthorizerResponseWebSocket.from_route_arn(METHOD_ARN, "worker-1", response["context"])
    built._add_route(effect="Allow", resource="$connect")
    documented = built.asdict()
    assert documented["principalId"] == response["principalId"]
    assert documented["context"] == response["context"]
    assert documented["policyDocument"]["Version"] == response["policyDocument"]["Version"]
    [built_statement] = documented["policyDocument"]["Statement"]
    assert {**built_statement, "Resource": built_statement["Resource"][0]} == statement(response)


@pytest.mark.parametrize(
    "refused",
    [token(ttl_s=-60), token(secret=b"x" * 48), "garbage", None],
    ids=["expired", "forged", "garbage", "missing"],
)
def test_enforce_denies_and_counts(refused):
    enforce, lines = authorizer()
    response = enforce(authorizer_event(refused), None)
    assert statement(response)["Effect"] == "Deny" and statement(response)["Resource"] == METHOD_ARN
    assert "context" not in response
    [line] = lines
    assert line["outcome"] == "denied" and line["AuthorizerDenied"] == 1
    assert line["connectionId"] == "Abc123=" and line["route"] == "$connect:authorizer"
    assert {"Name": "AuthorizerDenied", "Unit": "Count"} in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert refused is None or refused not in json.dumps(line)  # a token is never logged


def test_permissive_allows_any_token_as_both_and_counts_what_it_would_deny():
    permissive, lines = authorizer("permissive")
    response = permissive(authorizer_event(token(ttl_s=-60)), None)
    assert statement(response)["Effect"] == "Allow"
    assert response["context"] == {"role": "both", "mode": "permissive", "refused": "expired"}
    assert lines[-1]["AuthorizerWouldDeny"] == 1 and lines[-1]["notes"] == ["would deny: expired"]
    valid = permissive(authorizer_event(token("subscriber")), None)
    assert valid["context"] == {"role": "subscriber", "mode": "permissive"}
    assert lines[-1]["AuthorizerAllowed"] == 1


def test_permissive_still_denies_a_connection_without_a_token():
    # API Gateway answers 401 before invoking the authorizer; a direct invocation is denied.
    permissive, _ = authorizer("permissive")
    assert statement(permissive(authorizer_event(None), None))["Effect"] == "Deny"


def test_rotation_allows_tokens_of_both_secrets():
    rotating, _ = authorizer("enforce", SECRET, PREVIOUS)
    for secret in (SECRET, PREVIOUS):
        assert statement(rotating(authorizer_event(token(secret=secret)), None))["Effect"] == "Allow"


def test_the_lambda_face_reads_its_environment_on_first_call(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WSRELAY_AUTH_SECRET_FILE", str(secret_file(tmp_path)))
    monkeypatch.setenv("WSRELAY_SERVICE", "relay-test")
    wsrelay.auth._authorizer.cache_clear()
    try:
        response = wsrelay.auth.handler(authorizer_event(token("subscriber")), None)
    finally:
        wsrelay.auth._authorizer.cache_clear()
    assert response["context"]["role"] == "subscriber"
    assert json.loads(capsys.readouterr().out)["service"] == "relay-test"


# -- the local gateway's reading of a response ----------------------------------------------------


def invocation(result, failure=None) -> Invocation:
    return Invocation(None if failure else 200, failure, None, False, 12.7, result)


def allow(**context) -> dict:
    return {
        "principalId": "p",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}],
        },
        "context": context,
    }


def test_the_gateway_passes_the_context_on_stringified():
    status, context = decide(invocation(allow(role="both", n=1, ok=True)), METHOD_ARN)
    assert status is None
    assert context == {"role": "both", "n": "1", "ok": "true", "principalId": "p", "integrationLatency": 12}


@pytest.mark.parametrize(
    ("result", "failure", "status"),
    [
        (None, Failure.ERROR, 500),
        (None, Failure.TIMEOUT, 500),
        ({"statusCode": 200}, None, 500),  # no policy
        (allow(nested={"a": 1}), None, 500),
        (allow(items=[1]), None, 500),
        (
            {
                **allow(),
                "policyDocument": {
                    "Statement": [{**allow()["policyDocument"]["Statement"][0], "Effect": "Deny"}]
                },
            },
            None,
            403,
        ),
        (
            {
                **allow(),
                "policyDocument": {
                    "Statement": [{**allow()["policyDocument"]["Statement"][0], "Resource": "arn:other"}]
                },
            },
            None,
            403,
        ),
        ({**allow(), "policyDocument": {"Statement": []}}, None, 403),
    ],
    ids=[
        "raised",
        "timed-out",
        "no-policy",
        "object-value",
        "list-value",
        "deny",
        "other-resource",
        "no-statement",
    ],
)
def test_the_gateway_refuses_what_api_gateway_refuses(result, failure, status):
    assert decide(invocation(result, failure), METHOD_ARN) == (status, None)


def test_a_wildcard_resource_allows():
    wildcard = allow()
    wildcard["policyDocument"]["Statement"][0]["Resource"] = (
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/*"
    )
    assert decide(invocation(wildcard), METHOD_ARN)[0] is None
