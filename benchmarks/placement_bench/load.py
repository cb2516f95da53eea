"""Driving several simulated clients at once, within bounds.

``Jobs`` hands out a fixed number of job indexes and stops handing them
out at a deadline, so every loop of the tool is bounded in count and in
time.  ``run_clients`` starts one thread per client, each with its own
``Client``, and returns the wall time and the merged request records.
"""

import threading
import time
import traceback

from placement_bench import client as client_mod
from placement_bench import stats


class Deadline:
    def __init__(self, seconds):
        self.at = time.monotonic() + seconds

    def expired(self):
        return time.monotonic() >= self.at


class Jobs:
    """Indexes 0..total-1, each taken once, until the deadline."""

    def __init__(self, total, deadline):
        self.total = total
        self.deadline = deadline
        self._next = 0
        self._lock = threading.Lock()

    def take(self):
        if self.deadline.expired():
            return None
        with self._lock:
            if self._next >= self.total:
                return None
            index = self._next
            self._next += 1
            return index

    @property
    def taken(self):
        return self._next


class RunResult:
    def __init__(self, wall, recorder, crashes):
        self.wall = wall
        self.recorder = recorder
        # Tracebacks of client threads that died (a bug in a scenario or
        # an answer it could not read); reported, never hidden.
        self.crashes = crashes


def run_clients(base_url, count, worker, timeout=60.0):
    """Call ``worker(client, client_index)`` in ``count`` threads."""
    clients = [client_mod.Client(base_url, timeout=timeout)
               for _ in range(count)]
    crashes = []

    def body(index):
        try:
            worker(clients[index], index)
        except Exception:
            crashes.append(traceback.format_exc(limit=4))
        finally:
            clients[index].close()

    threads = [threading.Thread(target=body, args=(i,), daemon=True)
               for i in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    merged = stats.Recorder()
    for c in clients:
        merged.merge(c.recorder)
    return RunResult(wall, merged, crashes)


def run_jobs(base_url, count, total, job, deadline, timeout=60.0):
    """Spread ``total`` calls of ``job(client, index)`` over ``count``
    clients; stop early at ``deadline``."""
    jobs = Jobs(total, deadline)

    def worker(client, _index):
        while True:
            index = jobs.take()
            if index is None:
                return
            job(client, index)

    result = run_clients(base_url, count, worker, timeout)
    result.jobs_done = jobs.taken
    return result
