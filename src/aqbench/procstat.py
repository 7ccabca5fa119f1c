"""A call's own memory figures, from ``/proc/self/status``, the same way for every engine.

``peak_rss_mb`` in every engine's rows is the process's resident high-water mark from the
call's start to its end: :func:`reset_peak` at the start (Linux resets VmHWM to the current
RSS when ``5`` is written to ``/proc/self/clear_refs``), :func:`peak_rss_mb` at the end.
A long-lived Dask worker and a fresh Lithops process thus report the same thing: what the
process held while this call ran, its loaded libraries included, as Lambda's "max memory
used" does. Not ``ru_maxrss``: it survives ``exec`` and never resets.
"""

from __future__ import annotations

import resource


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Start a new high-water mark at the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The resident high-water mark since the process started or since :func:`reset_peak`."""
    kb = _status_kb("VmHWM:")
    return kb / 1024 if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_bytes() -> int:
    """The resident set now."""
    kb = _status_kb("VmRSS:")
    return kb * 1024 if kb is not None else 0
