"""One plotting function per figure; each reads only the metrics tables it names.

Compute and plot are separate steps: restyling a figure reruns only its rule. The figures are
split by topic: :mod:`.measured` (the runs, per call), :mod:`.maps` (the reference's maps),
:mod:`.comparison` (the engines and kernels side by side), :mod:`.scale` (the scale model).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt

from aqbench.report.figure_names import FIGURES, SCALE_FIGURES
from aqbench.report.figures import comparison, maps, measured, scale
from aqbench.report.figures.common import Inputs

__all__ = ["PLOTS", "Inputs", "draw"]

PLOTS: dict[str, Callable[[Inputs], plt.Figure]] = {
    name: getattr(module, name)
    for module in (measured, maps, comparison, scale)
    for name in FIGURES + SCALE_FIGURES
    if hasattr(module, name)
}
"""The plotting function of each figure, named as the figure (see figure_names)."""


def draw(name: str, inp: Inputs, pdf: Path, png: Path) -> None:
    from aqbench.atomic import atomic_path

    fig = PLOTS[name](inp)
    # no creation date in either file: a figure redrawn from the same inputs is the same bytes
    for path, fmt, metadata in ((pdf, "pdf", {"CreationDate": None}), (png, "png", {})):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata)
    plt.close(fig)
