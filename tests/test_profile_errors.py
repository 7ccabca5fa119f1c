"""A profile the schema refuses gets one line: the key, what is wrong, how to fix it."""

from __future__ import annotations

import copy

from aqbench.defaults import SCHEMA, schema_default
from aqbench.profile_errors import one_line


def _valid() -> dict:
    import yaml

    with open("workflow/config/default.yaml", encoding="utf-8") as f:
        profile = yaml.safe_load(f)
    return profile


def test_a_valid_profile_has_no_line():
    assert one_line(_valid(), SCHEMA) is None


def test_a_misspelt_key_is_named_with_the_nearest_setting():
    profile = copy.deepcopy(_valid())
    profile["dask"] = {**profile.get("dask", {}), "repetitons": 3}
    line = one_line(profile, SCHEMA)
    assert "'dask.repetitons' is not a setting" in line and "did you mean 'repetitions'" in line
    assert "\n" not in line


def test_a_value_out_of_its_choices_lists_them():
    profile = copy.deepcopy(_valid()) | {"lithops": {"backend": "gcp_functions"}}
    line = one_line(profile, SCHEMA)
    assert "'lithops.backend' is 'gcp_functions'" in line and "localhost" in line and "\n" not in line


def test_a_wrong_type_says_where_and_what():
    profile = copy.deepcopy(_valid()) | {"study2023": {"repetitions": 0}}
    line = one_line(profile, SCHEMA)
    assert line.startswith("profile setting 'study2023.repetitions'") and "minimum" in line
    assert schema_default("prices")  # the schema itself is readable from the checkout
