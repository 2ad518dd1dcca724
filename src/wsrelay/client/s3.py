"""Large results in S3, exchanged the way the production worker and router do it.

The worker writes the full result JSON to ``s3://bucket/<prefix><s3Key>`` and publishes a light
message; the router reads the object and merges ``{**object, **message}``. boto3 is imported
only when a client first needs S3, and its blocking calls run in a thread
(`asyncio.to_thread`) so the event loop keeps reading frames meanwhile.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from wsrelay.client.options import RESULT_FIELDS, S3Config


def needs_completion(message: dict[str, Any]) -> bool:
    """True for a light message: ``s3Key`` and none of the result fields (the router's test)."""
    return "s3Key" in message and not any(name in message for name in RESULT_FIELDS)


def light_message(guid: str, key: str, result: dict[str, Any]) -> dict[str, Any]:
    """What the worker publishes instead of a large result: ``{guid, s3Key, okToCache, execTime}``."""
    return {
        "guid": guid,
        "s3Key": key,
        "okToCache": bool(result.get("okToCache", False)),
        "execTime": result.get("execTime"),
    }


class ResultBucket:
    """Reads and writes result objects under `config.prefix` in `config.bucket`."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._client = await asyncio.to_thread(self._make_client)
        return self._client

    def _make_client(self) -> Any:
        import boto3  # lazily: only runs that carry large results pay for it

        session = boto3.session.Session()
        return session.client("s3", endpoint_url=self.config.endpoint_url, region_name=self.config.region)

    async def put(self, key: str, text: str) -> None:
        """Store `text` (a result's JSON) as the object for `key`."""
        s3 = await self._s3()
        await asyncio.to_thread(
            s3.put_object,
            Bucket=self.config.bucket,
            Key=self.config.prefix + key,
            Body=text.encode("utf-8"),
            ContentType="application/json",
        )

    async def get(self, key: str) -> dict[str, Any]:
        """The object for `key`, parsed; raises ValueError if it is not a JSON object."""
        s3 = await self._s3()
        response = await asyncio.to_thread(
            s3.get_object, Bucket=self.config.bucket, Key=self.config.prefix + key
        )
        body = await asyncio.to_thread(response["Body"].read)
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError(f"s3 object {self.config.prefix}{key} is not a JSON object")
        return document
