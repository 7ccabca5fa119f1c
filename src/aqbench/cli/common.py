"""What the subcommands share: the parser shape, option groups, the store they name, output lines.

Defaults that the profile also sets are :mod:`aqbench.settings`' (equal to the schema's, which a
test checks), so a hand-run verb and the default profile agree without reading the schema; the
workflow always passes the profile's value, or the experiment's spec (:mod:`aqbench.spec`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aqbench.atomic import atomic_path
from aqbench.settings import DEFAULTS, PRICES

KERNELS = ("reference", "arrow", "ndjson", "seed")

Handler = Callable[[argparse.Namespace], int]


def subcommand(
    sub: argparse._SubParsersAction,
    name: str,
    func: Handler,
    help: str,
    description: str | None = None,
    parents: tuple[argparse.ArgumentParser, ...] = (),
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` shows every default."""
    p = sub.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=list(parents),
    )
    p.set_defaults(func=func)
    return p


def store_options() -> argparse.ArgumentParser:
    """The options naming the object store (``--storage --bucket --state --lithops-tmp --region``)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("object store")
    g.add_argument(
        "--storage",
        choices=("s3-local", "localhost", "aws"),
        help="which object store holds the staged data",
        default=DEFAULTS.storage.kind,
    )
    g.add_argument("--bucket", help="bucket name", default=DEFAULTS.storage.bucket)
    g.add_argument("--state", default="results/default/s3", help="s3-local: the server's state folder")
    g.add_argument(
        "--lithops-tmp",
        default="results/default/lithops-tmp",
        help="localhost: Lithops' temporary folder (its storage lives there)",
    )
    g.add_argument("--region", help="aws: the bucket's region", default=DEFAULTS.storage.region)
    return p


def store_spec(args: argparse.Namespace):
    """The store the options name, as a spec that worker processes can reopen (absolute paths)."""
    from aqbench.storage import StoreSpec

    return StoreSpec(
        args.storage,
        args.bucket,
        {
            "state_dir": str(Path(args.state).resolve()),
            "lithops_tmp": str(Path(args.lithops_tmp).resolve()),
            "region": args.region,
        },
    )


def store_of(spec: Any):
    """The store an experiment's spec names, as a spec that worker processes can reopen (absolute paths)."""
    from aqbench.storage import StoreSpec

    return StoreSpec(
        spec.store.kind,
        spec.store.bucket,
        {
            "state_dir": str(Path(spec.places.state).resolve()),
            "lithops_tmp": str(Path(spec.places.lithops_tmp).resolve()),
            "region": spec.store.region,
        },
    )


def store_from_args(args: argparse.Namespace):
    """The object store named by the store options."""
    return store_spec(args).open()


def lithops_options() -> argparse.ArgumentParser:
    """Where Lithops keeps its files, and which compute backend it uses."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("lithops")
    g.add_argument("--lithops-home", default="results/default/lithops-home", help="Lithops' home folder")
    g.add_argument("--backend", default='{"name": "localhost"}', help="JSON: the Lithops compute backend")
    return p


def experiment_options() -> argparse.ArgumentParser:
    """What every engine's experiment verb takes: the experiment's spec and the paths it reads and writes."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("experiment")
    g.add_argument(
        "--spec",
        required=True,
        help="the experiment's spec: its grid and every setting it runs under (JSON, aqbench.spec; the "
        "workflow writes it to results/<profile>/specs/<engine>/<experiment>.json)",
    )
    g.add_argument("--manifest", required=True, help="the staging manifest")
    g.add_argument(
        "--reference",
        required=True,
        help="the reference partials of the staged objects (computed from the source files by aqbench stage)",
    )
    g.add_argument("--out", required=True, help="folder for calls.parquet, runs.parquet, aggregates/")
    return p


def ledger_options() -> argparse.ArgumentParser:
    """The budget ledger of an AWS run (``--ledger --budget-usd --prices``): what a verb spends is added to it."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("aws budget")
    g.add_argument("--ledger", help="aws: the budget ledger; refuse to start once it reaches --budget-usd")
    g.add_argument("--budget-usd", type=float, help="aws: the budget", default=DEFAULTS.aws.budget_usd)
    g.add_argument("--prices", default=json.dumps(PRICES), help="JSON: the profile's prices")
    g.add_argument("--off-aws", action="store_true", help="aws: this verb reads the bucket from outside AWS "
                   "(this machine, a LocalCluster): charge S3's egress to the ledger")  # fmt: skip
    return p


class Charged:
    """What a verb spends on AWS, added to the ledger however the verb ends (``with Charged(args) as bill``).

    Nothing happens without ``--ledger``. On entry the ledger refuses to start once the budget is
    spent; on exit (completed, failed or interrupted) every ``bill.add(name, usd)`` is recorded."""

    def __init__(self, args: Any):
        """``args``: the ledger options (``prices`` as JSON), or an experiment spec's budget."""
        from aqbench.cost import Prices

        self.ledger = None
        prices = json.loads(args.prices) if isinstance(args.prices, str) else args.prices
        self.prices = Prices.from_config(prices)
        self.budget_usd = args.budget_usd
        self.items: dict[str, float] = {}
        if args.ledger:
            from aqbench.aws.budget import Ledger

            self.ledger = Ledger(Path(args.ledger))

    @classmethod
    def of(cls, budget: Any) -> Charged:
        """An experiment spec's budget (None off AWS: nothing is recorded)."""
        from aqbench.spec import Budget

        return cls(budget or Budget())

    def __enter__(self) -> Charged:
        if self.ledger is not None:
            self.ledger.check(self.budget_usd)
        return self

    def add(self, name: str, usd: float) -> None:
        self.items[name] = self.items.get(name, 0.0) + usd

    def __exit__(self, *exc: object) -> None:
        if self.ledger is None:
            return
        import logging

        spent = self.ledger.spent()
        for name, usd in self.items.items():
            spent = self.ledger.add(name, usd)
        logging.getLogger(__name__).info("AWS spend so far: $%.4f of $%.2f", spent, self.budget_usd)


def print_json(value: Any, to: str | Path | None = None) -> None:
    """Print one JSON line (the verb's summary); also write it, atomically, where asked."""
    line = json.dumps(value, ensure_ascii=False)
    if to:
        with atomic_path(to) as tmp:
            tmp.write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
