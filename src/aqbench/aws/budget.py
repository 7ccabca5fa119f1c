"""The budget guard of the AWS profile: what the experiment grid will cost, before it runs.

The study's authors ran out of credits mid-study. Before any AWS job the workflow projects
the cost of every Lithops experiment of the profile (the cost model of :mod:`aqbench.cost`
over the grid, the data size and conservative per-call times) and refuses to start above
``aws.budget_usd``. While it runs, each experiment adds what its calls were billed to a
ledger; the next experiment does not start once the budget is spent.

Per-call times are deliberately pessimistic: a cold start on every call (``call_overhead_s``,
measured 2.6–3.2 s for a pandas+pyarrow Lambda), and processing at ``mb_s_per_vcpu`` per vCPU
of the memory size (Lambda's CPU share, M/1769), never above Lambda's network rate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqbench.atomic import atomic_path
from aqbench.cost import Prices, egress_cost, lambda_call_cost, log_cost
from aqbench.errors import ConfigError
from aqbench.lambda_facts import facts


@dataclass(frozen=True)
class Assumptions:
    call_overhead_s: float = 3.0
    mb_s_per_vcpu: float = 20.0
    timeout_s: float = field(default_factory=lambda: facts().timeout_s)
    async_retries: int = 0
    """Times Lambda reruns a failed asynchronous invocation (a call that reaches its timeout):
    0 on the functions ``aqbench lambda-runtime`` deploys, 2 by Lambda's default."""


@dataclass(frozen=True)
class Besides:
    """What an AWS run spends besides the Lithops experiments' calls."""

    staging_objects: int = 0
    """Objects the staging calls will write (data.source openaq-lithops, not staged yet)."""
    staging_memory_mb: int = 2048
    study_objects: int = 0
    """Objects stage-study downloads to this machine and uploads again in the study's layout."""
    off_aws_runs: float = 0.0
    """Passes over the data by engines that read the bucket from this machine (Dask on a LocalCluster,
    DuckDB), in units of the whole data: S3 egress."""
    image_gb: float = 0.7
    """The runtime image in ECR, for a month (about 600 MB compressed)."""


@dataclass(frozen=True)
class Projection:
    experiment: str
    runs: int
    calls: int
    usd: float


