"""One line for a profile the schema refuses: the key, what is wrong, how to fix it.

Snakemake's ``validate`` names the bad key in its first line and then prints the whole schema node
(hundreds of lines for a misspelt top-level key). The workflow calls it for its defaults and, when it
refuses, raises this module's line instead (``Snakefile``); ``AQBENCH_SCHEMA_DUMP=1`` keeps
Snakemake's full message for whoever wants the schema printed.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any


def one_line(config: dict[str, Any], schema_path: str | Path) -> str | None:
    """The most relevant violation of ``schema_path`` by ``config`` as one line, or None if it validates."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        unknown = sorted(set(error.instance) - set(allowed))
        bad = unknown[0] if unknown else "?"
        key = f"{where}.{bad}" if error.absolute_path else bad
        near = difflib.get_close_matches(bad, allowed, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        return (f"profile setting '{key}' is not a setting: {hint}the settings here are {', '.join(allowed)} "
                f"(workflow/config/schema.yaml)")  # fmt: skip
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return f"profile setting '{where}' is {error.instance!r}: choose one of {choices} (workflow/config/schema.yaml)"
    described = error.schema.get("description", "")
    described = f" ({described.strip().splitlines()[0]})" if described else ""
    fix = "fix it in your profile (workflow/config/schema.yaml)"
    return f"profile setting '{where}': {error.message}{described}; {fix}"
