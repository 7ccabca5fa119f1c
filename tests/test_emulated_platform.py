"""aqbench.emulated.platform, end to end: a plain Lithops program that imports nothing of aqbench
runs on emulated Lambdas (map, map_reduce, storage, call_async), a second job finds warm
environments, and a call over its memory size is killed as Lambda would kill it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from aqbench.emulated.platform import emulated_lambda

PROGRAM = r"""
import json, sys
import lithops

memory_mb = int(sys.argv[1])

def double(x):
    return 2 * x

def total(results):
    return sum(results)

def hog(mb):
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):  # touch every page: resident, as a real allocation is
        block[i] = 1
    return len(block)

fexec = lithops.FunctionExecutor()
first = fexec.map(double, range(4))
mapped = fexec.get_result(first)
second = fexec.map_reduce(double, range(4), total)
reduced = fexec.get_result(second)
storage = lithops.Storage()
storage.put_object(storage.bucket, "user/hello.txt", b"hello")
read_back = storage.get_object(storage.bucket, "user/hello.txt").decode()
over = fexec.call_async(hog, 2 * memory_mb)
done, not_done = fexec.wait([over], timeout=30, throw_except=False, show_progressbar=False)
print(json.dumps({
    "mapped": mapped, "reduced": reduced, "read_back": read_back,
    "first_cold": [f.stats.get("worker_cold_start") for f in first],
    "second_cold": [f.stats.get("worker_cold_start") for f in second],
    "over_failed": over in done and over.error,
    "over_error": repr(over.result(throw_except=False)) if over in done else None,
}))
"""


@pytest.mark.slow
def test_a_plain_lithops_program_runs_on_emulated_lambdas(tmp_path):
    memory_mb = 512
    with emulated_lambda(tmp_path / "platform", memory_mb, keep_alive_s=120, timeout_s=60) as platform:
        env = dict(os.environ, LITHOPS_CONFIG_FILE=str(platform.config_file), HOME=str(tmp_path / "home"))
        env.pop("PYTHONPATH", None)  # the program brings nothing of ours; the platform does the rest
        (tmp_path / "home").mkdir()
        (tmp_path / "program.py").write_text(PROGRAM, encoding="utf-8")
        done = subprocess.run([sys.executable, str(tmp_path / "program.py"), str(memory_mb)], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        killed = platform.killed_by_memory()
        emulated = platform.emulated
    assert out["mapped"] == [0, 2, 4, 6] and out["reduced"] == 12 and out["read_back"] == "hello"
    assert any(out["first_cold"])  # the first job starts the environments (a quick call may free one for the next)
    # the next job's map calls find them warm (its reducer, which Lithops starts while the maps run
    # and which waits for them, may need an environment of its own, as on Lambda)
    assert not any(out["second_cold"][:4])
    if emulated:  # a host with writable cgroups holds each environment to its memory size
        assert out["over_failed"] and killed == 1  # Lithops reports the kill (a MemoryError), as on Lambda
    else:
        pytest.skip("no writable cgroup v1 hierarchy here: the memory limit is not enforced")


def test_the_platforms_lithops_configuration_names_its_parts(tmp_path):
    from aqbench.emulated.platform import lithops_config

    storage = {"backend": "minio", "minio": {"endpoint": "http://127.0.0.1:1", "storage_bucket": "b"}}
    config = lithops_config(storage, tmp_path / "shim", 3, 60)
    assert config["lithops"]["backend"] == "localhost" and config["localhost"]["worker_processes"] == 3
    assert config["localhost"]["runtime"] == str(tmp_path / "shim") and config["minio"]["storage_bucket"] == "b"
    assert config["lithops"]["execution_timeout"] == 60


def test_the_verb_refuses_a_memory_size_lambda_has_not(tmp_path, capsys):
    from aqbench.cli import main

    assert main(["emulated-lambda", "--state", str(tmp_path), "--memory-mb", "64"]) != 0
    assert "128-10240 MB" in capsys.readouterr().err
    assert not (tmp_path / "lithops.yaml").exists()
