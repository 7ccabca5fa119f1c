"""Kernel throughput on one ~25 MB object, beside the machine's practical limit.

(a) the limit: Arrow's JSON reader on the same fields plus a group-by, on the object with
    its malformed lines removed beforehand (a bare parse cannot survive them) — no rules,
    no accounting;
(b) the arrow kernel's map on the raw object, handed over as the engines' reader delivers
    it (a writable buffer, which the kernel may blank in place; the copy is made outside
    the timing, as the engines make it while reading the socket);
(c) the seed kernel's map, and the study's own code on the same records in its layout;
(d) the checksum every engine read verifies (CRC32C), and SHA-256, as a share of (b) on one core;
(e) the ndjson kernel (exact, on DuckDB's reader) and idiomatic DuckDB (``read_ndjson`` with typed
    columns, as a user writes it: not exact, it skips what it cannot read and coerces types),
    the fastest reader here; the exact kernels are also given against it, and so is the ndjson
    kernel's query alone on the same file (no screens, no copy into a file, no accounting): the
    share of the gap that is DuckDB's own scan of the columns exactness needs.
(a), (b) and (e) are measured twice: on all cores (Arrow's threads) and on one core, the
regime a map call runs in — a Lambda below 1769 MB has less than one vCPU, and the
engines run one call per core.
Each map's peak RSS is measured in a fresh process (interpreter and imports included, as a
Lambda call would pay them). Then 2000 partials — the fan-in of the study's 50 GB job —
are merged by one reducer of R = 8 and by the study's single reducer, timed, peak RSS too.
The 2000 partials are one real map output shifted day by day (as consecutive fetch
batches are), so their sizes and key overlaps are those of the real job.
"""

from __future__ import annotations

import functools
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aqbench.engines.duckdb.engine import IDIOMATIC_QUERY
from aqbench.kernels import get_kernel
from aqbench.kernels.arrow import map_object
from aqbench.kernels.bare import bare_parse, cleaned
from aqbench.kernels.ndjson import map_object as ndjson_map
from aqbench.kernels.partial import Partial, split
from aqbench.sources.synth.generate import Generator, plan_dataset
from aqbench.storage import checksum

FAN_IN = 2000
REDUCERS = 8


@functools.cache
def _duckdb(threads: bool):
    """One DuckDB connection per thread setting, opened once: the reader timed, not its start-up."""
    import os

    import duckdb

    return duckdb.connect(config={"threads": (os.cpu_count() or 1) if threads else 1})


def _duckdb_idiomatic(path: Path, threads: bool) -> int:
    """The idiomatic query (the DuckDB engine's ``idiomatic`` kernel) over one file, one or all threads."""
    return _duckdb(threads).sql(IDIOMATIC_QUERY.format(files=[str(path)])).to_arrow_table().num_rows


def _exact_query(path: Path) -> int:
    """The ndjson kernel's fast query alone, on one thread, over the same file as the idiomatic one."""
    from aqbench.kernels.ndjson import FAST

    return _duckdb(False).sql(FAST, params=[str(path)]).to_arrow_table().num_rows


