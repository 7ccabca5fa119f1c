"""aqbench.lambda_facts: Lambda's published facts, read from their one table by every part."""

from __future__ import annotations

import pytest
import yaml

from aqbench.defaults import schema_default
from aqbench.lambda_facts import FACTS_FILE, call_share, facts, read


def test_the_typed_fields_are_the_tables_values():
    table = yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))["facts"]
    f = facts()
    assert f.mb_per_vcpu == table["mb_per_vcpu"]["value"] and f.network_mbit == table["network_mbit"]["value"]
    assert f.timeout_s == table["timeout_s"]["value"] and f.max_visible_cores == table["max_visible_cores"]["value"]
    assert f.ranges["network_mbit"] == tuple(table["network_mbit"]["range"])


def test_the_profiles_default_link_is_the_tables_rate():
    """The schema must write its default as a literal: it is held to the table here."""
    assert schema_default("lithops.network.local_mbit") == facts().network_mbit


def test_one_cpu_share_rule():
    f = facts()
    assert f.vcpus(f.mb_per_vcpu) == 1.0
    assert call_share(1024) == pytest.approx(1024 / f.mb_per_vcpu)
    assert call_share(3000, max_cores=6) == 1.0  # below two vCPUs the map runs on one core
    assert call_share(10240, max_cores=f.max_visible_cores) == pytest.approx(10240 / f.mb_per_vcpu)
    assert call_share(10240, max_cores=4) == 4  # no more than the cores it sees
    assert call_share(10240, max_cores=1) == 1.0  # a single-threaded kernel


def test_a_users_table_changes_what_the_parts_read(tmp_path, monkeypatch):
    """The emulation and the budget read the loaded table, not a copy of its numbers."""
    from aqbench import lambda_facts
    from aqbench.aws import budget
    from aqbench.emulated import cgroups

    table = yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))
    table["facts"]["mb_per_vcpu"]["value"] = 1000
    table["facts"]["network_mbit"]["value"] = 80
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(table), encoding="utf-8")
    monkeypatch.setattr(lambda_facts, "facts", lambda: read(path))
    monkeypatch.setattr(cgroups, "facts", lambda: read(path))
    monkeypatch.setattr(budget, "facts", lambda: read(path))
    assert cgroups.max_concurrency(1000, cores=2) == 2
    fast = budget.Assumptions(call_overhead_s=0, mb_s_per_vcpu=1000, timeout_s=900)
    assert budget.call_seconds(1, 100, 2000, fast) == pytest.approx(100 / 10)  # the 80 Mbit/s link bounds it
