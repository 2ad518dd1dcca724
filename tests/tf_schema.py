"""hashicorp/aws's Terraform schema, read as data from cdktn-provider-aws's jsii assembly.

`cdktn_provider_aws/_jsii/*.jsii.tgz` holds the assembly generated from the provider's schema
(hashicorp/aws 6.69.1 for cdktn-provider-aws 25.8.1). Every Config struct property documents its
Terraform name (``...#argument_name``), and nested blocks are structs of their own, so the
argument tree of every resource and data source can be rebuilt without importing the package
(which would start Node).
"""

from __future__ import annotations

import importlib.util
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/aws/([\d.]+)/docs/(resources|data-sources)/(\w+)(?:#(\w+))?"
)
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"}


@dataclass
class Block:
    """The arguments and nested blocks allowed at one level of a resource."""

    arguments: set[str] = field(default_factory=set)
    blocks: dict[str, Block] = field(default_factory=dict)

    def names(self) -> set[str]:
        return self.arguments | set(self.blocks)


@dataclass
class Schema:
    version: str
    resources: dict[str, Block]
    data_sources: dict[str, Block]


def assembly_path() -> Path | None:
    spec = importlib.util.find_spec("cdktn_provider_aws")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations)), "_jsii").glob("*.jsii.tgz"))
    return found[0] if found else None


def _struct_fqn(type_ref: dict[str, Any]) -> str | None:
    """The struct a property's type refers to, through unions and collections."""
    if "fqn" in type_ref:
        return type_ref["fqn"] if not type_ref["fqn"].startswith("cdktn.") else None
    if "collection" in type_ref:
        return _struct_fqn(type_ref["collection"]["elementtype"])
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            fqn = _struct_fqn(option)
            if fqn is not None:
                return fqn
    return None


def _block(types: dict[str, Any], fqn: str, seen: frozenset[str] = frozenset()) -> Block:
    block = Block()
    for prop in types[fqn].get("properties", []):
        docs = prop.get("docs", {})
        match = _LINK.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
        if match is None or match.group(4) is None:
            continue
        name = match.group(4)
        nested = _struct_fqn(prop["type"])
        if (
            nested is not None
            and nested in types
            and types[nested].get("kind") == "interface"
            and nested not in seen
        ):
            block.blocks[name] = _block(types, nested, seen | {fqn})
        else:
            block.arguments.add(name)
    return block


def load(path: Path) -> Schema:
    with tarfile.open(path) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/.jsii"))
        assembly = json.load(archive.extractfile(member))  # type: ignore[arg-type]
    types: dict[str, Any] = assembly["types"]
    resources: dict[str, Block] = {}
    data_sources: dict[str, Block] = {}
    version = ""
    for fqn, spec in types.items():
        if spec.get("kind") != "class" or not spec.get("base", "").startswith("cdktn.Terraform"):
            continue
        docs = spec.get("docs", {})
        match = _LINK.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
        if match is None or match.group(4) is not None:
            continue
        version, kind, name = match.group(1), match.group(2), match.group(3)
        config = fqn + "Config"
        if config not in types:
            continue
        target = resources if kind == "resources" else data_sources
        target[f"aws_{name}"] = _block(types, config)
    return Schema(version, resources, data_sources)