def _interleaved_rates(runs: dict[str, tuple], size: int, repeats: int) -> dict[str, float | list[float]]:
    """MB/s of each (fn, make_input), run in turn (A B C A B C ...) so machine drift hits all alike:
    ``name`` the median, ``name_range`` the range over the repeats (slowest, fastest).

    ``make_input()`` is called outside the timing (a fresh writable copy for the arrow map).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (fn, make_input) in runs.items():
            data = make_input()
            started = time.perf_counter()
            fn(data)
            times[name].append(time.perf_counter() - started)
    rates: dict[str, float | list[float]] = {name: size / 1e6 / statistics.median(t) for name, t in times.items()}
    rates |= {f"{name}_range": [size / 1e6 / max(t), size / 1e6 / min(t)] for name, t in times.items()}
    return rates


MEMORY_REPEATS = 5
"""Processes behind each peak-RSS and merge figure in a result written before results kept their own
count (``processes``). A run now starts ``repeats`` of them (the paper profile's 5): the single
reducer's merge of 2000 partials takes about 40 s a process, so five would be most of a quick
profile's kernel bench. The median is quoted, the range kept beside it."""


def _children(what: str, path: Path, repeats: int, kernel: str = "arrow") -> dict[str, Any]:
    """:func:`_child` ``repeats`` times: the median of each figure, and its range (``*_range``)."""
    runs = [_child(what, path, kernel) for _ in range(repeats)]
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = statistics.median(values)
        out[f"{key}_range"] = [min(values), max(values)]
    return out


CHILD = """
import sys, time, json
from pathlib import Path
what, path = sys.argv[1], sys.argv[2]
from aqbench.kernels import get_kernel
started = time.perf_counter()
if what == "idiomatic":  # DuckDB as a user writes it, on one thread, over the file
    from aqbench.bench.kernels import _duckdb_idiomatic
    _duckdb_idiomatic(Path(path), threads=False)
elif what == "bare":  # Arrow's bare parse on one core, of the object without its malformed lines
    from aqbench.kernels.bare import bare_parse
    with open(path, "rb") as fh:
        bare_parse(fh.read(), threads=False)
elif what == "map":
    kernel = get_kernel(sys.argv[3])
    from aqbench.storage import read_exactly
    with open(path, "rb") as fh:  # as the engines read an object: into one writable buffer
        body = read_exactly(fh)
    kernel.map(body, "object.ndjson", 1)
else:
    kernel = get_kernel(sys.argv[3])
    parts = sorted(Path(path).glob("*.ipc"))
    out = kernel.reduce(p.read_bytes() for p in parts)
seconds = time.perf_counter() - started
from aqbench.procstat import peak_rss_mb  # VmHWM: ru_maxrss would report the parent's size
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))
"""


def _child(what: str, path: Path, kernel: str = "arrow") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(path), kernel], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _shifted(partial: Partial, days: int) -> Partial:
    t = partial.table
    day = pc.strptime(t.column("day"), format="%Y-%m-%d", unit="s")
    shifted = pc.strftime(pc.add(day, pa.scalar(days * 86400, pa.duration("s"))), format="%Y-%m-%d")
    return Partial(t.set_column(t.schema.get_field_index("day"), "day", shifted), partial.counts)


