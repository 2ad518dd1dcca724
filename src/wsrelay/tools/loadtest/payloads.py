"""Result payloads of chosen sizes: the ``--sizes`` specification and the results it makes.

A specification is a comma-separated list of ``LOW-HIGH:WEIGHT`` byte ranges (``K`` = KiB), e.g.
``1K-8K:90,8K-31K:10``: a job's result size is drawn from a range picked by weight, uniformly
within it. Sizes are the length of the result's JSON as a worker would send it.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from wsrelay.client.options import OFFLOAD_THRESHOLD

MAX_SIZE = 16 * 1024 * 1024
_SIZE = re.compile(r"(\d+)([Kk]?)")


@dataclass(frozen=True, slots=True)
class SizeRange:
    """Sizes from `low` to `high` bytes, picked with relative `weight`."""

    low: int
    high: int
    weight: float


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size (bytes, or K for KiB)")
    return int(match.group(1)) * (1024 if match.group(2) else 1)


def parse_sizes(spec: str) -> list[SizeRange]:
    """The ranges of a ``--sizes`` specification; ValueError naming the bad part."""
    ranges = []
    for part in spec.split(","):
        bounds, sep, weight = part.partition(":")
        low, dash, high = bounds.partition("-")
        try:
            size_range = SizeRange(_size(low), _size(high if dash else low), float(weight) if sep else 1.0)
        except ValueError as error:
            raise ValueError(f"--sizes part {part.strip()!r}: {error}") from None
        if not 64 <= size_range.low <= size_range.high <= MAX_SIZE or size_range.weight <= 0:
            raise ValueError(
                f"--sizes part {part.strip()!r}: expected 64 <= LOW <= HIGH <= {MAX_SIZE}, weight > 0"
            )
        ranges.append(size_range)
    return ranges


def largest(ranges: list[SizeRange]) -> int:
    """The largest size the ranges can draw."""
    return max(size_range.high for size_range in ranges)


def needs_s3(ranges: list[SizeRange]) -> bool:
    """True when some result would exceed the worker's 31 KiB threshold."""
    return largest(ranges) > OFFLOAD_THRESHOLD


class Payloads:
    """Draws result sizes from the ranges and builds results of those sizes."""

    def __init__(self, ranges: list[SizeRange], seed: int) -> None:
        self.ranges = ranges
        self.weights = [size_range.weight for size_range in ranges]
        self.rng = random.Random(seed)

    def draw(self) -> int:
        """One result size in bytes."""
        (chosen,) = self.rng.choices(self.ranges, self.weights)
        return self.rng.randint(chosen.low, chosen.high)

    @staticmethod
    def result(guid: str, seq: int, size: int) -> dict[str, Any]:
        """A compile-result-shaped dict whose JSON (with `guid`) is about `size` bytes long."""
        body: dict[str, Any] = {"code": 0, "okToCache": True, "execTime": 1, "seq": seq, "stdout": ""}
        overhead = len(json.dumps({**body, "guid": guid}, separators=(",", ":")))
        body["stdout"] = "x" * max(0, size - overhead)
        return body
