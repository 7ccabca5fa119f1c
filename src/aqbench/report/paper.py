"""Building the paper: sources from paper/, generated files from results/<profile>/, latexmk in a scratch folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from aqbench.atomic import atomic_path
from aqbench.errors import ConfigError


def build_paper(source: Path, generated: Path, out: Path, draft: bool = False) -> int:
    """Compile ``source/main.tex`` with ``generated`` on TeX's path; refuse undefined references.

    Unless ``draft``, a PDF showing a placeholder (a number, table or figure that was not
    generated: ``[Name?]``) is refused too, naming what is missing; nothing is written.
    """
    if shutil.which("latexmk") is None:
        raise ConfigError("latexmk is not installed: run 'make system-deps' (TeX Live), then rerun")
    with tempfile.TemporaryDirectory(prefix="aqbench-paper-") as tmp:
        build = Path(tmp)
        shutil.copytree(source, build / "src")
        shutil.copytree(generated, build / "src" / "generated")
        proc = subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "main.tex"],
            cwd=build / "src",
            capture_output=True,
            text=True,
            errors="replace",  # TeX writes its log in the input's 8-bit encoding, not always UTF-8
            check=False,
        )
        log_text = (
            (build / "src" / "main.log").read_text(errors="replace")
            if (build / "src" / "main.log").exists()
            else proc.stdout
        )
        if proc.returncode != 0:
            lines = log_text.splitlines()
            # -file-line-error writes "./file.tex:25: message"; without it, TeX's "! message"
            first = next((i for i, ln in enumerate(lines) if re.match(r"\S+\.tex:\d+: ", ln)), None)
            if first is None:
                first = next((i for i, ln in enumerate(lines) if ln.startswith("!")), None)
            where = (
                next((ln for ln in lines[first : first + 8] if ln.startswith("l.")), "") if first is not None else ""
            )
            what = lines[first] if first is not None else "see latexmk's output"
            raise ConfigError(f"LaTeX failed: {what} {where.strip()}".strip())
        undefined = re.findall(r"(?:Reference|Citation) `([^']+)' .*undefined", log_text)
        if undefined:
            raise ConfigError(f"the paper has undefined references or citations: {', '.join(sorted(set(undefined)))}")
        missing = sorted(set(re.findall(r"aqbench-missing: ([^\n]+)", log_text)))
        if missing and not draft:
            raise ConfigError(
                f"the paper would show placeholders for {', '.join(missing)}: generate them "
                "(aqbench report / figure) or build a draft (aqbench paper --draft)"
            )
        pdf = build / "src" / "main.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as target:
            shutil.copyfile(pdf, target)
        pages = re.search(r"Output written on main\.pdf \((\d+) page", log_text)
        return int(pages.group(1)) if pages else 0
