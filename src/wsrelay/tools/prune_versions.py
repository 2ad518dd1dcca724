"""``wsrelay prune-versions``: delete old published versions of the relay's functions.

Every ``terraform apply`` that changes the code publishes a version (LMI requires published
functions), and a capacity provider holds at most 100 function versions (a hard limit): without
pruning, deployments eventually fail. This keeps, per function:

- the newest ``--keep N`` numeric versions;
- the newest version of all, which ``$LATEST.PUBLISHED`` resolves to (never deleted, whatever N);
- every version an alias points to, including versions in an alias's weighted routing;
- every version that carries a provisioned concurrency configuration;

and deletes the rest (``--dry-run`` only lists them). A failed delete (or a function that cannot
be listed) is reported and the others go on; the exit status is 1 if any failed, 2 with one line
when AWS cannot be reached at all (no credentials or region, the endpoint unreachable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PrunePlan:
    """What happens to one function's versions."""

    function: str
    keep: list[int] = field(default_factory=list)
    protected: dict[int, str] = field(default_factory=dict)  # version -> why
    delete: list[int] = field(default_factory=list)


def _pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    marker: str | None = None
    while True:
        page = call(**kwargs, **({"Marker": marker} if marker else {}))
        yield from page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return


def plan(client: Any, function: str, keep: int) -> PrunePlan:
    """Decide, without deleting anything, which versions of `function` go."""
    versions = sorted(
        int(v["Version"])
        for v in _pages(client.list_versions_by_function, "Versions", FunctionName=function)
        if v["Version"].isdigit()
    )
    result = PrunePlan(function)
    if not versions:
        return result
    result.protected[versions[-1]] = "$LATEST.PUBLISHED (newest)"
    for alias in _pages(client.list_aliases, "Aliases", FunctionName=function):
        if alias["FunctionVersion"].isdigit():
            result.protected.setdefault(int(alias["FunctionVersion"]), f"alias {alias['Name']}")
        weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
        for version in weights:
            if version.isdigit():
                result.protected.setdefault(int(version), f"alias {alias['Name']} routing")
    for config in _pages(
        client.list_provisioned_concurrency_configs, "ProvisionedConcurrencyConfigs", FunctionName=function
    ):
        qualifier = config["FunctionArn"].rsplit(":", 1)[-1]
        if qualifier.isdigit():
            result.protected.setdefault(int(qualifier), "provisioned concurrency")
    result.keep = versions[-keep:]
    result.delete = [v for v in versions if v not in result.protected and v not in result.keep]
    return result


def prune(client: Any, functions: list[str], keep: int, dry_run: bool, out: Callable[[str], None]) -> int:
    """Plan and (unless `dry_run`) delete; returns the number of failed deletes."""
    from botocore.exceptions import ClientError

    failures = 0
    for function in functions:
        try:
            decided = plan(client, function, keep)
        except ClientError as error:  # this function (not found, access denied): go on
            failures += 1
            out(f"{function}: NOT listed: {error}")
            continue
        kept = sorted(set(decided.keep) | set(decided.protected))
        out(f"{function}: keep {kept or 'none'}; delete {decided.delete or 'none'}")
        for version, why in sorted(decided.protected.items()):
            out(f"  {version}: protected ({why})")
        for version in decided.delete:
            if dry_run:
                out(f"  {version}: would delete (dry run)")
                continue
            try:
                client.delete_function(FunctionName=function, Qualifier=str(version))
                out(f"  {version}: deleted")
            except Exception as error:  # a ClientError: report it, go on with the others
                failures += 1
                out(f"  {version}: NOT deleted: {error}")
    return failures


def main(argv: list[str] | None = None, client: Any = None) -> int:
    """Command-line entry point (``wsrelay prune-versions``)."""
    parser = argparse.ArgumentParser(
        prog="wsrelay prune-versions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("functions", nargs="+", metavar="FUNCTION", help="function names or ARNs")
    parser.add_argument("--keep", type=int, required=True, metavar="N", help="newest versions to keep (>= 1)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1")
    from botocore.exceptions import BotoCoreError

    try:
        if client is None:
            import boto3

            client = boto3.client("lambda", region_name=args.region)
        failures = prune(client, args.functions, args.keep, args.dry_run, print)
    except BotoCoreError as error:  # no credentials or region, the endpoint unreachable
        print(f"wsrelay prune-versions: error: {error}", file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
