"""The cost of one pass, every way the paper prices it, in one unit; the study's bill never set as a pass."""

from __future__ import annotations

import math

import pandas as pd

from aqbench import study_facts as study
from aqbench.report import cost_per_pass
from aqbench.report.scale_tables import overlapping


def _projection(path) -> None:
    rows = []
    for memory, wall, cost in ((1024, 40.0, 0.05), (10240, 17.0, 0.48), (3538, 19.0, 0.16)):
        rows.append(dict(memory_mb=memory, objects_per_call=4, architecture="x86_64", reducers=8, status="success",
                         wall_s=wall, wall_s_p10=wall - 2, wall_s_p90=wall + 2, cost_usd=cost,
                         cost_usd_p10=cost * 0.99, cost_usd_p90=cost * 1.01))  # fmt: skip
    pd.DataFrame(rows).to_csv(path / "projection.csv", index=False)


def _study(path, implied_usd: float) -> None:
    runs = (("implied", 99.9, implied_usd, 47.0), ("study", 13.9, 0.178, 3.6))
    rows = [dict(case="warm-up: 1979 activations, chunksize 2", scaling="1000 per 10 s", kernel=k,
                 simulated_s=s, cost_usd=c, activation_s=a) for k, s, c, a in runs]  # fmt: skip
    rows.append(dict(case="warm-up: 1979 activations, chunksize 2", scaling="regional burst", kernel="implied",
                     simulated_s=99.0, cost_usd=9.99, activation_s=47.0))  # fmt: skip
    pd.DataFrame(rows).to_csv(path / "study.csv", index=False)


def test_every_priced_pass_is_one_row_and_the_bill_is_said_to_be_no_pass(tmp_path):
    _projection(tmp_path)
    _study(tmp_path, implied_usd=1.5)
    text = cost_per_pass.table(tmp_path, None)
    assert "lowest median wall on x86: 10240" in text and "lowest median cost: 1024" in text
    assert "at the cost per activation its timeout run implies & 99.9 & 1.500" in text
    assert "9.99" not in text  # only today's scaling rule's runs
    bound = 1.5 * study.activation_s_from_warmup() / 47.0  # the warm-up's log allows at most this a pass
    assert f"about {study.BILL_USD / 1.5:.0f} passes at the timeout run's implied cost" in text
    assert f"at least {math.floor(study.BILL_USD / bound)} at the warm-up's" in text and f"$\\le$ {bound:.3f}" in text
    assert cost_per_pass.macros(tmp_path) == {
        "StudyImpliedPassUSD": "1.50",
        "StudyBillPasses": f"{65.70 / 1.5:.0f}",
        "StudyWarmupPassMaxUSD": f"{bound:.2f}",
        "StudyBillPassesMin": str(math.floor(65.70 / bound)),
    }


def test_without_the_studys_runs_the_macros_say_so(tmp_path):
    _projection(tmp_path)
    assert set(cost_per_pass.macros(tmp_path).values()) == {"--"}
    assert "the study's bill: two days of testing, not one pass &" in cost_per_pass.table(tmp_path, None)


def test_a_configuration_whose_range_overlaps_the_picks_is_not_told_apart_from_it():
    t = pd.DataFrame({"wall_s": [17.0, 19.0, 40.0], "wall_s_p10": [15.0, 18.5, 38.0], "wall_s_p90": [19.0, 21.0, 42.0]})
    assert list(overlapping(t, t.iloc[0], "wall_s").index) == [0, 1]


def test_a_held_out_run_stopped_by_its_limit_is_stated_beside_its_prediction_not_dropped():
    from aqbench.report.scale_tables import stopped_walls

    held = pd.DataFrame({"experiment": ["timeout", "memory"], "memory_mb": [1024, 2048], "measured_s": [11.0, 27.4],
                         "predicted_s": [5.3, 30.0], "error": [float("nan"), 0.09]})  # fmt: skip
    assert stopped_walls(held) == r"timeout (1024\,MB): measured 11.0\,s to its end, predicted 5.3\,s (-52\,\%)"
    assert stopped_walls(held.iloc[1:]) == "none"
