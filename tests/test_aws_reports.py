"""Lambda's own REPORT lines, read from CloudWatch Logs (botocore's Stubber: no AWS reached)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from aqbench.aws import reports as lambda_reports

COLD = (
    "REPORT RequestId: 8f5c3a2e-1b2c-4d5e-9f00-aa11bb22cc33\tDuration: 1021.45 ms\tBilled Duration: 1022 ms\t"
    "Memory Size: 1024 MB\tMax Memory Used: 187 MB\tInit Duration: 2710.33 ms\t"
)
WARM = COLD.replace("8f5c3a2e", "0a0b0c0d").replace("\tInit Duration: 2710.33 ms", "")


def test_report_lines_are_parsed_cold_and_warm():
    cold, warm = lambda_reports.parse(COLD), lambda_reports.parse(WARM)
    assert cold.billed_duration_s == 1.022 and cold.max_memory_used_mb == 187 and cold.init_s == pytest.approx(2.71033)
    assert warm.init_s is None and warm.request_id.startswith("0a0b0c0d")
    assert lambda_reports.parse("START RequestId: x Version: $LATEST") is None


def _logs():
    return boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def test_reports_fill_the_rows_and_say_where_figures_came_from():
    logs = _logs()
    ids = {"8f5c3a2e-1b2c-4d5e-9f00-aa11bb22cc33", "0a0b0c0d-1b2c-4d5e-9f00-aa11bb22cc33"}
    with Stubber(logs) as stub:
        expected = {"logGroupName": "/aws/lambda/fn", "filterPattern": '"REPORT RequestId"', "startTime": 5}
        stub.add_response("filter_log_events", {"events": [{"message": COLD}], "nextToken": "t"}, expected)
        stub.add_response("filter_log_events", {"events": [{"message": WARM}]}, expected | {"nextToken": "t"})
        reports, why = lambda_reports.fetch(logs, "fn", ids, 5)
    assert set(reports) == ids and why == ""
    rows = [{"lithops_activation_id": i, "init_s": 0.0} for i in sorted(ids)] + [{"lithops_activation_id": "other"}]
    lambda_reports.annotate(rows, reports)
    assert [r["report_source"] for r in rows] == ["lambda REPORT", "lambda REPORT", "measured"]
    assert rows[1]["billed_duration_s"] == 1.022 and rows[1]["init_s"] == pytest.approx(2.71033)
    assert rows[0]["init_s"] == 0.0  # a warm call: no init duration in its report


def test_a_role_that_may_not_read_logs_keeps_the_measured_figures():
    logs = _logs()
    with Stubber(logs) as stub:
        stub.add_client_error("filter_log_events", "AccessDeniedException", "not allowed")
        reports, why = lambda_reports.fetch(logs, "fn", {"a"}, 0)
    assert reports == {} and why == "AccessDeniedException"


def test_a_worker_of_two_activations_has_one_report_for_both():
    """chunksize 2: both activations ran in one invocation, whose REPORT line bills them together."""
    report = lambda_reports.parse(COLD)
    rows = [{"lithops_activation_id": report.request_id, "position": p} for p in (0, 1)]
    lambda_reports.annotate(rows, {report.request_id: report})
    assert all(r["invocation_billed_s"] == 1.022 and r["report_source"] == "lambda REPORT" for r in rows)
    assert not any("billed_duration_s" in r for r in rows)  # Lambda bills no activation alone


def test_without_request_ids_the_run_is_told_why_nothing_was_joined():
    reports, why = lambda_reports.fetch(_logs(), "fn", set(), 0)
    assert reports == {} and "no request ids" in why
