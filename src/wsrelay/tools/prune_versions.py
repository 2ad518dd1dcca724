"""``wsrelay prune-versions``: delete old published versions of the relay's functions.

Every ``terraform apply`` that changes the code publishes a version (LMI requires published
functions), and a capacity provider holds at most 100 function versions (a hard limit): without
pruning, deployments eventually fail. This keeps, per function:

- the newest ``--keep N`` numeric versions;
- the newest version of all, which ``$LATEST.PUBLISHED`` resolves to (never deleted, whatever N);
- every version an alias points to, including versions in an alias's weighted routing;
- every version that carries a provisioned concurrency configuration;

and deletes the rest (``--dry-run`` only lists them). A failed delete (or a function that cannot
be listed) is reported and the others go on; the exit status is 1 if any failed, 3 with one line
when AWS cannot be reached at all (no credentials or region, the endpoint unreachable).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wsrelay.cli.command import Command


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wsrelay prune-versions``."""
    parser.add_argument("functions", nargs="+", metavar="FUNCTION", help="function names or ARNs")
    parser.add_argument("--keep", type=int, required=True, metavar="N", help="newest versions to keep (>= 1)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.add_argument("--region", metavar="REGION", help="AWS region (default: the environment's)")


def run(args: argparse.Namespace, client: Any = None) -> int:
    """Prune; 1 if a delete (or a listing) failed, `CannotRun` (exit 3) when AWS cannot be reached."""
    from wsrelay.cli.checks import CannotRun, UsageError

    if args.keep < 1:
        raise UsageError(f"--keep must be at least 1, got {args.keep}")
    from botocore.exceptions import BotoCoreError

    try:
        if client is None:
            import boto3
            from botocore.config import Config

            # Fail within seconds when AWS cannot be reached, not after botocore's long retries.
            config = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 2})
            client = boto3.client("lambda", region_name=args.region, config=config)
        failures = prune(client, args.functions, args.keep, args.dry_run, print)
    except BotoCoreError as error:  # no credentials or region, the endpoint unreachable
        raise CannotRun(str(error)) from None
    return 1 if failures else 0


def main(argv: list[str] | None = None, client: Any = None) -> int:
    """``wsrelay prune-versions`` on `argv`, with a Lambda `client` of the caller's (tests)."""
    from wsrelay.cli.command import Parser, execute

    parser = Parser(prog="wsrelay prune-versions", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return execute(dataclasses.replace(COMMAND, run=functools.partial(run, client=client)), args)


DESCRIPTION = """\
Delete old published versions of the relay's Lambda functions. A capacity provider holds at most
100 function versions, and every apply that changes the code publishes one. Per function this
keeps the newest --keep N versions, the newest version of all ($LATEST.PUBLISHED), every version
an alias points to (weighted routing included) and every version with provisioned concurrency,
and deletes the rest (--dry-run lists them). Exit 1 if a delete or a listing failed, 3 when AWS
cannot be reached."""


COMMAND = Command(
    name="prune-versions",
    summary="delete old published versions of the relay's Lambda functions",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
)


if __name__ == "__main__":
    sys.exit(main())
