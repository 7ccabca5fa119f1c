"""The AWS budget guard: its arithmetic, its refusal in one line, and the ledger that stops a spent run."""

from __future__ import annotations

import pytest

from aqbench.aws.budget import Assumptions, Besides, Ledger, call_seconds, guard, passes, project, project_besides
from aqbench.cost import Prices, invocation_fixed_cost, lambda_call_cost
from aqbench.defaults import schema_default
from aqbench.errors import ConfigError

PRICES = Prices.from_config(schema_default("prices"))
ASSUME = Assumptions(call_overhead_s=3.0, mb_s_per_vcpu=20.0)


def test_a_call_is_priced_pessimistically_and_never_faster_than_lambdas_network():
    assert call_seconds(2, 25.0, 1769, ASSUME) == pytest.approx(3.0 + 50 / 20)  # one vCPU
    from aqbench.lambda_facts import facts

    assert call_seconds(2, 25.0, 10240, ASSUME) == pytest.approx(3.0 + 50 / facts().network_mb_s)  # network-bound
    assert call_seconds(10_000, 25.0, 128, ASSUME) == 900.0  # capped at the timeout


def test_projection_of_a_grid_adds_maps_reducers_warm_up_and_repetitions():
    grid = {"one": {"repetitions": 2, "grid": {"memory_mb": 1769, "objects_per_call": 2}}}
    (p,) = project(grid, 3, 100_000_000, 25_000_000, PRICES, ASSUME)
    logs = invocation_fixed_cost(PRICES) - PRICES.lambda_request  # each invocation's lines in CloudWatch Logs
    maps = 2 * (lambda_call_cost(5.5, 1769, PRICES) + logs + 2 * PRICES.s3_get + PRICES.s3_put)
    reduce = lambda_call_cost(3.0 + 4 * 0.01, 1769, PRICES) + logs + PRICES.s3_put + 4 * PRICES.s3_get
    assert p.runs == 2 and p.calls == 2 * 3 and p.usd == pytest.approx(2 * (maps + reduce))
    warm = {"w": {"repetitions": 1, "grid": {"memory_mb": 1769, "objects_per_call": 4, "warmup": True}}}
    (pw,) = project(warm, 3, 100_000_000, 25_000_000, PRICES, ASSUME)
    assert pw.calls == 1 + 2 + 1  # the measured job's call, the warm-up's two calls of two, the reducer
    off = {"off": {"enabled": False, "grid": {"memory_mb": 1024}}}
    assert project(off, 3, 100_000_000, 25_000_000, PRICES, ASSUME) == []


def test_over_the_budget_nothing_starts_and_the_line_names_the_setting(tmp_path):
    grid = {"big": {"grid": {"memory_mb": 3538, "objects_per_call": 1}}}
    projections = project(grid, 3, 50_000_000_000, 25_000_000, PRICES, ASSUME)
    with pytest.raises(ConfigError, match=r"over aws.budget_usd = \$0.50: raise aws.budget_usd"):
        guard(projections, 0.50)
    guard(projections, 1000.0)
    ledger = Ledger(tmp_path / "budget" / "ledger.json")
    ledger.check(1.0)  # nothing spent yet
    assert ledger.add("memory", 0.6) == pytest.approx(0.6)
    assert ledger.add("warmup", 0.5) == pytest.approx(1.1)
    with pytest.raises(ConfigError, match=r"spent \$1.10 of aws.budget_usd = \$1.00"):
        ledger.check(1.0)
    with pytest.raises(ConfigError, match="already spent"):
        guard(projections, 1000.0, spent_usd=1000.0)


@pytest.mark.slow
def test_a_failing_experiment_still_records_what_it_spent(staged, tmp_path):
    """Before, the ledger was written only after a completed experiment: a failed one's calls were
    billed on AWS and never counted, so reruns spent past the budget unseen."""
    import json

    from conftest import run_engine

    ledger = tmp_path / "ledger.json"
    grid = {"kernel": "arrow", "memory_mb": 1024, "objects_per_call": 1, "reducers": 1}
    code, out = run_engine(staged, "lithops", "ledger-on-failure", grid, "--no-emulate", "--retries", "0",
                           "--faults", '{"map_error_fraction": 0.5}', "--ledger", str(ledger))  # fmt: skip
    assert code == 5 and not (out / "runs.parquet").exists()
    spent = json.loads(ledger.read_text())
    assert spent["experiments"]["ledger-on-failure"] > 0 and spent["spent_usd"] == Ledger(ledger).spent()


