"""What AWS Lambda itself reports about each call: its ``REPORT`` log line in CloudWatch Logs.

Lambda writes one line per invocation, ``REPORT RequestId: … Duration: … ms Billed
Duration: … ms Memory Size: … MB Max Memory Used: … MB [Init Duration: … ms]``. The billed
duration is what the bill charges (the cost model prefers it), the init duration is the
cold start Lambda measured, the max memory used its own high-water mark. They are read by
request id (Lithops' ``activation_id``) when the profile's credentials may read the
function's log group; otherwise the rows keep the figures measured in the call, and every
row says where its figures came from (``report_source``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-fA-F-]+)\s+Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<memory>\d+) MB\s+"
    r"Max Memory Used: (?P<used>\d+) MB(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
)


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_s: float
    billed_duration_s: float
    memory_mb: int
    max_memory_used_mb: int
    init_s: float | None


def parse(line: str) -> Report | None:
    """One ``REPORT`` line, or None for any other log line."""
    found = REPORT.search(line)
    if found is None:
        return None
    init = found.group("init")
    return Report(
        found.group("id"),
        float(found.group("duration")) / 1000,
        int(found.group("billed")) / 1000,
        int(found.group("memory")),
        int(found.group("used")),
        float(init) / 1000 if init else None,
    )


def fetch(logs: Any, function_name: str, request_ids: set[str], since_ms: int) -> tuple[dict[str, Report], str]:
    """The REPORT lines of the given requests: ({request id: report}, why not all were read).

    ``logs`` is a boto3 CloudWatch Logs client. A role without ``logs:FilterLogEvents`` (or a
    log group not there yet) is not an error: the reason is returned and nothing is read.
    """
    from botocore.exceptions import ClientError

    found: dict[str, Report] = {}
    if not request_ids:
        return found, "no request ids to join (Lithops kept no activation id): rows keep the measured figures"
    kwargs: dict[str, Any] = {
        "logGroupName": f"/aws/lambda/{function_name}",
        "filterPattern": '"REPORT RequestId"',
        "startTime": since_ms,
    }
    try:
        while True:
            page = logs.filter_log_events(**kwargs)
            for event in page.get("events", []):
                report = parse(event.get("message", ""))
                if report is not None and report.request_id in request_ids:
                    found[report.request_id] = report
            if "nextToken" not in page or len(found) == len(request_ids):
                break
            kwargs["nextToken"] = page["nextToken"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        log.warning("Lambda's REPORT lines not read (%s): rows keep the measured figures", code)
        return found, code
    missing = len(request_ids) - len(found)
    return found, f"{missing} of {len(request_ids)} reports not (yet) in the log group" if missing else ""


def annotate(rows: list[dict[str, Any]], reports: dict[str, Report]) -> None:
    """Fill each call row from its invocation's REPORT line where there is one, and say where figures came from.

    A REPORT line is one invocation's: a worker that ran several activations in turn (Lithops'
    ``chunksize``) has one line for them all. Every row of the invocation gets its figures as
    ``invocation_billed_s`` and ``lambda_duration_s``; ``billed_duration_s`` (a call's own) only
    where the invocation ran one activation, since Lambda bills no activation alone.
    """
    activations: dict[str, int] = {}
    for row in rows:
        request = row.get("lithops_activation_id")
        if request:
            activations[str(request)] = activations.get(str(request), 0) + 1
    for row in rows:
        report = reports.get(str(row.get("lithops_activation_id")))
        if report is None:
            row["report_source"] = "measured"
            continue
        row.update(
            invocation_billed_s=report.billed_duration_s,
            lambda_duration_s=report.duration_s,
            max_memory_used_mb=report.max_memory_used_mb,
            report_source="lambda REPORT",
        )
        if activations[report.request_id] == 1:
            row["billed_duration_s"] = report.billed_duration_s
        if report.init_s is not None:
            row["init_s"] = report.init_s
