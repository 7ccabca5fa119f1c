"""One experiment's spec: everything its verb needs besides the paths of its inputs and outputs.

A rule writes it from the validated profile (``results/<profile>/<engine>/<experiment>/spec.json``,
kept as the record of what ran) and hands its verb that one file: ``aqbench run-lithops --spec FILE
--manifest ... --reference ... --out ...``. The verb builds its engine from it. The spec file is the
only thing the experiment's settings reach it through, so Snakemake reruns an experiment exactly when
its own spec changes (the rule experiment_spec writes it from a ``params`` value).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aqbench.errors import ConfigError
from aqbench.settings import PRICES, Dask, DuckDB, Lithops, Network, Section, Settings, Store

ENGINES = ("lithops", "dask", "duckdb")


@dataclass(frozen=True)
class Experiment(Section):
    """One experiment of the study's design as the profile runs it (:func:`aqbench.defaults.experiments`)."""

    name: str
    grid: dict[str, Any]
    repetitions: int
    layout: str = "legacy"
    """The objects read (Lithops): the staged ones, or the study's layout (``study``, ``study-sources``)."""
    emulate_lambda: bool = False
    """Dask: each LocalCluster worker held to an emulated Lambda of the run's memory size."""


@dataclass(frozen=True)
class Places(Section):
    """Where the store's server and Lithops keep their files: folders of the profile's results."""

    state: str = "results/default/s3"
    """s3-local: the server's state folder."""
    lithops_tmp: str = "results/default/lithops-tmp"
    """localhost: Lithops' temporary folder (its storage lives there)."""
    lithops_home: str = "results/default/lithops-home"


@dataclass(frozen=True)
class Budget(Section):
    """An AWS run's budget ledger: what the verb spends is added to it; none off AWS."""

    ledger: str = ""
    budget_usd: float = 5.0
    prices: dict[str, Any] = field(default_factory=lambda: dict(PRICES))
    off_aws: bool = False
    """The verb reads the bucket from outside AWS (this machine, a LocalCluster): S3 egress is charged."""


@dataclass(frozen=True)
class ExperimentSpec(Section):
    """One experiment of one engine with every setting it runs under.

    Only what the experiment runs under is in it, so that a setting it does not use never reruns it:
    ``lithops``, ``dask`` and ``duckdb`` are the engine's own section (only the engine's is set, its
    ``repetitions`` the experiment's); ``network`` the emulated network of Dask runs held to Lambda's
    terms (the Lithops runs' is their section's); ``faults`` what is injected (not into DuckDB's one
    query); ``budget`` on AWS Lambda only."""

    engine: str
    experiment: Experiment
    store: Store = field(default_factory=Store)
    places: Places = field(default_factory=Places)
    faults: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None
    network: Network | None = None
    lithops: Lithops | None = None
    dask: Dask | None = None
    duckdb: DuckDB | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"spec: engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        if getattr(self, self.engine) is None:
            raise ConfigError(f"spec: a {self.engine} experiment needs its '{self.engine}' settings")

    @classmethod
    def read(cls, path: str | Path) -> ExperimentSpec:
        """The spec a rule wrote (one line naming the file if it is missing or wrong)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--spec {path}: cannot read it ({exc.strerror})") from exc
        return cls.from_json(text, where=f"--spec {path}")


def experiment_spec(
    config: dict[str, Any], engine: str, experiment: dict[str, Any], name: str, results: str
) -> ExperimentSpec:
    """The spec of experiment ``name`` of ``engine`` from the validated profile ``config``:
    ``experiment`` is its entry in the design as the profile changed it, ``results`` the profile's
    results folder."""
    settings = Settings.from_config(config)
    repetitions = experiment.get("repetitions", getattr(settings, engine).repetitions)
    section = replace(getattr(settings, engine), repetitions=repetitions)
    if engine == "lithops" and not section.warm_environments:  # both are the warm environments'
        section = replace(section, network=Network(), keep_alive_s=Lithops.keep_alive_s)
    emulate = engine == "dask" and experiment.get("emulate_lambda", False)
    budget = None
    if settings.lithops.backend == "aws_lambda":
        off_aws = engine == "duckdb" or (engine == "dask" and not settings.dask.scheduler_address)
        budget = Budget(f"{results}/budget/ledger.json", settings.aws.budget_usd, settings.prices, off_aws)
    return ExperimentSpec(
        engine=engine,
        experiment=Experiment(name, experiment["grid"], repetitions, experiment.get("layout", "legacy"), emulate),
        store=settings.storage,
        places=Places(f"{results}/s3", f"{results}/lithops-tmp", f"{results}/lithops-home"),
        faults={} if engine == "duckdb" else config.get("faults", {}),
        budget=budget,
        network=settings.lithops.network if emulate else None,
        **{engine: section},
    )
