"""API Gateway Management API errors: the one table of HTTP status -> error type and message.

Everything that answers like the Management API (the local gateway, the recording test server)
or maps its answers (the local gateway's in-process client) reads it here. Sources in
docs/aws-facts.md (the ``apigatewaymanagementapi`` service model's error shapes).
"""

from __future__ import annotations

from typing import NamedTuple


class ApiError(NamedTuple):
    """An error answer: its ``x-amzn-ErrorType`` and its body's ``message``."""

    error_type: str
    message: str


ERRORS: dict[int, ApiError] = {
    403: ApiError("ForbiddenException", "Forbidden"),
    410: ApiError("GoneException", "Gone"),
    413: ApiError("PayloadTooLargeException", "Request entity too large"),
    429: ApiError("LimitExceededException", "Limit exceeded"),
    500: ApiError("InternalServerErrorException", "Internal server error"),
}


def error_for(status: int) -> ApiError:
    """The error a status stands for (an unknown one reads as an internal error)."""
    return ERRORS.get(status, ERRORS[500])
