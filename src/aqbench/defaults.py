"""The schema's defaults and the study's design, read from the checkout's workflow/config.

For the workflow and the report: the verbs (:mod:`aqbench.cli`) never read the schema; their
stand-alone defaults are :mod:`aqbench.settings`' fields, which a test holds equal to the schema's
``default`` entries.
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


DESIGN = SCHEMA.with_name("design.yaml")
"""The study's design: every experiment of every engine and its grid (validated against the schema
by the Snakefile, like a profile)."""


@functools.cache
def _design() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(DESIGN.read_text(encoding="utf-8")) or {}


def design(engine: str, document: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The design's experiments of ``engine`` (name -> its entry, with its grid): of ``document`` (the
    design file as the workflow read it), else of this checkout's."""
    document = _design() if document is None else document
    return (document.get(engine) or {}).get("experiments") or {}


def experiments(
    engine: str, section: dict[str, Any], document: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The study's design for ``engine`` (workflow/config/design.yaml: every experiment and its grid,
    defined once) with a profile's changes applied: a profile names an experiment to change its
    fields (``repetitions``, ``enabled``, a smaller ``grid``, which replaces the design's whole) or
    to add one, never to restate the list, so an experiment added to the design reaches every
    profile. Only the enabled ones are returned; each must have a grid. ``document``: the design
    file as the workflow read it (default: this checkout's)."""
    planned = design(engine, document)
    changes = section.get("experiments") or {}
    merged: dict[str, dict[str, Any]] = {}
    for name in [*planned, *(n for n in changes if n not in planned)]:
        entry = {**planned.get(name, {}), **changes.get(name, {})}
        if "grid" not in entry:
            raise ValueError(f"{engine}.experiments.{name}: a new experiment needs a grid (the design has none)")
        if entry.get("enabled", True):
            merged[name] = entry
    return merged