def test_a_call_that_reaches_the_timeout_is_charged_again_for_lambdas_retries():
    grid = {"t": {"repetitions": 1, "grid": {"memory_mb": 1024, "objects_per_call": 1, "chunksize": 100000}}}
    once = project(grid, 1, 2_000 * 25_000_000, 25_000_000, PRICES, ASSUME)[0].usd
    thrice = project(grid, 1, 2_000 * 25_000_000, 25_000_000, PRICES, Assumptions(3.0, 20.0, async_retries=2))[0].usd
    timed_out = lambda_call_cost(900, 1024, PRICES)  # one worker of every object: it runs to the timeout
    assert thrice - once == pytest.approx(2 * (timed_out + invocation_fixed_cost(PRICES) - PRICES.lambda_request))


def test_the_study_layouts_experiments_read_only_their_first_objects():
    grid = {"s": {"layout": "study", "repetitions": 1, "grid": {"memory_mb": 1024, "chunksize": 2}}}
    (p,) = project(grid, 1, 50_000_000_000, 25_000_000, PRICES, ASSUME, layout_objects=4)
    assert p.calls == 2 + 1  # 4 objects, two activations to a worker; one reducer


def test_what_the_run_spends_besides_the_experiments_is_projected_line_by_line():
    gb = 1_000_000_000
    besides = Besides(staging_objects=40, study_objects=4, off_aws_runs=2.0, image_gb=0.6)
    lines = {p.experiment: p.usd for p in project_besides(besides, gb, 25_000_000, PRICES, ASSUME)}
    assert set(lines) == {"staging (Lambda)", "stage-study (egress)", "off-AWS reads (egress)",
                          "runtime image (ECR, a month)"}  # fmt: skip
    assert lines["off-AWS reads (egress)"] == pytest.approx(2 * PRICES.s3_egress_gb + 80 * PRICES.s3_get)
    assert lines["runtime image (ECR, a month)"] == pytest.approx(0.6 * PRICES.ecr_gb_month)
    assert lines["stage-study (egress)"] == pytest.approx(4 * (0.025 * PRICES.s3_egress_gb + PRICES.s3_get
                                                               + PRICES.s3_put))  # fmt: skip
    assert project_besides(Besides(image_gb=0.0), gb, 25_000_000, PRICES, ASSUME) == []
    assert passes({"a": {"grid": {"fraction": [0.25, 1.0]}}, "off": {"enabled": False, "grid": {}}}, 2) == 2.5


def test_a_verbs_bill_reaches_the_ledger_however_it_ends(tmp_path):
    import argparse
    import json

    from aqbench.cli.common import Charged
    from aqbench.defaults import schema_default

    ledger = tmp_path / "ledger.json"
    args = argparse.Namespace(ledger=str(ledger), budget_usd=1.0, prices=json.dumps(schema_default("prices")))
    with pytest.raises(RuntimeError), Charged(args) as bill:
        bill.add("stage-study (egress)", 0.25)
        raise RuntimeError("interrupted")
    assert Ledger(ledger).spent() == pytest.approx(0.25)
    with Charged(args) as bill:
        bill.add("stage-study (egress)", 0.75)
    with pytest.raises(ConfigError, match=r"spent \$1\.00 of aws\.budget_usd"), Charged(args):
        pass  # nothing starts once it is spent
    without = argparse.Namespace(ledger=None, budget_usd=1.0, prices=args.prices)
    with Charged(without) as bill:
        bill.add("x", 9.0)  # no ledger: nothing written
    assert Ledger(ledger).spent() == pytest.approx(1.0) and not (tmp_path / "x").exists()
