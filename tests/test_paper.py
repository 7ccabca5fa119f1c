"""The paper builds with real TeX; with nothing generated it still compiles, showing placeholders."""

from __future__ import annotations

import shutil

import pytest

from aqbench.errors import ConfigError
from aqbench.report.paper import build_paper

from conftest import REPO

needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed")


@needs_tex
def test_paper_compiles_with_placeholders_when_nothing_is_generated(tmp_path):
    (tmp_path / "generated").mkdir()
    pages = build_paper(REPO / "paper", tmp_path / "generated", tmp_path / "paper.pdf", draft=True)
    assert pages >= 2 and (tmp_path / "paper.pdf").read_bytes()[:4] == b"%PDF"


@needs_tex
def test_a_paper_with_placeholders_is_refused_outside_draft_mode(tmp_path):
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "macros.tex").write_text("\\newcommand{\\aqCommit}{abc}\n")
    with pytest.raises(ConfigError, match=r"placeholders for .*figure cost.*macro DataSizeMB"):
        build_paper(REPO / "paper", tmp_path / "generated", tmp_path / "paper.pdf")
    assert not (tmp_path / "paper.pdf").exists()


@needs_tex
def test_an_undefined_reference_fails_the_build(tmp_path):
    source = tmp_path / "paper"
    shutil.copytree(REPO / "paper", source)
    main = source / "main.tex"
    main.write_text(main.read_text().replace(r"\end{abstract}", r"See Section~\ref{sec:nowhere}.\end{abstract}"))
    (tmp_path / "generated").mkdir()
    with pytest.raises(ConfigError, match="sec:nowhere"):
        build_paper(source, tmp_path / "generated", tmp_path / "paper.pdf")
    assert not (tmp_path / "paper.pdf").exists()


def test_the_paper_cites_the_study_it_reproduces_and_every_reference_is_cited():
    """The study and the tools the paper names are in its bibliography, and nothing is listed that
    the text never cites (LaTeX prints an uncited \\bibitem without a warning)."""
    import re
    from pathlib import Path

    paper = Path(__file__).parent.parent / "paper"
    main = (paper / "main.tex").read_text(encoding="utf-8")
    text = main + "".join(p.read_text(encoding="utf-8") for p in (paper / "sections").glob("*.tex"))
    items = set(re.findall(r"\\bibitem\{([^}]+)\}", main))
    cited = {k.strip() for group in re.findall(r"\\cite\{([^}]+)\}", text) for k in group.split(",")}
    assert {"study", "lithops", "dask", "duckdb", "snakemake"} <= items
    assert "Białka" in main and "10.1109/TCC.2021.3129000" in main
    assert cited == items
