"""The local gateway's IAM authorization of ``$connect`` (`wsrelay serve --auth iam`): the upgrade
request must carry a Signature Version 4 signature (service ``execute-api``) made with the one
access key of ``--iam-credentials-file``, as API Gateway requires of a route whose authorization
type is ``AWS_IAM`` (docs/aws-facts.md, "Authorization").

The signature is checked by recomputing it with botocore's own signer (`SigV4Auth`) from what
the request says: its method, ``Host``, path, query string and the headers its ``SignedHeaders``
lists, at the time of its ``X-Amz-Date``, in the region of its credential scope. Refused with
403, as API Gateway refuses them (no 401: IAM has no identity source to be missing):

- no ``Authorization`` header (API Gateway's "Missing Authentication Token");
- a malformed one, another algorithm, another service, an access key other than the file's;
- an ``X-Amz-Date`` missing, unreadable, not the scope's date, or more than 5 minutes off;
- ``host`` not among the signed headers, or a signature that does not match.

What the policy would then decide (``execute-api:Invoke`` on the ``$connect`` ARN) is not
emulated: the one key of the file may connect. Roles are not enforced under IAM (no authorizer
context reaches the relay), as in AWS.
"""

from __future__ import annotations

import datetime
import hmac
import re
import time
from collections.abc import Callable
from pathlib import Path

from websockets.datastructures import Headers

from wsrelay.cli.checks import UsageError, check_input

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 300  # SigV4: a request must reach AWS within 5 minutes of its timestamp
FORBIDDEN = 403
AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    ALGORITHM
    + r" Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


def read_credentials_file(path: Path, flag: str = "--iam-credentials-file") -> tuple[str, str]:
    """(access key id, secret access key) from lines 1 and 2 of `path`; `UsageError` naming `flag`
    for a file that is missing, unreadable or not exactly two non-empty lines."""
    check_input(path, flag)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").strip().splitlines()]
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise UsageError(f"{flag} {path}: cannot read: {reason}") from None
    if len(lines) != 2 or not all(lines) or any(" " in line for line in lines):
        raise UsageError(
            f"{flag} {path}: expected the access key id on line 1 and the secret access key on line 2"
        )
    return lines[0], lines[1]


class SigV4Check:
    """Checks the SigV4 signature of an upgrade request against one access key."""

    def __init__(self, access_key: str, secret_key: str, clock: Callable[[], float] = time.time) -> None:
        self.access_key = access_key
        self._secret_key = secret_key
        self.clock = clock

    def __call__(self, method: str, target: str, headers: Headers) -> tuple[int | None, str]:
        """(None, who) when the request is signed by this key, else (403, why)."""
        authorization = headers.get("Authorization")
        if not authorization:
            return FORBIDDEN, "missing authentication token (no SigV4 Authorization header)"
        match = _AUTHORIZATION.fullmatch(authorization.strip())
        if match is None:
            return FORBIDDEN, "malformed Authorization header"
        if match["service"] != SERVICE:
            return FORBIDDEN, f"signed for service {match['service']!r}, not {SERVICE}"
        if not hmac.compare_digest(match["key"], self.access_key):
            return FORBIDDEN, "unknown access key"
        amz_date = headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=datetime.UTC)
        except ValueError:
            return FORBIDDEN, "no valid X-Amz-Date header"
        if amz_date[:8] != match["date"]:
            return FORBIDDEN, "X-Amz-Date is not the credential scope's date"
        if abs(self.clock() - signed_at.timestamp()) > MAX_SKEW_S:
            return FORBIDDEN, "signature expired (X-Amz-Date more than 5 minutes off)"
        names = match["signed"].split(";")
        if "host" not in names:
            return FORBIDDEN, "host is not a signed header"
        expected = self._signature(method, target, headers, names, amz_date, match["region"])
        if expected is None or not hmac.compare_digest(expected, match["signature"]):
            return FORBIDDEN, "signature does not match"
        return None, match["key"]

    def _signature(
        self, method: str, target: str, headers: Headers, names: list[str], amz_date: str, region: str
    ) -> str | None:
        """The signature botocore computes for the request as signed (None: a signed header
        is absent, so nothing can match)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        signed: dict[str, str] = {}
        for name in names:
            values = headers.get_all(name)
            if not values:
                return None
            signed[name] = ",".join(values)
        # The scheme does not enter the signature: only the path, the query and the headers do.
        request = AWSRequest(method=method, url=f"http://{signed['host']}{target}", headers=signed)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key, self._secret_key), SERVICE, region)
        if set(signer.headers_to_sign(request)) != set(names):
            return None  # botocore never signs some headers (e.g. user-agent): not its signature
        canonical = signer.canonical_request(request)
        return str(signer.signature(signer.string_to_sign(request, canonical), request))
