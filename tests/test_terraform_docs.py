"""The module README's inputs and outputs tables: generated from variables.tf and outputs.tf by
scripts/terraform_docs.py, and failing here as soon as they are out of date."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from types import ModuleType

import pytest
from terraform_support import MODULE, ROOT, parse

pytestmark = pytest.mark.terraform

SCRIPT = ROOT / "scripts" / "terraform_docs.py"


@pytest.fixture(scope="module")
def docs() -> ModuleType:
    """scripts/terraform_docs.py, imported (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("terraform_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_names(readme: str, heading: str) -> list[str]:
    """The first column of the table under `heading`, in order."""
    section = readme.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows[1:]]  # past the header row


def test_the_readme_tables_are_current(docs, capsys):
    assert docs.main(["--check", str(MODULE)]) == 0, capsys.readouterr().out


def test_every_input_and_output_is_in_the_tables_in_file_order():
    readme = (MODULE / "README.md").read_text()
    module = parse(MODULE)
    assert table_names(readme, "### Inputs") == [k for entry in module["variable"] for k in entry]
    assert table_names(readme, "### Outputs") == [k for entry in module["output"] for k in entry]


def test_check_fails_on_a_stale_readme_and_the_rewrite_fixes_it(docs, tmp_path, capsys):
    for name in ("variables.tf", "outputs.tf", "README.md"):
        shutil.copy(MODULE / name, tmp_path)
    with (tmp_path / "variables.tf").open("a") as handle:
        handle.write('\nvariable "added" {\n  description = "A <new> | input."\n  type = number\n}\n')
    assert docs.main(["--check", str(tmp_path)]) == 1
    assert "+| added |" in capsys.readouterr().out
    assert docs.main([str(tmp_path)]) == 0 and docs.main(["--check", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text()
    assert table_names(readme, "### Inputs")[-1] == "added"
    # what is outside the markers is kept as written
    before = (MODULE / "README.md").read_text().split(docs.BEGIN)[0]
    assert readme.split(docs.BEGIN)[0] == before
    assert "| A &lt;new&gt; \\| input. | `number` | n/a | yes |" in readme


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
