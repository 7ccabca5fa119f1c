"""aqbench.defaults: the study's design defined once (workflow/config/design.yaml), every profile's
plan derived from it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from aqbench import defaults

CONFIG = Path(__file__).resolve().parents[1] / "workflow" / "config"
ENGINES = ("lithops", "dask", "duckdb")


def profile(name: str) -> dict:
    """A profile as the workflow sees it: the profile's file alone (default.yaml is the profile used
    when none is named, not a base of the others), validated against the schema, which fills in its
    defaults (as the Snakefile's validate does)."""
    from snakemake.utils import validate

    config = yaml.safe_load((CONFIG / f"{name}.yaml").read_text())
    validate(config, str(CONFIG / "schema.yaml"))
    return config


@pytest.mark.parametrize("name", ["default", "paper", "tiny", "aws"])
def test_a_profile_that_changes_one_field_keeps_the_designs_others(name):
    """Validation fills the schema's defaults into every experiment a profile names: none may
    overwrite what the design says (the study's layouts, Lambda's terms)."""
    config = profile(name)
    for engine in ENGINES:
        design = defaults.design(engine)
        plan = defaults.experiments(engine, config.get(engine, {}))
        for experiment, entry in plan.items():
            for key in ("layout", "emulate_lambda"):
                if key in design.get(experiment, {}):
                    assert entry[key] == design[experiment][key], (name, engine, experiment, key)


@pytest.mark.parametrize("name", ["default", "paper", "tiny", "aws"])
def test_every_experiment_of_the_design_reaches_every_profile_unless_it_turns_it_off(name):
    config = profile(name)
    for engine in ENGINES:
        design = defaults.design(engine)
        changes = config.get(engine, {}).get("experiments", {})
        off = {n for n, e in changes.items() if e.get("enabled") is False}
        plan = defaults.experiments(engine, config.get(engine, {}))
        assert set(plan) == set(design) - off
        assert all("grid" in e for e in plan.values())


def test_an_experiment_added_to_the_design_reaches_a_profile_that_changes_others(monkeypatch):
    document = {"dask": {"experiments": copy.deepcopy(defaults.design("dask"))}}
    design = document["dask"]["experiments"]
    design["new_one"] = {"grid": {"kernel": "arrow", "workers": 2}}
    plan = defaults.experiments("dask", {"experiments": {"baseline": {"repetitions": 7}}}, document)
    assert "new_one" in plan and plan["baseline"]["repetitions"] == 7
    assert plan["baseline"]["grid"] == design["baseline"]["grid"]  # a change of one field keeps the rest


def test_the_design_is_a_valid_profile_and_the_schema_holds_no_second_copy():
    from snakemake.utils import validate

    document = yaml.safe_load(defaults.DESIGN.read_text())
    validate(copy.deepcopy(document), str(CONFIG / "schema.yaml"))
    for engine in ENGINES:
        assert defaults.design(engine) and defaults.schema_default(f"{engine}.experiments") == {}


def test_no_profile_undoes_another():
    """The paper profile names no experiment just to restore the design's repetitions: the default
    profile's changes (warm-up once) are not under it."""
    paper = yaml.safe_load((CONFIG / "paper.yaml").read_text())
    assert "experiments" not in paper["lithops"]
    plan = defaults.experiments("lithops", profile("paper")["lithops"])
    assert all(entry.get("repetitions", 5) == 5 for entry in plan.values())


def test_a_new_experiment_without_a_grid_is_refused_by_name():
    with pytest.raises(ValueError, match=r"dask\.experiments\.typo"):
        defaults.experiments("dask", {"experiments": {"typo": {"repetitions": 2}}})


def test_the_paper_profile_runs_every_configuration_at_least_five_times():
    config = profile("paper")
    for engine in ENGINES:
        section = config[engine]
        for name, entry in defaults.experiments(engine, section).items():
            assert entry.get("repetitions", section["repetitions"]) >= 5, f"{engine} {name}"


def test_the_experiment_names_the_report_selects_by_are_the_designs():
    """aqbench.experiments: the constants the report picks rows by name experiments of the design."""
    from aqbench import experiments

    for engine, names in experiments.BY_ENGINE.items():
        assert set(names) <= set(defaults.design(engine)), engine