def run(size: str = "25MB", repeats: int = 3, fan_in: int = FAN_IN) -> dict[str, float]:
    plan = plan_dataset("1GB", seed=1, object_size=size)
    body, _, _ = Generator(plan).object_bytes(plan.objects // 2)
    clean = cleaned(body)
    arrow, seed = get_kernel("arrow"), get_kernel("seed")
    result: dict[str, float] = {"object_mb": len(body) / 1e6, "fan_in": fan_in, "reducers": REDUCERS,
                                "processes": repeats}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="aqbench-bench-", dir=_memory_folder()) as tmp:
        raw = Path(tmp, "object.ndjson")  # idiomatic DuckDB reads a file: in memory where there is /dev/shm
        raw.write_bytes(body)
        rates = _interleaved_rates(
            {
                "bare": (bare_parse, lambda: clean),
                "arrow": (lambda b: arrow.map(b, "o.ndjson", 1), lambda: bytearray(body)),
                "ndjson": (ndjson_map, lambda: bytearray(body)),
                "duckdb_idiomatic": (lambda p: _duckdb_idiomatic(p, threads=True), lambda: raw),
                "bare_1core": (lambda b: bare_parse(b, threads=False), lambda: clean),
                "arrow_1core": (lambda b: map_object(b, threads=False), lambda: bytearray(body)),
                "ndjson_1core": (lambda b: ndjson_map(b, threads=False), lambda: bytearray(body)),
                "duckdb_idiomatic_1core": (lambda p: _duckdb_idiomatic(p, threads=False), lambda: raw),
                "exact_query_1core": (_exact_query, lambda: raw),
                # the check every engine read makes (CRC32C, S3's own), and SHA-256 for comparison
                "crc32c": (checksum, lambda: body),
                "sha256": (lambda b: hashlib.sha256(b).digest(), lambda: body),
            },
            len(body),
            repeats * 5,
        )
    for name, rate in rates.items():  # a rate's range keeps its name: arrow_mb_s_range
        result[f"{name.removesuffix('_range')}_mb_s" + ("_range" if name.endswith("_range") else "")] = rate
    for cores in ("", "_1core"):  # the fastest reader of this run, exact or not, and the exact kernels against it
        fastest = max(result[f"bare{cores}_mb_s"], result[f"duckdb_idiomatic{cores}_mb_s"])
        result[f"fastest{cores}_mb_s"] = fastest
        for kernel in ("arrow", "ndjson"):
            result[f"{kernel}_vs_fastest{cores}"] = result[f"{kernel}{cores}_mb_s"] / fastest
    result["exact_query_vs_fastest_1core"] = result["exact_query_1core_mb_s"] / result["fastest_1core_mb_s"]
    # the seed kernel beside the study's own code on the same records in its own layout (one JSON
    # document), interleaved; both rates per MB of the newline-delimited object
    from aqbench.kernels.study import to_study_layout

    document, study = to_study_layout(body), get_kernel("study")
    slow = _interleaved_rates(
        {
            "seed": (lambda b: seed.map(b, "o.ndjson", 1), lambda: body),
            "study": (lambda b: study.map(document, "o.json", 1), lambda: body),
        },
        len(body),
        repeats,
    )
    result["seed_mb_s"], result["study_mb_s"] = slow["seed"], slow["study"]
    result["seed_mb_s_range"], result["study_mb_s_range"] = slow["seed_range"], slow["study_range"]
    result["seed_vs_study"] = result["seed_mb_s"] / result["study_mb_s"]
    result["study_document_mb"] = len(document) / 1e6
    result["arrow_vs_bare"] = result["arrow_mb_s"] / result["bare_mb_s"]
    result["arrow_vs_bare_1core"] = result["arrow_1core_mb_s"] / result["bare_1core_mb_s"]
    # a checksum's time as a share of a one-core arrow map call of the same object
    result["crc32c_vs_map"] = result["arrow_1core_mb_s"] / result["crc32c_mb_s"]
    result["sha256_vs_map"] = result["arrow_1core_mb_s"] / result["sha256_mb_s"]
    result["arrow_vs_seed"] = result["arrow_mb_s"] / result["seed_mb_s"]
    with tempfile.TemporaryDirectory(prefix="aqbench-bench-") as tmp:
        obj = Path(tmp, "object.ndjson")
        obj.write_bytes(body)
        peaks = (("arrow_map", "map", "arrow"), ("seed_map", "map", "seed"), ("ndjson_map", "map", "ndjson"),
                 ("duckdb_idiomatic", "idiomatic", "arrow"))  # fmt: skip
        for name, what, kernel in peaks:
            peak = _children(what, obj, repeats, kernel)
            result[f"{name}_peak_rss_mb"] = peak["peak_rss_mb"]
            result[f"{name}_peak_rss_mb_range"] = peak["peak_rss_mb_range"]
        clean_obj = Path(tmp, "clean.ndjson")
        clean_obj.write_bytes(clean)
        peak = _children("bare", clean_obj, repeats)
        result["bare_peak_rss_mb"], result["bare_peak_rss_mb_range"] = peak["peak_rss_mb"], peak["peak_rss_mb_range"]
        base = Partial.from_ipc(arrow.map(body, "o.ndjson", 1)[0])
        hours = plan.hours_per_object
        for reducers in (REDUCERS, 1):
            folder = Path(tmp, f"r{reducers}")
            folder.mkdir()
            for i in range(fan_in):
                part = split(_shifted(base, i * hours // 24), reducers)[0]
                Path(folder, f"{i:05d}.ipc").write_bytes(part.to_ipc())
            merged = _children("reduce", folder, repeats)
            for key in ("seconds", "peak_rss_mb"):
                result[f"merge_r{reducers}_{key}"] = merged[key]
                result[f"merge_r{reducers}_{key}_range"] = merged[f"{key}_range"]
    return result


def _range(r: dict[str, Any], key: str, digits: int = 1) -> str:
    """A figure's range over its repeats, ``[lo-hi]``; empty for a result from before ranges were kept."""
    lo_hi = r.get(f"{key}_range")
    return f"[{lo_hi[0]:.{digits}f}-{lo_hi[1]:.{digits}f}]" if lo_hi else ""


def _memory_folder() -> str | None:
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


def _processes(n: int) -> str:
    return "one process" if n == 1 else f"median of {n} processes"


def report(r: dict[str, float]) -> str:
    return "\n".join(
        [
            f"kernels on one {r['object_mb']:.1f} MB object (median of runs; peaks and merges: "
            f"{_processes(int(r.get('processes', MEMORY_REPEATS)))})",
            f"  (a) bare Arrow parse + group-by (limit) {r['bare_mb_s']:8.1f} MB/s all cores, "
            f"{r['bare_1core_mb_s']:6.1f} MB/s one core",
            f"  (b) arrow map                           {r['arrow_mb_s']:8.1f} MB/s all cores, "
            f"{r['arrow_1core_mb_s']:6.1f} MB/s one core",
            f"      arrow/limit = {r['arrow_vs_bare_1core']:.2f} on one core (a map call's regime), "
            f"{r['arrow_vs_bare']:.2f} on all cores (target >= 0.85)",
            f"  (e) ndjson map (exact, DuckDB's reader) {r['ndjson_mb_s']:8.1f} MB/s all cores, "
            f"{r['ndjson_1core_mb_s']:6.1f} MB/s one core",
            f"      idiomatic DuckDB (not exact)        {r['duckdb_idiomatic_mb_s']:8.1f} MB/s all cores, "
            f"{r['duckdb_idiomatic_1core_mb_s']:6.1f} MB/s one core",
            f"      against the fastest reader of this run ({r['fastest_1core_mb_s']:.1f} MB/s one core, "
            f"{r['fastest_mb_s']:.1f} all cores): arrow {r['arrow_vs_fastest_1core']:.2f} / "
            f"{r['arrow_vs_fastest']:.2f}, ndjson {r['ndjson_vs_fastest_1core']:.2f} / {r['ndjson_vs_fastest']:.2f} "
            f"(one core / all cores; target >= 0.8 on one core)",
            f"      the ndjson kernel's query alone (no screens, file, accounting) {r['exact_query_1core_mb_s']:6.1f} "
            f"MB/s one core = {r['exact_query_vs_fastest_1core']:.2f} of the fastest: no kernel built on this "
            f"query can go faster",
            f"  (d) checksum of every read: CRC32C {r['crc32c_mb_s']:6.0f} MB/s = {100 * r['crc32c_vs_map']:.1f} % "
            f"of a one-core arrow map (target <= 5 %); SHA-256 {r['sha256_mb_s']:.0f} MB/s = "
            f"{100 * r['sha256_vs_map']:.1f} %",
            f"  (c) seed map (the study's pandas code)  {r['seed_mb_s']:8.1f} MB/s {_range(r, 'seed_mb_s')}  "
            f"arrow/seed = {r['arrow_vs_seed']:.1f} (target >= 5)",
            f"      the study's own code (its layout)   {r['study_mb_s']:8.1f} MB/s   seed/study = "
            f"{r['seed_vs_study']:.1f} (same records, a {r['study_document_mb']:.1f} MB document)",
            f"  peak RSS of one map call: arrow {r['arrow_map_peak_rss_mb']:.0f} MB (target <= 200), "
            f"seed {r['seed_map_peak_rss_mb']:.0f} MB, ndjson {r['ndjson_map_peak_rss_mb']:.0f} MB; "
            f"one core, no kernel: idiomatic DuckDB {r['duckdb_idiomatic_peak_rss_mb']:.0f} MB, "
            f"bare Arrow parse {r['bare_peak_rss_mb']:.0f} MB",
            f"  merging {int(r['fan_in'])} partials: one of R={REDUCERS} reducers "
            f"{r[f'merge_r{REDUCERS}_seconds']:.1f} s, "
            f"peak RSS {r[f'merge_r{REDUCERS}_peak_rss_mb']:.0f} MB (target <= 1024); "
            f"single reducer {r['merge_r1_seconds']:.1f} s, {r['merge_r1_peak_rss_mb']:.0f} MB "
            f"{_range(r, 'merge_r1_peak_rss_mb', 0)}",
        ]
    )
