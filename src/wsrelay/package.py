"""Build the Lambda deployment package: ``python -m wsrelay.package [--output PATH]``.

The zip holds exactly the static import closure of `wsrelay.handlers` (`import_closure`): every
``wsrelay`` module named by an import statement reachable from it, at any depth of the code
(inside functions and under ``TYPE_CHECKING`` included), with the packages that hold them. The
local stack, the clients, the operator tools and the test doubles are never in it because the
handlers never name them. Beside it: every runtime dependency in wsrelay's requirement closure
except what the Lambda Python runtime already provides (boto3, botocore and theirs). It is built here
(x86-64, CPython 3.11) for arm64/python3.13, so only pure-Python files are accepted: a compiled
extension in the closure is an error, not a silent wrong-architecture package.

Byte-for-byte reproducible: entries sorted, fixed timestamps and permissions, no bytecode, so
Terraform's ``source_code_hash`` changes only when the code does.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import wsrelay

RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
ENTRY_MODULE = "wsrelay.handlers"
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
DEFAULT_OUTPUT = Path("dist/wsrelay-lambda.zip")


class PackagingError(RuntimeError):
    """The package cannot be built as a portable, pure-Python Lambda zip."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# The Lambda runtime the zip is for (terraform/modules/wsrelay: python3.13): a requirement whose
# marker is false there (PyJWT's ``typing_extensions; python_version < "3.11"``) is not shipped.
TARGET_PYTHON = (3, 13)
_PYTHON_VERSION_MARKER = re.compile(r"""^python_version\s*(<=|>=|==|!=|<|>)\s*["'](\d+)\.(\d+)["']$""")
_COMPARE = {
    "<": tuple.__lt__,
    "<=": tuple.__le__,
    ">": tuple.__gt__,
    ">=": tuple.__ge__,
    "==": tuple.__eq__,
    "!=": tuple.__ne__,
}


def _applies(marker: str) -> bool:
    """Whether a requirement's environment marker holds on the target runtime. ``extra`` and
    ``python_version`` clauses joined by ``and`` are evaluated; anything else counts as true,
    so a dependency is shipped rather than lost."""
    if " or " in marker:
        return "extra" not in marker
    for clause in marker.split(" and "):
        clause = clause.strip().strip("()").strip()
        if clause.startswith("extra"):
            return False
        match = _PYTHON_VERSION_MARKER.match(clause)
        if match and not _COMPARE[match.group(1)](TARGET_PYTHON, (int(match.group(2)), int(match.group(3)))):
            return False
    return True


def _requirement_name(requirement: str) -> str | None:
    """The distribution name of a requirement string, or None if it is behind an extra or its
    marker does not hold on the target runtime."""
    if ";" in requirement and not _applies(requirement.split(";", 1)[1]):
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return _normalize(match.group(1)) if match else None


def runtime_closure(root: str = "wsrelay") -> list[str]:
    """Distributions to ship: `root`'s requirement closure minus the runtime-provided ones."""
    seen: set[str] = set()
    pending = [
        name for req in (metadata.requires(root) or []) if (name := _requirement_name(req)) is not None
    ]
    while pending:
        name = pending.pop()
        if name in seen or name in RUNTIME_PROVIDED:
            continue
        seen.add(name)
        for req in metadata.requires(name) or []:
            child = _requirement_name(req)
            if child is not None:
                pending.append(child)
    return sorted(seen)


def _module_file(package_dir: Path, module: str) -> Path | None:
    """The source file of ``wsrelay`` module `module`, or None if it names no module."""
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _named_modules(tree: ast.AST) -> Iterator[str]:
    """Every ``wsrelay`` module an import statement in `tree` may name, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            # ``from wsrelay.x import y``: y is a submodule or a name; _module_file tells.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_closure(entry: str = ENTRY_MODULE) -> list[str]:
    """The ``wsrelay`` modules reachable from `entry` by import statements, with their packages."""
    package_dir = Path(wsrelay.__file__).parent
    seen: set[str] = set()
    pending = [entry]
    while pending:
        module = pending.pop()
        if module in seen or not (module == "wsrelay" or module.startswith("wsrelay.")):
            continue
        path = _module_file(package_dir, module)
        if path is None:
            continue
        seen.add(module)
        parent = module.rpartition(".")[0]
        if parent:
            pending.append(parent)
        pending.extend(_named_modules(ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return sorted(seen)


def _own_files(entry: str = ENTRY_MODULE) -> Iterator[tuple[str, Path]]:
    package_dir = Path(wsrelay.__file__).parent
    for module in import_closure(entry):
        path = _module_file(package_dir, module)
        assert path is not None  # import_closure keeps only modules with a file
        yield f"wsrelay/{path.relative_to(package_dir).as_posix()}", path


def _dependency_files(names: Iterable[str]) -> Iterator[tuple[str, Path]]:
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            arcname = file.as_posix()
            if arcname.startswith("..") or "__pycache__" in arcname:
                continue
            if arcname.endswith(EXCLUDED_SUFFIXES):
                continue
            if arcname.endswith(COMPILED_SUFFIXES):
                raise PackagingError(
                    f"{name} ships a compiled extension ({arcname}); the Lambda zip is built "
                    "for arm64/python3.13 and accepts pure-Python dependencies only"
                )
            yield arcname, Path(str(dist.locate_file(file)))


def build(output: Path = DEFAULT_OUTPUT) -> Path:
    """Write the zip to `output` and return its path."""
    entries = dict(_own_files())
    for arcname, path in _dependency_files(runtime_closure()):
        entries.setdefault(arcname, path)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, entries[arcname].read_bytes(), compresslevel=9)
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wsrelay package`` (and ``python -m wsrelay.package``)."""
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE.zip",
        help=f"the zip to write (default: {DEFAULT_OUTPUT})",
    )


def run(args: argparse.Namespace) -> int:
    """Build the zip; print its path, size, file count and sha256. `CannotRun` (exit 3) when a
    dependency is compiled or the file cannot be written."""
    from wsrelay.cli.checks import CannotRun, check_output

    check_output(args.output, "--output", ".zip")
    try:
        path = build(args.output)
    except PackagingError as error:
        raise CannotRun(str(error)) from None
    except OSError as error:
        raise CannotRun(f"--output {args.output}: cannot write: {error.strerror or error}") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"{path} {path.stat().st_size} bytes, {count} files, sha256 {digest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m wsrelay.package``: the same as ``wsrelay package``."""
    from wsrelay.cli.main import main as wsrelay

    return wsrelay(["package", *(argv if argv is not None else sys.argv[1:])])


def _command() -> Any:
    from wsrelay.cli.command import Command

    return Command(
        name="package",
        summary="build the Lambda zip (dist/wsrelay-lambda.zip)",
        description="Build the Lambda deployment package: the handlers' import closure and its pure-Python\n"
        "dependencies, byte-for-byte reproducible.",
        add_arguments=add_arguments,
        run=run,
    )


COMMAND = _command()


if __name__ == "__main__":
    sys.exit(main())
