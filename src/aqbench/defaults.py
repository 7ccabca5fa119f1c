"""Stand-alone defaults of the CLI, read from the profile schema: one place for every default.

The workflow always passes what the profile says; a user calling ``aqbench generate`` by
hand gets the same defaults as the default profile, because both come from the schema's
``default`` entries (``workflow/config/schema.yaml``), never from a second copy here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "config" / "schema.yaml"
"""The profile schema of this checkout (the package is installed editable from it)."""


@functools.cache
def _schema() -> dict[str, Any] | None:
    import yaml

    try:
        return yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    except OSError:
        return None


def _filled(node: dict[str, Any]) -> Any:
    """A node's default, with the defaults of an object's properties filled in (as validation does)."""
    value = node["default"]
    if isinstance(value, dict) and "properties" in node:
        value = dict(value)
        for name, sub in node["properties"].items():
            if name not in value and "default" in sub:
                value[name] = _filled(sub)
    return value


def schema_default(dotted: str) -> Any:
    """The schema's default of a profile key such as ``data.synthetic.seed`` (KeyError if it has none)."""
    node = _schema()
    if node is None:
        raise KeyError(f"no profile schema at {SCHEMA}")
    for part in dotted.split("."):
        node = node["properties"][part]
    return _filled(node)


def option_default(dotted: str) -> dict[str, Any]:
    """``add_argument`` keywords: the schema's default, or required where no schema is at hand."""
    try:
        return {"default": schema_default(dotted)}
    except KeyError:
        return {"required": True}


def experiments(engine: str, section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The study's design for ``engine`` (the schema's ``<engine>.experiments`` default: every
    experiment and its grid, defined once) with a profile's changes applied: a profile names an
    experiment to change its fields (``repetitions``, ``enabled``, a smaller ``grid``) or to add
    one, never to restate the list, so an experiment added to the design reaches every profile.
    Only the enabled ones are returned; each must have a grid."""
    design = schema_default(f"{engine}.experiments")
    changes = section.get("experiments") or {}
    if changes == design:  # validation filled the default in: the profile changed nothing
        changes = {}
    merged: dict[str, dict[str, Any]] = {}
    for name in [*design, *(n for n in changes if n not in design)]:
        entry = {**design.get(name, {}), **changes.get(name, {})}
        if "grid" not in entry:
            raise ValueError(f"{engine}.experiments.{name}: a new experiment needs a grid (the design has none)")
        if entry.get("enabled", True):
            merged[name] = entry
    return merged
