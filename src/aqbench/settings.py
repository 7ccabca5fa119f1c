"""A profile's settings as typed, frozen dataclasses: the store, the data, the Lithops, Dask and
single-node engines, the budget, the benchmarks, the scale model, the report.

The workflow validates a profile against ``workflow/config/schema.yaml`` (which fills in every
default) and resolves it here, once; the experiment specs (:mod:`aqbench.spec`) and the verbs take
these objects, never flags re-parsed from strings. The field defaults are the schema's defaults, so
a verb run by hand (``aqbench generate``) agrees with the default profile without reading the schema
from the checkout: a test holds the two equal (tests/test_settings.py).

A new setting is a schema entry, a field here with the same default, and its use
(docs/adding-a-setting.md).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aqbench.errors import ConfigError

S = TypeVar("S", bound="Section")


class Section:
    """What every settings dataclass shares: built from a mapping (a profile's section or a spec's
    JSON) with unknown keys refused in one line, and written back as plain JSON."""

    @classmethod
    def from_dict(cls: type[S], data: dict[str, Any], where: str = "") -> S:
        """The section from ``data``; keys it lacks keep their defaults, unknown ones are refused."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where or cls.__name__}: expected a mapping, got {data!r}")
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{where or cls.__name__}: unknown settings {unknown}; allowed: {sorted(names)}")
        return cls(**{k: _typed(hints[k], v, f"{where}.{k}" if where else k) for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        """Stable JSON (sorted keys, one item a line): the same settings always give the same bytes."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls: type[S], text: str, where: str = "") -> S:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where or cls.__name__}: not JSON ({exc})") from exc
        return cls.from_dict(data, where)


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` as the field's type: a nested section built, a list made a tuple, an int a float."""
    if isinstance(hint, type) and issubclass(hint, Section):
        return hint.from_dict(value, where)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _typed(kinds[0], value, where)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True)
class Store(Section):
    """The object store the experiments read from (the profile's ``storage``)."""

    kind: str = "s3-local"
    bucket: str = "aqbench"
    prefix: str = "openaq/"
    region: str = "us-east-1"


@dataclass(frozen=True)
class Synthetic(Section):
    """The synthetic generator (``data.synthetic``)."""

    size: str = "1GB"
    seed: int = 42
    days: int = 60
    bad_fraction: float = 0.001
    sentinel_fraction: float = 0.002


@dataclass(frozen=True)
class Paths(Section):
    """Folders or files of legacy lines (``data.sample``, ``data.legacy``)."""

    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Archive(Section):
    """The public openaq-data-archive sources (``data.openaq_archive``)."""

    bucket: str = "openaq-data-archive"
    files_per_call: int = 2000
    call_memory_mb: int = 2048
    call_timeout_s: int = 600
    country: str = "PL"
    start: str = "2024-01-01"
    end: str = "2024-01-07"
    max_locations: int = 50


@dataclass(frozen=True)
class Data(Section):
    """Where the measurements come from (``data``)."""

    source: str = "synthetic"
    object_size: str = "25MB"
    study_layout_objects: int = 4
    synthetic: Synthetic = field(default_factory=Synthetic)
    sample: Paths = field(default_factory=lambda: Paths(("data/sample",)))
    legacy: Paths = field(default_factory=Paths)
    openaq_archive: Archive = field(default_factory=Archive)


@dataclass(frozen=True)
class Network(Section):
    """Each emulated execution environment's network (``lithops.network``)."""

    shape: bool = True
    local_mbit: float = 625.0
    remote_mbit: float = 200.0
    remote_latency_ms: float = 80.0

    def emulated(self) -> Any:
        """The emulated network's own object (:class:`aqbench.emulated.network.Network`)."""
        from aqbench.emulated.network import Network as Emulated

        return Emulated(self.shape, self.local_mbit, self.remote_mbit, self.remote_latency_ms / 1000)


@dataclass(frozen=True)
class AwsLambda(Section):
    """The aws_lambda backend (``lithops.aws_lambda``); credentials come from AWS's own chain."""

    execution_role: str = ""
    region: str = "us-east-1"
    architecture: str = "x86_64"
    runtime: str = ""
    max_workers: int = 1000


@dataclass(frozen=True)
class Lithops(Section):
    """The Lithops engine's settings (``lithops`` without its experiments)."""

    backend: str = "localhost"
    emulate_lambda: bool = True
    concurrency: int = 0
    repetitions: int = 3
    retries: int = 2
    warm_environments: bool = True
    keep_alive_s: float = 600.0
    reduce_fetch_threads: int = 64
    network: Network = field(default_factory=Network)
    aws_lambda: AwsLambda = field(default_factory=AwsLambda)

    def backend_config(self) -> dict[str, Any]:
        """Lithops' compute backend (no credentials). On Lambda the runtime is the profile's, else
        the image the rule lambda_runtime builds (named by the hash of what it is built from)."""
        backend: dict[str, Any] = {"name": self.backend}
        if self.backend == "aws_lambda":
            from aqbench.aws.image import default_name

            lam = {k: v for k, v in self.aws_lambda.to_dict().items() if v}
            lam.setdefault("runtime", default_name(self.aws_lambda.architecture))
            backend["aws_lambda"] = lam
        return backend


@dataclass(frozen=True)
class Dask(Section):
    """The Dask baseline's settings (``dask`` without its experiments)."""

    scheduler_address: str = ""
    store_endpoint: str = ""
    repetitions: int = 3
    retries: int = 2


@dataclass(frozen=True)
class DuckDB(Section):
    """The single machine's settings (``duckdb`` without its experiments)."""

    repetitions: int = 3


@dataclass(frozen=True)
class Aws(Section):
    """The budget guard of runs on AWS Lambda (``aws``)."""

    budget_usd: float = 5.0
    expected_data_gb: float = 50.0
    call_overhead_s: float = 3.0
    async_payload_limit_kb: int = 1024
    mb_s_per_vcpu: float = 20.0


@dataclass(frozen=True)
class Bench(Section):
    """The benchmarks the paper quotes (``bench``)."""

    object_size: str = "25MB"
    fan_in: int = 2000
    repeats: int = 3
    engine_objects: int = 12


@dataclass(frozen=True)
class Scale(Section):
    """The scale simulation (``scale``)."""

    seeds: int = 20


@dataclass(frozen=True)
class Report(Section):
    """The report step (``report``)."""

    from_results: bool = False
    max_probe_drift: float = 0.25


PRICES: dict[str, Any] = {
    "date": "2026-11",
    "source": "aws.amazon.com/lambda/pricing, aws.amazon.com/s3/pricing, aws.amazon.com/ec2/pricing/on-demand, "
    "aws.amazon.com/ecr/pricing, aws.amazon.com/cloudwatch/pricing (us-east-1)",
    "lambda_gb_s_x86": 0.0000166667,
    "lambda_gb_s_arm": 0.0000133334,
    "lambda_request": 0.0000002,
    "s3_get": 0.0000004,
    "s3_put": 0.000005,
    "ec2_instance": "m5.large",
    "ec2_hourly": 0.096,
    "ec2_vcpus": 2,
    "s3_egress_gb": 0.09,
    "ecr_gb_month": 0.10,
    "logs_ingest_gb": 0.50,
}
"""The dated prices (``prices``): a plain mapping, read by :meth:`aqbench.cost.Prices.from_config`."""


SECTIONS: dict[str, type[Section]] = {
    "storage": Store,
    "data": Data,
    "lithops": Lithops,
    "dask": Dask,
    "duckdb": DuckDB,
    "aws": Aws,
    "bench": Bench,
    "scale": Scale,
    "report": Report,
}
"""The profile's sections this module types, by their key in the profile."""

NOT_SETTINGS = frozenset({"experiments"})
"""Keys of an engine's section that are the study's design (:mod:`aqbench.defaults`), not settings."""


@dataclass(frozen=True)
class Settings:
    """Every typed section of one profile."""

    storage: Store = field(default_factory=Store)
    data: Data = field(default_factory=Data)
    lithops: Lithops = field(default_factory=Lithops)
    dask: Dask = field(default_factory=Dask)
    duckdb: DuckDB = field(default_factory=DuckDB)
    aws: Aws = field(default_factory=Aws)
    bench: Bench = field(default_factory=Bench)
    scale: Scale = field(default_factory=Scale)
    report: Report = field(default_factory=Report)
    prices: dict[str, Any] = field(default_factory=lambda: dict(PRICES))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """The validated profile (Snakemake's ``config``) as typed sections; the sections it lacks
        keep their defaults."""
        typed = {
            key: section.from_dict({k: v for k, v in config.get(key, {}).items() if k not in NOT_SETTINGS}, key)
            for key, section in SECTIONS.items()
        }
        return cls(**typed, prices={**PRICES, **config.get("prices", {})})


DEFAULTS = Settings()
"""The default profile's settings: the stand-alone defaults of every verb."""
