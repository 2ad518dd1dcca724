"""How the cost inputs that are not plain numbers are written, as a flag and as TOML: the
(x, y) pairs of ``--profile`` and ``--result-sizes``, the per-function numbers of
``--min-environments`` and the functions of ``--functions``; with the checks of one such value.
`wsrelay.tools.cost.inputs` declares the fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wsrelay.tools import checks

COMPUTE_MODES = ("provisioned", "managed", "ondemand")
FUNCTIONS = ("onconnect", "ondisconnect", "sendmessage")
MAX_RESULT_BYTES = 131072  # API Gateway's largest WebSocket message
MIN_ENVIRONMENTS_RANGE = (0, 15000)  # FunctionScalingConfig.MinExecutionEnvironments


@dataclass(frozen=True)
class Function:
    """One Lambda function of a deployment: compute mode, memory, provisioned concurrency."""

    compute: str
    memory_mb: int
    provisioned: int = 0


@dataclass(frozen=True, repr=False)
class CustomFunction:
    """One ``--functions NAME=COMPUTE:MEMORY_MB[:PROVISIONED]``: a function of the custom
    deployment (shown as written, so an error quotes it)."""

    name: str
    compute: str
    memory_mb: int
    provisioned: int = 0

    def __repr__(self) -> str:
        provisioned = f":{self.provisioned}" if self.provisioned else ""
        return f"{self.name}={self.compute}:{self.memory_mb}{provisioned}"

    @property
    def function(self) -> Function:
        """As a `Function` of a scenario."""
        return Function(self.compute, self.memory_mb, self.provisioned)


class Points(tuple[tuple[float, float], ...]):
    """(x, y) pairs, shown as the flag writes them (``0:20,60:60``) when an error quotes them."""

    def __repr__(self) -> str:
        return ",".join(f"{x:g}:{y:g}" for x, y in self)


class PerFunction(tuple[tuple[str, int], ...]):
    """A number for each function, in `FUNCTIONS` order, shown as the flag writes it
    (``onconnect=0,ondisconnect=0,sendmessage=3``)."""

    def __repr__(self) -> str:
        return ",".join(f"{name}={n}" for name, n in self)

    @classmethod
    def every(cls, n: int) -> PerFunction:
        """`n` for every function."""
        return cls((name, n) for name in FUNCTIONS)


class Sizes(tuple[tuple[int, float], ...]):
    """(bytes, weight) pairs, shown as the flag writes them (``200:0.1,1024:0.9``)."""

    def __repr__(self) -> str:
        return ",".join(f"{x:g}:{y:g}" for x, y in self)


# -- parsing the values that are not plain numbers --------------------------------------------


def parse_pairs(text: str) -> tuple[tuple[float, float], ...]:
    """``A:B,C:D`` as ((A, B), (C, D)); ValueError saying the expected form."""
    pairs: list[tuple[float, float]] = []
    for part in text.split(","):
        left, sep, right = part.partition(":")
        try:
            if not sep:
                raise ValueError
            pairs.append((float(left), float(right)))
        except ValueError:
            raise ValueError(f"expected X:Y[,X:Y...], got {text!r}") from None
    return Points(pairs)


def pairs_from_toml(value: Any) -> tuple[tuple[float, float], ...]:
    """A TOML list of [x, y] number pairs (or the flag's ``X:Y,...`` text)."""
    if isinstance(value, str):
        return parse_pairs(value)
    if isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(_is_number(x) for x in p) for p in value
    ):
        return Points((float(a), float(b)) for a, b in value)
    raise ValueError("expected a list of [x, y] pairs of numbers")


def parse_sizes(text: str) -> tuple[tuple[int, float], ...]:
    """``BYTES:WEIGHT,...`` with whole bytes."""
    return _sizes(parse_pairs(text))


def sizes_from_toml(value: Any) -> tuple[tuple[int, float], ...]:
    """A TOML list of [bytes, weight] pairs."""
    return _sizes(pairs_from_toml(value))


def _sizes(pairs: tuple[tuple[float, float], ...]) -> tuple[tuple[int, float], ...]:
    if any(size != int(size) for size, _ in pairs):
        raise ValueError("sizes must be whole bytes")
    return Sizes((int(size), weight) for size, weight in pairs)


