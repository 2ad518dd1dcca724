"""SigV4 on the WebSocket upgrade: the headers a router or a worker adds to its opening handshake
when the API's ``$connect`` route uses IAM authorization (Terraform ``authorization = "iam"``).

API Gateway checks the upgrade request itself, a ``GET`` of the stage URL (its query string
included), signed for the service ``execute-api`` in the API's region; the signer's IAM policy
must allow ``execute-api:Invoke`` on ``arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/$connect``
(docs/security.md). A signature is good for 5 minutes, so every connection (each reconnect
too) is signed when it opens, with the credentials as they are then (refreshable credentials
from boto3 renew themselves).

The ``Host`` header is signed but not returned: websockets writes it from the URL exactly as
botocore derives it (the port only when it is not the scheme's default), and a second ``Host``
would be a different request.
"""

from __future__ import annotations

import re
from typing import Any

SERVICE = "execute-api"
_EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")


def region_of(url: str) -> str | None:
    """The region of an ``execute-api`` URL (None for a custom domain or a local gateway)."""
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    match = _EXECUTE_API_HOST.fullmatch(host)
    return match.group(1) if match else None


def signed_headers(url: str, credentials: Any, region: str) -> dict[str, str]:
    """The headers (``Authorization``, ``X-Amz-Date``, and ``X-Amz-Security-Token`` with
    temporary credentials) that sign the upgrade request to `url` (``ws://`` or ``wss://``, with
    its query string) with `credentials` (botocore's, e.g. ``boto3.Session().get_credentials()``)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    frozen = (
        credentials.get_frozen_credentials()
        if hasattr(credentials, "get_frozen_credentials")
        else credentials
    )
    # ws -> http, wss -> https: the same host and default ports, which is all SigV4 sees of it.
    request = AWSRequest(method="GET", url="http" + url.removeprefix("ws"))
    SigV4Auth(frozen, SERVICE, region).add_auth(request)
    return {name: value for name, value in request.headers.items() if name.lower() != "host"}
