"""The emulated Lambda service's workers: a chunk's activations in sequence in one environment,
at most `places` workers at once in worker order, and nothing waits forever."""

from __future__ import annotations

import random
import threading
import time

from aqbench.emulated.service import LambdaService, _place


class FakeEnv:
    def __init__(self, number: int):
        self.id = f"env-{number}"

    def alive(self) -> bool:
        return True


def _service(tmp_path, places: int):
    service = LambdaService(tmp_path / "svc", emulate=False)
    count = iter(range(1, 1000))
    service._acquire = lambda function: (FakeEnv(next(count)), True)
    service._release = lambda env, discard: None
    service.use_function(1024, places=places)
    return service


def test_an_activation_is_placed_in_its_worker_as_lithops_cuts_the_job():
    payload = {"executor_id": "e", "job_id": "M000", "chunksize": 2, "total_calls": 5}
    places = [_place(payload | {"call_ids": [f"{i:05d}"]}) for i in range(5)]
    assert [(w[2], p, last) for w, p, last in places] == [(0, 0, False), (0, 1, True), (1, 0, False),
                                                           (1, 1, True), (2, 0, True)]  # fmt: skip
    assert _place(payload | {"chunksize": 1, "call_ids": ["00003"]})[0][2] == 3


def test_workers_run_their_activations_in_turn_and_at_most_places_at_once(tmp_path):
    """Two workers of three activations, one place, arriving in any order: each worker's
    activations run one after another in one environment, the second worker after the first."""
    service = _service(tmp_path, places=1)
    log: list[tuple] = []
    lock = threading.Lock()

    def activation(worker: int, position: int) -> None:
        key = ("e", "M000", worker)
        env, cold, _ = service._take(key, position, time.monotonic() + 30)
        with lock:
            log.append(("start", worker, position, env.id, cold))
        time.sleep(0.02)
        with lock:
            log.append(("end", worker, position, env.id, cold))
        service._give_back(key, position, position == 2, env, discard=False)

    jobs = [(w, p) for w in range(2) for p in range(3)]
    random.Random(4).shuffle(jobs)
    threads = [threading.Thread(target=activation, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    starts = [(w, p) for kind, w, p, _, _ in log if kind == "start"]
    assert starts == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]  # one place: worker 0, then 1
    envs = {w: {e for _, ww, _, e, _ in log if ww == w} for w in (0, 1)}
    assert all(len(e) == 1 for e in envs.values())  # a worker keeps its environment
    assert [c for kind, _, p, _, c in log if kind == "start"] == [True, False, False, True, False, False]
    running = 0
    for kind, *_ in log:  # never two activations at once with one place
        running += 1 if kind == "start" else -1
        assert running <= 1


def test_an_activation_whose_predecessor_never_arrives_runs_at_its_deadline(tmp_path):
    service = _service(tmp_path, places=2)
    started = time.monotonic()
    _env, cold, _ = service._take(("e", "M001", 0), 1, time.monotonic() + 0.3)  # position 0 never came
    assert cold and time.monotonic() - started >= 0.3  # it waited for its deadline, then ran (no hang)


def test_every_activation_of_a_worker_shares_its_invocations_timeout(tmp_path):
    """Lambda's timeout counts from the invocation's start (INIT not counted): whichever of its
    activations is served first starts the clock, every later one of the worker (whenever it
    starts) ends by the same deadline; another worker's clock is its own; no timeout, no deadline."""
    service = _service(tmp_path, places=1)
    service.use_function(1024, places=1, timeout_s=900)
    w0, w1 = ("e", "M000", 0), ("e", "M000", 1)
    assert service._deadline(w0, 100.0) == 1000.0
    assert service._deadline(w0, 640.0) == 1000.0
    assert service._deadline(w1, 700.0) == 1600.0
    service.use_function(1024, places=1, timeout_s=60)  # the next run's workers are other workers
    assert service._deadline(("e2", "M000", 0), 50.0) == 110.0
    service.use_function(1024, places=1)
    assert service._deadline(w0, 5.0) == 0.0


def test_a_call_gets_what_is_left_of_its_invocation():
    from aqbench.engines.lithops.calls import time_left

    assert time_left(5.0, 0.0) == 5.0 and time_left(None, 0.0) is None  # no deadline: its own timeout
    assert time_left(900.0, 1000.0, now=990.0) == 10.0  # the invocation's clock is nearer
    assert time_left(2.0, 1000.0, now=990.0) == 2.0
    assert time_left(900.0, 1000.0, now=1200.0) == 0.001  # reached after it: a timeout at once
    assert time_left(None, 1000.0, now=400.0) == 600.0