def per_function(
    default: int,
) -> tuple[Callable[[str], PerFunction], Callable[[Any], PerFunction]]:
    """The flag parser and TOML reader of a number per function, whose unnamed functions keep
    `default`: ``3`` (every function) or ``sendmessage=3,onconnect=0`` on the command line;
    ``3`` or ``{sendmessage = 3, onconnect = 0}`` in TOML."""

    def build(given: dict[str, Any]) -> PerFunction:
        unknown = sorted(set(given) - set(FUNCTIONS))
        if unknown:
            raise ValueError(f"unknown function {unknown[0]!r} (one of {', '.join(FUNCTIONS)})")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in given.values()):
            raise ValueError("expected whole numbers")
        return PerFunction((name, given.get(name, default)) for name in FUNCTIONS)

    def parse(text: str) -> PerFunction:
        try:
            if "=" not in text:
                return PerFunction.every(int(text))
            given = {}
            for part in text.split(","):
                name, _, number = part.partition("=")
                given[name.strip()] = int(number)
        except ValueError:
            raise ValueError(f"expected N or NAME=N[,NAME=N...], got {text!r}") from None
        return build(given)

    def from_toml(value: Any) -> PerFunction:
        if isinstance(value, int) and not isinstance(value, bool):
            return PerFunction.every(value)
        if isinstance(value, str):
            return parse(value)
        if not isinstance(value, dict):
            raise ValueError("expected a number, or a table of function = number")
        return build(value)

    return parse, from_toml


def parse_function(spec: str) -> CustomFunction:
    """``sendmessage=managed:2048`` or ``onconnect=provisioned:128:1``."""
    name, _, rest = spec.partition("=")
    parts = rest.split(":")
    if name not in FUNCTIONS or len(parts) not in (2, 3):
        raise ValueError(
            f"expected NAME=COMPUTE:MEMORY_MB[:PROVISIONED] with NAME one of {', '.join(FUNCTIONS)}, "
            f"got {spec!r}"
        )
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        raise ValueError(f"memory and provisioned must be integers, got {spec!r}") from None
    return CustomFunction(name, parts[0], numbers[0], numbers[1] if len(numbers) == 2 else 0)


def functions_from_toml(value: Any) -> tuple[CustomFunction, ...]:
    """``[functions.NAME]`` tables of compute, memory_mb and provisioned (or a list of the flag's
    ``NAME=COMPUTE:MEMORY_MB[:PROVISIONED]`` strings)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(parse_function(v) for v in value)
    if not isinstance(value, dict):
        raise ValueError("expected a table of NAME = {compute, memory_mb, provisioned}")
    out = []
    for name, spec in value.items():
        if name not in FUNCTIONS or not isinstance(spec, dict):
            raise ValueError(f"unknown function {name!r} (one of {', '.join(FUNCTIONS)})")
        if not {"compute", "memory_mb"} <= set(spec) <= {"compute", "memory_mb", "provisioned"}:
            raise ValueError(f"{name}: expected keys compute, memory_mb and optionally provisioned")
        compute, memory, provisioned = spec["compute"], spec["memory_mb"], spec.get("provisioned", 0)
        if not isinstance(compute, str) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (memory, provisioned)
        ):
            raise ValueError(f"{name}: compute must be a string, memory_mb and provisioned integers")
        out.append(CustomFunction(name, compute, memory, provisioned))
    return tuple(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- checks of one field ------------------------------------------------------------------------


def below_one(v: float) -> str | None:
    """A fraction from 0 to below 1."""
    return None if 0 <= v < 1 else "must be a fraction from 0 to below 1"


def at_least_one(v: float) -> str | None:
    """A factor of at least 1 (a peak over its mean)."""
    return None if 1.0 <= v < float("inf") else "must be at least 1 (the peak is the mean times this)"


def up_to(high: float, why: str) -> Callable[[float], str | None]:
    """A fraction 0..`high`, saying `why` when it is not."""
    return lambda v: None if 0 <= v <= high else f"must be 0..{high:g} ({why})"


def check_profile(points: tuple[tuple[float, float], ...]) -> str | None:
    times = [t for t, _ in points]
    if times != sorted(times):
        return "must have increasing minutes"
    return None if all(r >= 0 for _, r in points) else "must have rates >= 0"


def check_min_environments(values: tuple[tuple[str, int], ...]) -> str | None:
    """MinExecutionEnvironments: 0..15000 (AWS's range), for every function."""
    low, high = MIN_ENVIRONMENTS_RANGE
    bad = [f"{name}={n}" for name, n in values if not low <= n <= high]
    return f"must be {low}..{high} for each function ({', '.join(bad)})" if bad else None


def check_result_sizes(sizes: tuple[tuple[int, float], ...]) -> str | None:
    if not sizes:
        return "must not be empty"
    for size, weight in sizes:
        if not 0 < size <= MAX_RESULT_BYTES:
            return f"has {size} bytes, outside 1..{MAX_RESULT_BYTES} (API Gateway's limit)"
        if not weight > 0:
            return f"has weight {weight:g}, which must be positive"
    return None


def check_function(f: CustomFunction) -> str | None:
    if f.compute not in COMPUTE_MODES:
        return f"has compute {f.compute!r}, not one of {', '.join(COMPUTE_MODES)}"
    if f.compute != "managed" and checks.lambda_memory_mb(f.memory_mb) is not None:
        return "needs memory 128..10240 MB"
    return None if f.provisioned >= 0 else "needs provisioned >= 0"
