"""Where the Lithops engine's calls run, chosen by the backend's name in the profile.

The engine does not branch on the backend: it asks its platform for Lithops' compute settings,
whether calls run on this host (warm environments, a host's share of cores), whether they are
held to Lambda's terms, the cores a call may use, how its calls are priced, and what to read
after a run. :class:`EmulatedLambda` is Lithops' ``localhost`` backend served by the emulated
Lambda (:mod:`aqbench.emulated`); :class:`AwsLambda` is real Lambda; any other Lithops backend
gets :class:`OtherBackend` (its own settings section passed through). A new platform is one
class here and its name in :data:`PLATFORMS`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from aqbench.errors import ConfigError
from aqbench.lambda_facts import facts

log = logging.getLogger(__name__)


class Platform:
    """A Lithops backend as the engine sees it; the defaults are a remote FaaS platform's."""

    name = "remote"
    on_host = False
    """Calls run on this machine: warm environments are the emulated service's, concurrency the host's share."""

    def __init__(self, backend: dict[str, Any]):
        self.backend = backend

    @property
    def architecture(self) -> str:
        """What each call is priced as."""
        return "x86_64"

    def compute_config(self, memory_mb: int, timeout_s: float, concurrency: int) -> dict[str, Any]:
        """The backend's sections of Lithops' configuration for one run."""
        return {self.name: dict(self.backend.get(self.name, {}))}

    def emulates(self, requested: bool) -> bool:
        """Whether the run's calls are held to Lambda's terms on this host."""
        return False

    def cores_per_call(self, emulating: bool, memory_mb: int, concurrency: int) -> float:
        """Cores one call may use: Lambda's memory-proportional share."""
        return facts().vcpus(memory_mb)

    def after_run(self, fexec: Any, run: Any) -> None:
        """Anything the platform adds to a finished run's rows."""


class OtherBackend(Platform):
    """Any other Lithops backend, by its name; its settings section is the profile's."""

    def __init__(self, backend: dict[str, Any]):
        super().__init__(backend)
        self.name = backend["name"]


class EmulatedLambda(Platform):
    """Lithops' localhost backend: a process per call, or the emulated Lambda's warm environments."""

    name = "localhost"
    on_host = True

    def compute_config(self, memory_mb: int, timeout_s: float, concurrency: int) -> dict[str, Any]:
        return {"localhost": {"runtime": sys.executable, "worker_processes": concurrency}}

    def emulates(self, requested: bool) -> bool:
        from aqbench.emulated import cgroups

        return requested and cgroups.available()[0]

    def cores_per_call(self, emulating: bool, memory_mb: int, concurrency: int) -> float:
        """Lambda's share where emulated, else the host's cores split between the calls at once."""
        if emulating:
            return facts().vcpus(memory_mb)
        return (os.cpu_count() or 1) / max(1, concurrency)


class AwsLambda(Platform):
    """Real AWS Lambda: functions of the run's memory size; Lambda's REPORT lines read after each run."""

    name = "aws_lambda"

    @property
    def settings(self) -> dict[str, Any]:
        return self.backend.get("aws_lambda", {})

    @property
    def architecture(self) -> str:
        return self.settings.get("architecture", "x86_64")

    def compute_config(self, memory_mb: int, timeout_s: float, concurrency: int) -> dict[str, Any]:
        lam = self.settings
        if not lam.get("execution_role"):
            raise ConfigError(
                "lithops.aws_lambda.execution_role is required for the aws_lambda backend: "
                "give the ARN of a role Lambda may assume"
            )
        config: dict[str, Any] = {"aws": {"region": lam.get("region", "us-east-1")}}
        config["aws_lambda"] = {
            "execution_role": lam["execution_role"],
            "runtime_memory": memory_mb,
            "runtime_timeout": int(min(facts().timeout_s, timeout_s)),
            "architecture": lam.get("architecture", "x86_64"),
            # calls at once: below the account's concurrency (aqbench preflight checks it), or Lambda
            # throttles the rest and queues them
            "max_workers": int(lam.get("max_workers") or facts().values["lithops_max_workers"]),
        }
        if lam.get("runtime"):
            config["aws_lambda"]["runtime"] = lam["runtime"]
        for known in ("account_id", "user_id"):  # Lithops skips its STS lookup when given both
            if lam.get(known):
                config["aws_lambda"][known] = lam[known]
        return config

    def after_run(self, fexec: Any, run: Any) -> None:
        """Fill the run's rows from Lambda's own REPORT lines (billed and init duration, max memory).

        CloudWatch Logs shows a line some seconds after its invocation ended: the lines are read
        again, up to ``REPORT_WAIT_S``, until every invocation's is there; the run's note says
        how many were still missing (their rows keep the measured figures)."""
        import boto3

        from aqbench.aws import reports as lambda_reports

        try:
            backend = fexec.compute_handler.backend
            function = backend._format_function_name(fexec.invoker.runtime_name, run.config.memory_mb)
            since_ms = int(min(c.get("t_submit") or time.time() for c in run.calls) * 1000) - 60_000
            ids = {str(c["lithops_activation_id"]) for c in run.calls if c.get("lithops_activation_id")}
            logs = boto3.client("logs", region_name=self.settings.get("region", "us-east-1"))
            deadline = time.monotonic() + REPORT_WAIT_S
            while True:
                reports, why = lambda_reports.fetch(logs, function, ids, since_ms)
                if len(reports) == len(ids) or not why.endswith("in the log group") or time.monotonic() > deadline:
                    break
                time.sleep(5)
        except Exception as exc:  # reports are a refinement: the run stands on its measured figures
            log.warning("Lambda's REPORT lines not read: %s", exc)
            reports, why = {}, str(exc)
        lambda_reports.annotate(run.calls, reports)
        if why:
            run.note = "; ".join(n for n in (run.note, f"REPORT lines: {why}") if n)


REPORT_WAIT_S = 120.0
"""How long a run's REPORT lines are waited for after its last call (CloudWatch Logs shows them
within seconds to a minute or two)."""


PLATFORMS: dict[str, type[Platform]] = {"localhost": EmulatedLambda, "aws_lambda": AwsLambda}


def platform_for(backend: dict[str, Any]) -> Platform:
    """The platform of a profile's ``lithops.backend`` (``name``: localhost, aws_lambda or another Lithops backend)."""
    name = backend.get("name", "localhost")
    return PLATFORMS.get(name, OtherBackend)(backend | {"name": name})
