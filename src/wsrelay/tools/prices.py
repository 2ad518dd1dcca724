"""Prices for one region, read from ``prices.toml`` (shipped beside this module), and the rules
that make an instance type eligible for Lambda Managed Instances (`ineligibility`, and
`lmi_instance`, which both `wsrelay cost` and `wsrelay simulate` use to judge ``--instance-type``).

Every row of the data file carries its source and the date it was checked; nothing here holds a
price of its own.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError

ELIGIBLE_FAMILIES = ("c", "m", "r")
# Sizes below .large; LMI launches .large and bigger only.
TOO_SMALL_SIZES = ("nano", "micro", "small", "medium")
_TYPE_RE = re.compile(r"^([a-z]+)(\d+)([a-z-]*)\.([a-z0-9]+)$")


class PriceError(UsageError):
    """The prices file or a lookup in it cannot be used (unknown region, type or key): a usage
    error (exit 2), as the file and the region are the user's to choose."""


class IneligibleInstance(PriceError):
    """The instance type cannot run LMI, or cannot hold one execution environment."""


@dataclass(frozen=True)
class Instance:
    """One EC2 instance type with its on-demand price in a region."""

    type: str
    arch: str
    vcpu: int
    memory_gib: float
    usd_hour: float
    source: str
    checked: str


@dataclass(frozen=True)
class PriceRow:
    """One priced item (``lambda.request``, ``nat.hour``...) with its provenance."""

    key: str
    usd: float
    unit: str
    source: str
    checked: str


@dataclass(frozen=True)
class Prices:
    """All prices of one region."""

    region: str
    month_hours: float
    rows: dict[str, PriceRow]
    instances: dict[str, Instance]

    def __getitem__(self, key: str) -> float:
        try:
            return self.rows[key].usd
        except KeyError:
            raise PriceError(f"the prices file has no {key!r} for region {self.region}") from None

    def instance(self, instance_type: str) -> Instance:
        """The priced instance type, or `PriceError` naming the types that are priced."""
        found = self.instances.get(instance_type)
        if found is None:
            known = ", ".join(sorted(self.instances))
            raise PriceError(
                f"--instance-type {instance_type}: no price for {instance_type} in {self.region} "
                f"(priced: {known})"
            )
        return found


def default_path() -> Path:
    """The prices file shipped with wsrelay."""
    return Path(str(resources.files("wsrelay.tools").joinpath("prices.toml")))


def _field(row: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = row.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        expected = "number" if isinstance(kind, tuple) else kind.__name__
        raise PriceError(f"{where}: {name} is missing or not a {expected}")
    return value


_KINDS: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "float": (int, float)}


def _table(
    data: dict[str, Any], table: str, cls: type, region: str, where: str, regions: set[str]
) -> list[Any]:
    """The rows of `table` for `region` as `cls` instances, every field checked for its type."""
    out = []
    for i, row in enumerate(data.get(table, [])):
        at = f"{where} {table} #{i + 1}"
        regions.add(_field(row, "region", str, at))
        if row["region"] != region:
            continue
        values = {}
        for f in dataclasses.fields(cls):
            value = _field(row, f.name, _KINDS[str(f.type)], at)
            values[f.name] = float(value) if f.type == "float" else value
        out.append(cls(**values))
    return out


def load(region: str, path: Path | None = None) -> Prices:
    """The prices of `region` from `path` (default: the shipped file)."""
    if path is not None and not path.is_file():
        raise PriceError(f"--prices {path}: {'not a file' if path.exists() else 'no such file'}")
    path = path or default_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PriceError(f"cannot read prices file {path}: {error}") from None
    regions: set[str] = set()
    rows = {r.key: r for r in _table(data, "price", PriceRow, region, path.name, regions)}
    instances = {i.type: i for i in _table(data, "instance", Instance, region, path.name, regions)}
    if not rows and not instances:
        have = ", ".join(sorted(regions)) or "none"
        raise PriceError(f"--region {region}: no prices for region {region!r} in {path.name} (have: {have})")
    return Prices(region, float(data.get("month_hours", 730)), rows, instances)


def ineligibility(instance_type: str) -> str | None:
    """Why `instance_type` cannot run Lambda Managed Instances, or None if it can."""
    match = _TYPE_RE.match(instance_type)
    if match is None:
        return f"{instance_type!r} is not an EC2 instance type name (e.g. c8g.large)"
    family, _, _, size = match.groups()
    if family not in ELIGIBLE_FAMILIES:
        return f"{instance_type} is not eligible: LMI runs only C, M and R families"
    if size in TOO_SMALL_SIZES:
        return f"{instance_type} is not eligible: LMI needs size .large or bigger"
    return None


def cheapest_eligible(prices: Prices, arch: str = "arm64", fits: Any = None) -> Instance | None:
    """The cheapest priced eligible instance type of `arch` (that `fits(instance)`, if given)."""
    candidates = [
        i
        for i in prices.instances.values()
        if i.arch == arch and ineligibility(i.type) is None and (fits is None or fits(i))
    ]
    return min(candidates, key=lambda i: (i.usd_hour, i.type), default=None)


def environments_on(
    instance: Instance, vcpu: float, memory_mib: float, reserved_vcpu: float = 0.0, reserved_mib: float = 0.0
) -> int:
    """How many LMI environments of `vcpu` and `memory_mib` one instance holds after what is
    held back for the OS and runtime."""
    usable_vcpu = instance.vcpu - reserved_vcpu
    usable_mib = instance.memory_gib * 1024 - reserved_mib
    return int(min(usable_vcpu // vcpu, usable_mib // memory_mib))


def lmi_instance(
    prices: Prices,
    instance_type: str,
    memory_mb: int,
    memory_gib_per_vcpu: int,
    reserved_vcpu: float = 0.0,
    reserved_mib: float = 0.0,
) -> Instance:
    """The priced `instance_type` if LMI runs it and it holds an environment of `memory_mb`;
    else `IneligibleInstance` with the reason and the cheapest eligible type that would."""
    vcpu = memory_mb / 1024 / memory_gib_per_vcpu

    def fits(instance: Instance) -> bool:
        return environments_on(instance, vcpu, memory_mb, reserved_vcpu, reserved_mib) >= 1

    reason = ineligibility(instance_type)
    if reason is None:
        instance = prices.instance(instance_type)
        if fits(instance):
            return instance
        held = f", {reserved_mib:g} MiB held back" if reserved_mib else ""
        reason = (
            f"{instance.type} ({instance.vcpu} vCPU, {instance.memory_gib:g} GiB{held}) "
            f"cannot hold a {memory_mb} MB environment"
        )
    best = cheapest_eligible(prices, fits=fits)
    hint = f"; cheapest eligible: {best.type} (${best.usd_hour:g}/h)" if best else ""
    raise IneligibleInstance(f"--instance-type {reason}{hint}")
