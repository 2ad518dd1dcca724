"""One way to declare a setting: a dataclass field that carries its flag, help, default, unit and
check (`setting`). Every subcommand's flags (`add_arguments`), TOML keys and validation
(`build`) derive from that one declaration, so a new setting is one line and its help cannot
drift from the field.

Conventions it enforces for every subcommand:
- the flag is ``--`` plus the field name with ``-`` for ``_``; a duration's field (and so its
  flag) ends in ``_s`` or ``_ms`` (checked when the class is declared: `check_units`);
- a boolean is ``--name`` / ``--no-name``; choices are shown in their order (None, an unset
  optional, passes them as it passes every check);
- the help says the default only when there is one (never ``(default: None)``);
- a TOML file (``--config FILE``) sets the same keys (the field names), flags win over it;
- a bad value is a `UsageError` that names the flag (or the TOML key and file).

The Lambda's `wsrelay.config.Settings.from_env` stays hand-written: its import cost matters.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from wsrelay.cli.checks import UsageError, load_toml

Check = Callable[[Any], str | None]  # the problem with a value, or None
T = TypeVar("T")
KEY = "wsrelay.cli"
DURATION_UNITS = ("s", "ms")


@dataclass(frozen=True)
class Spec:
    """What a field declares besides its name, type and default."""

    help: str
    check: Check | None = None
    unit: str | None = None  # "s", "ms", "MiB", "jobs/s", ...: shown in the help
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None  # flag text -> value (default: from the type)
    from_toml: Callable[[Any], Any] | None = None  # TOML value -> value (default: type checks)
    repeatable: bool = False  # the flag may be given several times; the value is a tuple
    positional: bool = False
    required: bool = False  # a flag that must be given (never a TOML key: pair with toml=False)
    toml: bool = True  # False: a flag only (an output path, say), not a TOML key
    shown_default: str | None = None  # how the help shows a default that is computed


def setting(default: Any, help: str, **spec: Any) -> Any:
    """A dataclass field that is also a flag and a TOML key (see `Spec` for the keywords)."""
    meta = {KEY: Spec(help, **spec)}
    if isinstance(default, list | dict | set):
        frozen = default
        return dataclasses.field(default_factory=lambda: type(frozen)(frozen), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _spec(f: dataclasses.Field[Any]) -> Spec | None:
    spec = f.metadata.get(KEY)
    return spec if isinstance(spec, Spec) else None


def declared(cls: type) -> list[tuple[dataclasses.Field[Any], Spec]]:
    """The fields of `cls` declared with `setting`, in order."""
    return [(f, spec) for f in dataclasses.fields(cls) if (spec := _spec(f)) is not None]


def flag_of(name: str) -> str:
    """The flag of field `name`."""
    return "--" + name.replace("_", "-")


def check_units(cls: type) -> None:
    """Refuse a duration whose name does not carry its unit (a declaration bug, not bad input)."""
    for f, spec in declared(cls):
        if spec.unit in DURATION_UNITS and not f.name.endswith(f"_{spec.unit}"):
            raise TypeError(f"{cls.__name__}.{f.name}: a duration in {spec.unit} must end in _{spec.unit}")


# -- checks ---------------------------------------------------------------------------------------


def between(low: float, high: float) -> Check:
    """A number in ``low..high`` (None passes: an unset optional)."""
    return lambda v: None if v is None or (low <= v <= high) else f"must be {low:g}..{high:g}"


def positive(v: float | None) -> str | None:
    """A positive finite number (None passes)."""
    return None if v is None or 0 < v < math.inf else "must be a positive finite number"


def non_negative(v: float | None) -> str | None:
    """Zero or a positive finite number (None passes)."""
    return None if v is None or 0 <= v < math.inf else "must be a finite number, not negative"


def fraction(v: float) -> str | None:
    """A fraction 0..1."""
    return None if 0.0 <= v <= 1.0 else "must be a fraction between 0 and 1"


def at_least(low: int) -> Check:
    """An integer of at least `low` (None passes)."""
    return lambda v: None if v is None or v >= low else f"must be at least {low}"


def all_of(*checks: Check) -> Check:
    """Every check in turn; the first problem."""

    def check(value: Any) -> str | None:
        return next((p for c in checks if (p := c(value)) is not None), None)

    return check


# -- parsing --------------------------------------------------------------------------------------


def _base_type(kind: Any) -> Any:
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is tuple:
        return tuple
    return args[0] if args and typing.get_origin(kind) is not tuple else kind


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_finite_float.__name__ = "number"  # argparse says "invalid number value: 'x'"


def _with_message(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """`parse` whose ValueError message is the flag's error (argparse would say "invalid value")."""

    def parse_flag(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            if not str(error):
                raise
            raise argparse.ArgumentTypeError(str(error)) from None

    parse_flag.__name__ = getattr(parse, "__name__", "value")
    return parse_flag


def _flag_parser(kind: Any, spec: Spec) -> Callable[[str], Any]:
    if spec.parse is not None:
        return _with_message(spec.parse)
    base = _base_type(kind)
    if base is float:
        return _finite_float
    if base in (int, str, Path):
        return typing.cast(Callable[[str], Any], base)
    return str


def _from_toml(name: str, kind: Any, spec: Spec, value: Any) -> Any:
    """A TOML value as the field's type, or `UsageError` naming the key."""
    if spec.from_toml is not None:
        return spec.from_toml(value)
    base = _base_type(kind)
    if value is None:
        return None
    if base is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{name}: expected true or false, got {value!r}")
        return value
    if base in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{name}: expected a number, got {value!r}")
        if base is int and value != int(value):
            raise UsageError(f"{name}: expected an integer, got {value!r}")
        return int(value) if base is int else float(value)
    if base is Path:
        return Path(str(value))
    if spec.repeatable:
        if not isinstance(value, list):
            raise UsageError(f"{name}: expected a list, got {value!r}")
        return tuple(spec.parse(str(v)) if spec.parse else v for v in value)
    if spec.parse is None and not isinstance(value, str):
        raise UsageError(f"{name}: expected a string, got {value!r}")
    return spec.parse(str(value)) if spec.parse else value


def _shown(f: dataclasses.Field[Any], spec: Spec) -> str | None:
    if spec.shown_default is not None:
        return spec.shown_default
    if f.default is dataclasses.MISSING or f.default is None or f.default in ((), "", False):
        return None
    if isinstance(f.default, float):
        return f"{f.default:g}"
    return str(f.default)


def _metavar(kind: Any, spec: Spec) -> str:
    if spec.unit in DURATION_UNITS:
        return spec.unit.upper()
    base = _base_type(kind)
    return {int: "N", float: "X", Path: "PATH"}.get(base, "TEXT")


def add_arguments(parser: argparse.ArgumentParser | Any, cls: type) -> None:
    """Every declared field of `cls` as a flag (or positional) of `parser` (or an argument group).

    Flags default to `argparse.SUPPRESS`: only what was given is in the namespace, so a TOML file
    can sit between the defaults and the flags (`build`)."""
    hints = typing.get_type_hints(cls)
    for f, spec in declared(cls):
        kind = hints[f.name]
        shown = _shown(f, spec)
        unit = f" [{spec.unit}]" if spec.unit and spec.unit not in DURATION_UNITS else ""
        text = spec.help + unit + (f" (default: {shown})" if shown is not None else "")
        options: dict[str, Any] = {"help": text.replace("%", "%%")}
        if spec.positional:
            parser.add_argument(f.name, type=_flag_parser(kind, spec), metavar=spec.metavar, **options)
            continue
        options["dest"] = f.name
        options["default"] = argparse.SUPPRESS
        if _base_type(kind) is bool:
            parser.add_argument(flag_of(f.name), action=argparse.BooleanOptionalAction, **options)
            continue
        if spec.choices is not None:
            options["choices"] = spec.choices
        else:
            options["metavar"] = spec.metavar or _metavar(kind, spec)
        if spec.repeatable:
            options["action"] = "append"
        if spec.required:
            options["required"] = True
        parser.add_argument(flag_of(f.name), type=_flag_parser(kind, spec), **options)


def from_toml_file(cls: type, path: Path) -> dict[str, Any]:
    """The declared keys of a TOML file as field values; `UsageError` naming a bad key."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: (f, spec) for f, spec in declared(cls) if spec.toml and not spec.positional}
    values: dict[str, Any] = {}
    for key, value in load_toml(path).items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise UsageError(f"{path}: unknown key {key!r} (known: {known})")
        _field, spec = fields[key]
        try:
            values[key] = _from_toml(f"{path}: {key}", hints[key], spec, value)
        except ValueError as error:
            if isinstance(error, UsageError):
                raise
            raise UsageError(f"{path}: {key}: {error}") from None
    return values


def build(cls: type[T], args: argparse.Namespace, config: Path | None = None) -> T:
    """An instance of `cls` from its defaults, then TOML file `config`, then the flags in `args`;
    every declared check run, then the class's own ``validate()`` if it has one."""
    values = from_toml_file(cls, config) if config is not None else {}
    given: set[str] = set()
    for f, spec in declared(cls):
        if hasattr(args, f.name):
            value = getattr(args, f.name)
            values[f.name] = tuple(value) if spec.repeatable else value
            given.add(f.name)
    instance = cls(**values)
    for f, spec in declared(cls):
        value = getattr(instance, f.name)
        items: Iterable[Any] = value if spec.repeatable else (value,)
        for item in items:
            if spec.choices is not None and item is not None and item not in spec.choices:
                problem: str | None = f"must be one of {', '.join(spec.choices)}"
            else:
                problem = spec.check(item) if spec.check is not None else None
            if problem is not None:
                if spec.positional:
                    where = (spec.metavar or f.name).upper()
                elif f.name in given or config is None:
                    where = flag_of(f.name)
                else:
                    where = f"{config}: {f.name}"
                shown = f"{item:g}" if isinstance(item, float) else repr(item)
                raise UsageError(f"{where} {problem}, got {shown}")
    validate = getattr(instance, "validate", None)
    if callable(validate):
        result = validate()
        if isinstance(result, cls):
            return result
    return instance
