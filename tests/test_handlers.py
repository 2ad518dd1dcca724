"""The Lambda handlers end to end: realistic API Gateway events, DynamoDB on moto's server,
and a recording Management API on a real socket, reached by boto3 exactly as in AWS."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)

from wsrelay.local.events import Api, ConnectionInfo, connect_event, disconnect_event, message_event

API = Api(api_id="abc123defg", domain_name="abc123defg.execute-api.us-east-1.amazonaws.com", stage="test")


class Ctx:
    def __init__(self, request_id="req-1"):
        self.aws_request_id = request_id


def message(conn: ConnectionInfo, body: str | bytes) -> dict:
    event = message_event(API, conn, "$default", body)
    APIGatewayWebSocketMessageEventModel.model_validate(event)
    return event


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.fixture
def relay_env(build_functions, moto_endpoint, table, management_api):
    """Handlers on DynamoDB (moto) posting to the recording Management API."""
    handlers = build_functions(
        WSRELAY_STORE="dynamodb",
        AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint,
        CONNECTIONS_TABLE=table,
        WSRELAY_MANAGEMENT_ENDPOINT=management_api.endpoint,
    )
    return handlers, management_api


def test_connect_and_disconnect_events(relay_env, capsys):
    handlers, _ = relay_env
    conn = ConnectionInfo(headers={"Host": API.domain_name, "User-Agent": "router/1"}, query={"k": "v"})
    connect = connect_event(API, conn)
    APIGatewayWebSocketConnectEventModel.model_validate(connect)
    assert handlers.onconnect(connect, Ctx()) == {"statusCode": 200}
    disconnect = disconnect_event(API, conn, 1001, "Going away")
    APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect)
    assert handlers.ondisconnect(disconnect, Ctx()) == {"statusCode": 200}
    lines = log_lines(capsys)
    assert [line["route"] for line in lines] == ["$connect", "$disconnect"]
    assert all(line["connectionId"] == conn.connection_id for line in lines)


def test_full_cycle_through_the_handlers(relay_env, capsys):
    handlers, api = relay_env
    router, worker = ConnectionInfo(), ConnectionInfo()
    result = '{"guid":"job-1","code":0,"stdout":[{"text":"hi"}]}'
    assert handlers.sendmessage(message(router, "subscribe: job-1"), Ctx("r1"))["statusCode"] == 200
    handlers.sendmessage(message(worker, result), Ctx("r2"))
    assert api.delivered(router.connection_id) == [result]
    handlers.sendmessage(message(router, "ack: job-1"), Ctx("r3"))
    assert api.delivered(worker.connection_id) == [
        json.dumps(
            {"type": "ack", "guid": "job-1", "acknowledgedBy": router.connection_id},
            separators=(",", ":"),
        )
    ]
    handlers.sendmessage(message(router, "unsubscribe: job-1"), Ctx("r4"))
    lines = log_lines(capsys)
    assert [line["outcome"] for line in lines] == ["subscribed", "published", "acked", "unsubscribed"]
    assert [line["requestId"] for line in lines] == ["r1", "r2", "r3", "r4"]
    publish, ack = lines[1], lines[2]
    assert publish["guid"] == "job-1" and publish["ResultsDelivered"] == 1
    emf = publish["_aws"]["CloudWatchMetrics"][0]
    assert emf["Namespace"] == "wsrelay" and emf["Dimensions"] == [["service"]]
    assert {m["Name"] for m in emf["Metrics"]} == {"ResultsPublished", "ResultsDelivered"}
    assert ack["AcksRouted"] == 1 and ack["DeliveryLatency"] >= 0


def test_late_subscriber_through_the_handlers(relay_env):
    handlers, api = relay_env
    router, worker = ConnectionInfo(), ConnectionInfo()
    handlers.sendmessage(message(worker, '{"guid":"late-1"}'), Ctx())
    handlers.sendmessage(message(router, "subscribe: late-1"), Ctx())
    assert api.delivered(router.connection_id) == ['{"guid":"late-1"}']


def test_410_among_live_subscribers(relay_env, capsys):
    handlers, api = relay_env
    subs = [ConnectionInfo() for _ in range(3)]
    dead = subs[1].connection_id
    api.scripts[dead] = [410]
    for sub in subs:
        handlers.sendmessage(message(sub, "subscribe: g410"), Ctx())
    worker = ConnectionInfo()
    handlers.sendmessage(message(worker, '{"guid":"g410","n":1}'), Ctx())
    assert api.delivered(subs[0].connection_id) == ['{"guid":"g410","n":1}']
    assert api.delivered(subs[2].connection_id) == ['{"guid":"g410","n":1}']
    line = log_lines(capsys)[-1]
    assert line["StaleConnectionsRemoved"] == 1 and line["ResultsDelivered"] == 2
    handlers.sendmessage(message(worker, '{"guid":"g410","n":2}'), Ctx())
    assert api.attempts(dead) == 1  # removed from the guid: never posted to again


def test_429_then_success(relay_env, capsys):
    handlers, api = relay_env
    router = ConnectionInfo()
    api.scripts[router.connection_id] = [429, 429, 200]
    handlers.sendmessage(message(router, "subscribe: g429"), Ctx())
    handlers.sendmessage(message(ConnectionInfo(), '{"guid":"g429"}'), Ctx())
    assert api.delivered(router.connection_id) == ['{"guid":"g429"}']
    line = log_lines(capsys)[-1]
    assert line["PostRetries"] == 2 and line["ResultsDelivered"] == 1
    assert "PostFailures" not in line


def test_500_forever_is_bounded_counted_and_the_result_stays(relay_env, capsys):
    handlers, api = relay_env
    router, other = ConnectionInfo(), ConnectionInfo()
    api.scripts[router.connection_id] = [500]
    handlers.sendmessage(message(router, "subscribe: g500"), Ctx())
    handlers.sendmessage(message(other, "subscribe: g500"), Ctx())
    status = handlers.sendmessage(message(ConnectionInfo(), '{"guid":"g500"}'), Ctx())
    assert status == {"statusCode": 200}
    assert api.attempts(router.connection_id) == 4  # RetryPolicy.max_attempts
    assert api.delivered(other.connection_id) == ['{"guid":"g500"}']  # one failure stops nothing
    line = log_lines(capsys)[-1]
    assert line["PostFailures"] == 1 and line["PostRetries"] == 3
    # the result is still stored: the router re-subscribes on a new connection and gets it
    again = ConnectionInfo()
    handlers.sendmessage(message(again, "subscribe: g500"), Ctx())
    assert api.delivered(again.connection_id) == ['{"guid":"g500"}']


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("{oops", "error: frame starts with a brace but is not valid JSON"),
        ("[1, 2]", "unknown text message"),
        ('{"no":"guid"}', "unknown object message"),
        ("ping", "pong"),
        ("hello", "unknown text message"),
    ],
)
def test_replies_to_odd_frames(relay_env, body, reply):
    handlers, api = relay_env
    conn = ConnectionInfo()
    assert handlers.sendmessage(message(conn, body), Ctx())["statusCode"] == 200
    assert api.delivered(conn.connection_id) == [reply]


def test_invalid_guid_changes_nothing(relay_env, dynamodb_client, table):
    handlers, api = relay_env
    conn = ConnectionInfo()
    handlers.sendmessage(message(conn, "subscribe: no spaces allowed"), Ctx())
    reply = api.delivered(conn.connection_id)
    assert len(reply) == 1 and reply[0].startswith("error: invalid guid")
    assert dynamodb_client.scan(TableName=table)["Count"] == 0


def test_binary_frame_is_refused(relay_env):
    handlers, api = relay_env
    conn = ConnectionInfo()
    handlers.sendmessage(message(conn, b"\xff\xfe"), Ctx())
    assert api.delivered(conn.connection_id) == ["error: frame is not UTF-8 text"]
    handlers.sendmessage(message(conn, b"ping"), Ctx())  # base64 text still works
    assert api.delivered(conn.connection_id)[-1] == "pong"


@pytest.mark.parametrize(
    ("event", "missing"),
    [
        ({}, "requestContext.connectionId"),
        ({"requestContext": {"routeKey": "$default"}, "body": "ping"}, "requestContext.connectionId"),
        ({"requestContext": {"connectionId": "abc="}}, "body"),
    ],
)
def test_missing_event_fields(relay_env, capsys, event, missing):
    handlers, _ = relay_env
    assert handlers.sendmessage(event, Ctx()) == {"statusCode": 400}
    line = log_lines(capsys)[-1]
    assert line["level"] == "ERROR" and missing in line["error"]


def test_endpoint_comes_from_the_event_without_override(build_functions, tmp_path, capsys):
    handlers = build_functions(WSRELAY_SQLITE_PATH=str(tmp_path / "r.db"))
    conn = ConnectionInfo()
    endpoint = handlers.endpoint(message(conn, "ping")["requestContext"])
    assert endpoint == f"https://{API.domain_name}/{API.stage}"
    assert handlers.outbound_for(endpoint).client.meta.endpoint_url == endpoint
    assert handlers.outbound_for(endpoint) is handlers.outbound_for(endpoint)  # one client per endpoint
    event = {"requestContext": {"connectionId": "abc="}, "body": "ping"}
    assert handlers.sendmessage(event, Ctx()) == {"statusCode": 400}
    assert "domainName" in log_lines(capsys)[-1]["error"]


class ThrottlingProxy:
    """Answers the first `throttles` DynamoDB calls with ThrottlingException, then forwards."""

    def __init__(self, target: str, throttles: int):
        self.target, self.remaining, self.seen = target, throttles, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.seen += 1
                if proxy.remaining != 0:
                    proxy.remaining -= 1
                    payload = json.dumps(
                        {
                            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                            "message": "Rate of requests exceeds the allowed throughput.",
                        }
                    ).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(proxy.target, body, headers, method="POST")
                with urllib.request.urlopen(request) as response:
                    data = response.read()
                    self.send_response(response.status)
                    for k, v in response.headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.mark.parametrize(("throttles", "survives"), [(2, True), (-1, False)])
def test_dynamodb_throttling(
    build_functions, moto_endpoint, table, management_api, capsys, throttles, survives
):
    proxy = ThrottlingProxy(moto_endpoint, throttles)
    try:
        handlers = build_functions(
            WSRELAY_STORE="dynamodb",
            AWS_ENDPOINT_URL_DYNAMODB=proxy.url,
            CONNECTIONS_TABLE=table,
            WSRELAY_MANAGEMENT_ENDPOINT=management_api.endpoint,
        )
        conn = ConnectionInfo()
        if survives:
            handlers.sendmessage(message(conn, '{"guid":"thr"}'), Ctx())
            assert proxy.seen == 3  # two throttled attempts, then the call that went through
            assert log_lines(capsys)[-1]["outcome"] == "stored_without_subscriber"
        else:
            with pytest.raises(Exception, match="Throttling"):
                handlers.sendmessage(message(conn, '{"guid":"thr"}'), Ctx())
            line = log_lines(capsys)[-1]
            assert line["level"] == "ERROR" and line["HandlerErrors"] == 1
            assert "ThrottlingException" in line["error"]
            assert proxy.seen == 3  # bounded: botocore's standard mode, 3 attempts
    finally:
        proxy.server.shutdown()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESULT_TTL_SECONDS", "ten"),
        ("RESULT_TTL_SECONDS", "0"),
        ("WSRELAY_STORE", "redis"),
        ("WSRELAY_LEGACY_SUBSCRIPTIONS", "maybe"),
        ("WSRELAY_MANAGEMENT_ENDPOINT", "ftp://x"),
        ("CONNECTIONS_TABLE", "a"),
        ("WSRELAY_SERVICE", ""),
    ],
)
@pytest.mark.processes
def test_bad_config_fails_the_import_naming_the_variable(tmp_path, name, value):
    env = {"PATH": "/usr/bin:/bin", "WSRELAY_SQLITE_PATH": str(tmp_path / "r.db"), name: value}
    proc = subprocess.run(
        [sys.executable, "-c", "import wsrelay.handlers"], env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr and name in proc.stderr


def test_lambda_defaults_to_dynamodb():
    from wsrelay.config import Settings

    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage"}).store == "dynamodb"
    assert Settings.from_env({}).store == "sqlite"
    settings = Settings.from_env({"WSRELAY_MANAGEMENT_ENDPOINT": "https://x.example/prod/"})
    assert settings.management_endpoint == "https://x.example/prod"


def test_settings_survive_the_environment_both_ways():
    """What the local stack hands its worker processes (`to_env`) reads back (`from_env`) as the
    same settings: one mapping of variable names, in config.py."""
    from wsrelay.config import Settings

    settings = Settings(
        table="t-1",
        result_ttl_seconds=42,
        store="dynamodb",
        sqlite_path="/x/r.db",
        management_endpoint="http://127.0.0.1:1/local",
        dynamodb_endpoint="http://127.0.0.1:2",
        legacy_subscriptions=True,
        metrics_namespace="ns",
        service="svc",
        region="eu-west-1",
    )
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env(Settings().to_env()) == Settings()