def _points(grid: dict[str, Any]) -> list[dict[str, Any]]:
    import itertools

    names = sorted(grid)
    values = [grid[n] if isinstance(grid[n], list) else [grid[n]] for n in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def call_seconds(objects: int, object_mb: float, memory_mb: int, a: Assumptions) -> float:
    """A pessimistic duration of one call reading ``objects`` objects (capped at the timeout)."""
    rate = min(facts().network_mb_s, a.mb_s_per_vcpu * facts().vcpus(memory_mb))  # no call reads faster than its link
    return min(a.timeout_s, a.call_overhead_s + objects * object_mb / rate)


def passes(experiments: dict[str, dict[str, Any]], repetitions: int) -> float:
    """Passes over the whole data the enabled experiments make (each run reads its fraction once)."""
    total = 0.0
    for exp in experiments.values():
        if exp.get("enabled", True):
            reps = exp.get("repetitions", repetitions)
            total += reps * sum(float(p.get("fraction", 1.0)) for p in _points(exp["grid"]))
    return total


def project(
    experiments: dict[str, dict[str, Any]],
    repetitions: int,
    data_bytes: int,
    object_bytes: int,
    prices: Prices,
    assumptions: Assumptions,
    architecture: str = "x86_64",
    layout_objects: int = 0,
) -> list[Projection]:
    """The projected cost of every enabled experiment of the grid, at this data size (an experiment
    on the study's layout reads its ``layout_objects`` first objects only)."""
    staged = max(1, math.ceil(data_bytes / object_bytes))
    object_mb = object_bytes / 1e6
    out = []
    for name, exp in experiments.items():
        if not exp.get("enabled", True):
            continue
        study = exp.get("layout", "legacy") != "legacy" and layout_objects
        objects_total = min(staged, layout_objects) if study else staged
        reps = exp.get("repetitions", repetitions)
        usd, calls, runs = 0.0, 0, 0
        for point in _points(exp["grid"]):
            memory = int(point.get("memory_mb", 2048))
            objects = max(1, math.ceil(objects_total * float(point.get("fraction", 1.0))))
            # (invocations, objects each reads): a worker runs its chunk of activations in sequence
            per_call = int(point.get("objects_per_call", 1)) * int(point.get("chunksize", 1))
            jobs = [(math.ceil(objects / per_call), min(per_call, objects))]
            if point.get("warmup"):  # one object an activation, two activations a worker
                jobs.append((math.ceil(objects / 2), min(2, objects)))
            reducers = int(point.get("reducers", 1))
            for _ in range(reps):
                runs += 1
                for n, reads in jobs:
                    seconds = call_seconds(reads, object_mb, memory, assumptions)
                    # a call that reaches the timeout failed: Lambda runs it again async_retries times
                    again = 1 + (assumptions.async_retries if seconds >= assumptions.timeout_s else 0)
                    usd += n * again * (lambda_call_cost(seconds, memory, prices, architecture) + log_cost(prices))
                    usd += n * (reads * prices.s3_get + reducers * prices.s3_put)
                    calls += n
                reduce_s = call_seconds(0, 0, memory, assumptions) + objects * 0.01
                usd += reducers * (lambda_call_cost(reduce_s, memory, prices, architecture) + log_cost(prices))
                usd += reducers * prices.s3_put
                usd += objects * prices.s3_get  # the reducers read every partial
                calls += reducers
        out.append(Projection(name, runs, calls, usd))
    return out


def project_besides(
    besides: Besides,
    data_bytes: int,
    object_bytes: int,
    prices: Prices,
    assumptions: Assumptions,
    architecture: str = "x86_64",
) -> list[Projection]:
    """What the rest of an AWS run costs: staging on Lambda, stage-study, reads from off AWS, the image."""
    object_gb = object_bytes / 1e9
    out = []
    if besides.staging_objects:  # a call a written object, pessimistic; each object put, read back, listed
        n = besides.staging_objects
        seconds = call_seconds(1, object_bytes / 1e6, besides.staging_memory_mb, assumptions)
        call = lambda_call_cost(seconds, besides.staging_memory_mb, prices, architecture) + log_cost(prices)
        out.append(Projection("staging (Lambda)", 1, n, n * (call + prices.s3_put + 2 * prices.s3_get)))
    if besides.study_objects:
        n = besides.study_objects
        usd = egress_cost(n * object_gb, n, prices) + n * prices.s3_put
        out.append(Projection("stage-study (egress)", 1, 0, usd))
    if besides.off_aws_runs:
        objects = besides.off_aws_runs * math.ceil(data_bytes / object_bytes)
        usd = egress_cost(besides.off_aws_runs * data_bytes / 1e9, objects, prices)
        out.append(Projection("off-AWS reads (egress)", 0, 0, usd))
    if besides.image_gb:
        out.append(Projection("runtime image (ECR, a month)", 0, 0, besides.image_gb * prices.ecr_gb_month))
    return out


def report(projections: list[Projection], budget_usd: float, data_bytes: int) -> str:
    lines = [f"projected cost of the AWS run on {data_bytes / 1e9:.1f} GB (pessimistic per-call times):"]
    for p in projections:
        lines.append(f"  {p.experiment[:28]:28s} {p.runs:3d} runs {p.calls:7d} calls  ${p.usd:9.2f}")
    total = sum(p.usd for p in projections)
    lines.append(f"  {'total':28s} {'':31s}${total:9.2f}   budget (aws.budget_usd) ${budget_usd:.2f}")
    return "\n".join(lines)


def guard(projections: list[Projection], budget_usd: float, spent_usd: float = 0.0) -> None:
    """Refuse, in one line naming the setting, a grid that would exceed what is left of the budget."""
    total = sum(p.usd for p in projections)
    if spent_usd + total > budget_usd:
        raise ConfigError(
            f"the AWS run would cost about ${total:.2f} (already spent ${spent_usd:.2f}), over "
            f"aws.budget_usd = ${budget_usd:.2f}: raise aws.budget_usd or shrink the grid or the data"
        )


class Ledger:
    """What the AWS experiments of a profile have been billed so far (a small JSON file)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def spent(self) -> float:
        if not self.path.exists():
            return 0.0
        return float(json.loads(self.path.read_text())["spent_usd"])

    def add(self, experiment: str, usd: float) -> float:
        data = json.loads(self.path.read_text()) if self.path.exists() else {"spent_usd": 0.0, "experiments": {}}
        data["experiments"][experiment] = data["experiments"].get(experiment, 0.0) + usd
        data["spent_usd"] = sum(data["experiments"].values())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(data, indent=1) + "\n")
        return data["spent_usd"]

    def check(self, budget_usd: float) -> None:
        """Refuse to start an experiment once the budget is spent."""
        spent = self.spent()
        if spent >= budget_usd:
            raise ConfigError(
                f"the AWS experiments have spent ${spent:.2f} of aws.budget_usd = ${budget_usd:.2f}: "
                "raise aws.budget_usd to go on"
            )
