"""Write the inputs and outputs tables of a Terraform module's README from its variables.tf and
outputs.tf (python-hcl2), between the markers ``<!-- BEGIN_TF_DOCS -->`` and
``<!-- END_TF_DOCS -->``; the rest of the README is left as written.

    python scripts/terraform_docs.py [MODULE_DIR]           # rewrite MODULE_DIR/README.md
    python scripts/terraform_docs.py --check [MODULE_DIR]   # exit 1 (and show a diff) if stale

MODULE_DIR defaults to terraform/modules/wsrelay. tests/test_terraform_docs.py runs the check.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODULE = ROOT / "terraform" / "modules" / "wsrelay"
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
# Quoted strings stay quoted (a default "x" is shown as "x"), heredocs come back as strings.
_OPTIONS = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, body) of every `kind` block in the file, in file order."""
    if not path.exists():
        return []
    with path.open() as handle:
        parsed = hcl2.load(handle, serialization_options=_OPTIONS)
    return [(label.strip('"'), body) for entry in parsed.get(kind, []) for label, body in entry.items()]


def _string(value: Any) -> str:
    """A quoted HCL string as python-hcl2 keeps it, unquoted and unescaped."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except json.JSONDecodeError:
            return value[1:-1]
    return str(value)


def _hcl(value: Any) -> str:
    """A default as HCL would write it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [(k, v) for k, v in value.items() if not k.startswith("__")]
        return "{" + ", ".join(f"{k.strip(chr(34))} = {_hcl(v)}" for k, v in items) + "}" if items else "{}"
    return str(value)


def _expression(value: Any) -> str:
    """A type expression without python-hcl2's ``${...}``."""
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _cell(text: str) -> str:
    """Markdown table cell: paragraphs joined, list items on lines of their own, pipes escaped,
    and `<`, `>` as entities (a `<prefix>` would otherwise vanish as an unknown HTML tag)."""
    text = html.escape(text, quote=False)
    lines = [line.strip() for line in textwrap.dedent(text).strip().splitlines()]
    joined = ""
    for line in lines:
        if not line:
            continue
        joined += ("<br>" if line.startswith("- ") and joined else " " if joined else "") + line
    return joined.replace("|", "\\|")


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def render(module: Path) -> str:
    """The generated part of the README: inputs, then outputs, each a table."""
    rows = [
        "### Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, body in _blocks(module / "variables.tf", "variable"):
        required = "default" not in body
        default = "n/a" if required else _code(_hcl(body["default"]))
        description = _cell(_string(body.get("description", "")))
        rows.append(
            f"| {name} | {description} | {_code(_expression(body.get('type', 'any')))} | {default} | "
            f"{'yes' if required else 'no'} |"
        )
    rows += ["", "### Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, body in _blocks(module / "outputs.tf", "output"):
        rows.append(f"| {name} | {_cell(_string(body.get('description', '')))} |")
    return "\n".join(rows) + "\n"


def update(readme: str, tables: str) -> str:
    """The README with the text between the markers replaced by `tables`."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README needs the markers {BEGIN} and {END}")
    return readme[: start + len(BEGIN)] + "\n" + tables + readme[end:]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README (0), or with --check report whether it is current (0) or not (1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("module", nargs="?", type=Path, default=DEFAULT_MODULE, help="the module directory")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when the tables are stale")
    args = parser.parse_args(argv)
    readme_path = args.module / "README.md"
    current = readme_path.read_text()
    wanted = update(current, render(args.module))
    if wanted == current:
        return 0
    if args.check:
        diff = difflib.unified_diff(
            current.splitlines(), wanted.splitlines(), "README.md", "generated", lineterm=""
        )
        print("\n".join(diff))
        print(f"{readme_path} is out of date: run python scripts/terraform_docs.py", file=sys.stderr)
        return 1
    readme_path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
