"""aqbench.settings and aqbench.spec: the profile typed once, one spec per experiment, a new setting
added the way docs/adding-a-setting.md says."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config, validate

from aqbench import defaults, settings, spec
from aqbench.errors import ConfigError

CONFIG = Path(__file__).resolve().parents[1] / "workflow" / "config"
SCHEMA = CONFIG / "schema.yaml"


def profile(*names: str) -> dict:
    """Profiles merged in order, then validated (the schema fills in its defaults), as the Snakefile does."""
    config: dict = {}
    for name in names:
        update_config(config, yaml.safe_load((CONFIG / f"{name}.yaml").read_text()))
    validate(config, str(SCHEMA))
    return config


def test_the_settings_defaults_are_the_schemas():
    """A verb run by hand (its defaults are the fields') and an empty profile (the schema's) agree."""
    empty: dict = {}
    validate(empty, str(SCHEMA))
    assert settings.Settings.from_config(empty) == settings.DEFAULTS
    assert defaults.schema_default("prices") == settings.PRICES


@pytest.mark.parametrize("names", [("default",), ("tiny",), ("paper",), ("aws",), ("tiny", "faults")])
def test_every_experiment_of_every_profile_has_a_spec_that_reads_back_the_same(names):
    config = profile(*names)
    for engine in spec.ENGINES:
        for name, entry in defaults.experiments(engine, config[engine]).items():
            one = spec.experiment_spec(config, engine, entry, name, "results/x")
            assert spec.ExperimentSpec.from_json(one.to_json()) == one
            assert one.experiment.grid == entry["grid"]
            assert one.experiment.repetitions == entry.get("repetitions", config[engine]["repetitions"])


def test_a_spec_holds_only_what_its_experiment_runs_under():
    """A setting an experiment does not use is not in its spec, so changing it reruns nothing."""
    config = profile("default")
    changed = copy.deepcopy(config)
    changed["lithops"]["keep_alive_s"] = 60
    changed["lithops"]["network"]["remote_mbit"] = 100
    changed["lithops"]["repetitions"] = 9  # memory's; warmup sets its own
    for engine in spec.ENGINES:
        for name, entry in defaults.experiments(engine, config[engine]).items():
            new_entry = defaults.experiments(engine, changed[engine])[name]
            before = spec.experiment_spec(config, engine, entry, name, "r").to_json()
            after = spec.experiment_spec(changed, engine, new_entry, name, "r").to_json()
            uses = engine == "lithops" or (engine == "dask" and entry.get("emulate_lambda", False))
            assert (before != after) == uses, (engine, name)


def test_a_bad_spec_is_refused_in_one_line(tmp_path):
    path = tmp_path / "spec.json"
    good = json.loads(spec.experiment_spec(profile("tiny"), "duckdb", {"grid": {}}, "single", "r").to_json())
    path.write_text(json.dumps(good | {"duckdb": {"repetitons": 2}}))
    with pytest.raises(ConfigError, match=r"--spec .*duckdb: unknown settings \['repetitons'\]"):
        spec.ExperimentSpec.read(path)
    with pytest.raises(ConfigError, match="cannot read it"):
        spec.ExperimentSpec.read(tmp_path / "missing.json")
    path.write_text(json.dumps(good | {"duckdb": None}))
    with pytest.raises(ConfigError, match="needs its 'duckdb' settings"):
        spec.ExperimentSpec.read(path)


def test_a_setting_added_as_the_page_says_reaches_the_spec_file_and_the_engine(tmp_path, monkeypatch):
    """docs/adding-a-setting.md's three steps, for a made-up ``lithops.spin_up_s``: a schema entry, a
    field of settings.Lithops, and its use (here: the engine the verb builds reads it)."""
    # 1. the schema entry (a copy of the schema, with the new key and its default)
    schema = yaml.safe_load(SCHEMA.read_text())
    schema["properties"]["lithops"]["properties"]["spin_up_s"] = {"type": "number", "minimum": 0, "default": 1.5}
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(schema))

    # 2. the field, with the schema's default (here a subclass stands in for the edited dataclass)
    @dataclasses.dataclass(frozen=True)
    class Lithops(settings.Lithops):
        spin_up_s: float = 1.5

    monkeypatch.setattr(settings, "Lithops", Lithops)
    monkeypatch.setitem(settings.SECTIONS, "lithops", Lithops)
    monkeypatch.setattr(spec, "Lithops", Lithops)  # the spec's field type, read back from its file
    # a profile that sets it (and one that does not, which gets the default)
    config = profile("tiny")
    config["lithops"]["spin_up_s"] = 4.0
    validate(config, str(tmp_path / "schema.yaml"))
    entry = defaults.experiments("lithops", config["lithops"])["memory"]
    written = spec.experiment_spec(config, "lithops", entry, "memory", str(tmp_path / "results"))
    path = tmp_path / "memory.json"
    path.write_text(written.to_json())
    assert json.loads(path.read_text())["lithops"]["spin_up_s"] == 4.0
    unset = spec.experiment_spec(profile("tiny"), "lithops", entry, "memory", "r")
    assert unset.lithops.spin_up_s == 1.5
    # 3. its use: the verb's engine is built from the spec file
    import aqbench.engines.lithops.engine as lithops_engine
    from aqbench.cli import engines as verbs

    built = {}

    class Engine:
        def __init__(self, store, backend, expected, **settings_):
            built.update(settings_)
            self.runs = []

    monkeypatch.setattr(lithops_engine, "LithopsEngine", Engine)
    monkeypatch.setattr(lithops_engine, "prepare_environment", lambda *a: None)
    monkeypatch.setattr(verbs, "store_of", lambda s: type("S", (), {"open": lambda self: None})())
    monkeypatch.setattr(verbs, "_expected", lambda args: {})
    monkeypatch.setattr(verbs, "_experiment", lambda args, s, engine: built.setdefault("spec", s))
    from aqbench.cli import build_parser

    args = build_parser().parse_args(["run-lithops", "--spec", str(path), "--manifest", "m", "--reference", "r",
                                      "--out", str(tmp_path / "out")])  # fmt: skip
    assert args.func(args) == 0
    assert built["spec"].lithops.spin_up_s == 4.0  # what the engine would be given
    assert built["keep_alive_s"] == config["lithops"]["keep_alive_s"]
