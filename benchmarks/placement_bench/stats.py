"""Latency records, percentiles and CPU accounting.

``Recorder`` keeps (label, status, seconds) per request; recorders of
all clients are merged after a run.  ``CpuMeter`` reads CPU time of this
process (the clients), of a server's process tree and of the whole
machine from /proc, so a figure can be judged against what else was
running (the machine is shared).
"""

import collections
import os
import resource

CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1,
                      int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[rank]


class Recorder:
    """Requests made by one client (or merged from several)."""

    def __init__(self):
        self.latencies = collections.defaultdict(list)
        self.statuses = collections.Counter()
        self.error_samples = []

    def add(self, label, resp):
        self.latencies[label].append(resp.seconds)
        self.statuses[resp.status] += 1
        if (resp.status == 0 or resp.status >= 500) and \
                len(self.error_samples) < 5:
            self.error_samples.append(
                '%s -> %s %s' % (label, resp.status,
                                 resp.body[:200].decode('utf-8', 'replace')))

    def merge(self, other):
        for label, values in other.latencies.items():
            self.latencies[label].extend(values)
        self.statuses.update(other.statuses)
        room = 5 - len(self.error_samples)
        self.error_samples.extend(other.error_samples[:max(room, 0)])

    @property
    def requests(self):
        return sum(self.statuses.values())

    @property
    def server_errors(self):
        """5xx answers plus transport failures (status 0)."""
        return sum(n for status, n in self.statuses.items()
                   if status == 0 or status >= 500)

    def latency_figures(self, labels=None):
        """p50/p90/p99 in ms over ``labels`` (default: all)."""
        values = []
        for label, seconds in self.latencies.items():
            if labels is None or label in labels:
                values.extend(seconds)
        values.sort()
        return {name: _ms(percentile(values, q))
                for name, q in (('p50_ms', 0.5), ('p90_ms', 0.9),
                                ('p99_ms', 0.99))}


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 2)


def _proc_stat(pid):
    """(ppid, cpu seconds) of ``pid`` from /proc, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(')') + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(root_pid):
    """CPU seconds used by ``root_pid`` and its live descendants."""
    parents, cpu = {}, {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            found = _proc_stat(int(entry))
            if found is not None:
                parents[int(entry)], cpu[int(entry)] = found
    children = collections.defaultdict(list)
    for pid, ppid in parents.items():
        children[ppid].append(pid)
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack.extend(children.get(pid, ()))
    return total


def machine_busy_seconds():
    """CPU seconds all cores spent not idle, since boot."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _own_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used between ``start()`` and ``stop()``."""

    def __init__(self, server_pid=None):
        self.server_pid = server_pid
        self._start = None
        self.figures = {}

    def _sample(self):
        server = (tree_cpu_seconds(self.server_pid)
                  if self.server_pid else 0.0)
        return (_own_cpu_seconds(), server, machine_busy_seconds())

    def start(self):
        self._start = self._sample()

    def stop(self, wall_seconds, requests):
        end = self._sample()
        client, server, busy = (e - s for e, s in zip(end, self._start))
        wall = max(wall_seconds, 1e-9)
        self.figures = {
            'client_cpu_cores': round(client / wall, 2),
            'server_cpu_cores': round(server / wall, 2),
            'machine_busy_cores': round(busy / wall, 2),
            'server_cpu_ms_per_req': (round(server * 1000.0 / requests, 2)
                                      if requests and self.server_pid
                                      else None),
        }
        return self.figures
