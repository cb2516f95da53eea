"""What every scenario gets, and how scenarios are registered.

A scenario is a function ``run(ctx)`` returning a dict of figures,
registered with ``@register(name, description, throughput=FIGURE)``.
``throughput`` names the figure compared between targets; figures
listed in ``MUST_BE_ZERO`` are correctness checks the report flags when
they are not 0.  Scenarios run in the order given on the command line
against one service start and may share data through ``ctx.state``
(e.g. the providers ``create`` made are read by ``show``).
"""

import collections

from placement_bench import client as client_mod
from placement_bench import load
from placement_bench import stats

Scenario = collections.namedtuple('Scenario',
                                  'name description throughput run')
REGISTRY = {}

# Figures that are failures whenever they are not zero.
MUST_BE_ZERO = ('errors_5xx', 'failed', 'crashes', 'lost_updates',
                'same_base_generation', 'gave_up', 'wrong_answers',
                'overcommit', 'usage_mismatch')


def register(name, description, throughput):
    def decorate(fn):
        REGISTRY[name] = Scenario(name, description, throughput, fn)
        return fn
    return decorate


class Context:
    """One service start: where it is, the options, shared state."""

    def __init__(self, base_url, options, server_pid=None):
        self.base_url = base_url
        self.options = options
        self.server_pid = server_pid
        self.version = options.version
        self.state = {}

    def client(self):
        return client_mod.Client(self.base_url, timeout=self.options.timeout)

    def deadline(self):
        return load.Deadline(self.options.deadline)

    def measure_jobs(self, clients, total, job):
        """Time ``total`` jobs over ``clients``; return (figures,
        RunResult).  ``ops`` counts jobs, ``requests`` HTTP requests."""
        meter = stats.CpuMeter(self.server_pid)
        meter.start()
        result = load.run_jobs(self.base_url, clients, total, job,
                               self.deadline(), self.options.timeout)
        return self._figures(meter, result, result.jobs_done), result

    def measure_clients(self, clients, worker, ops_of):
        """Time ``worker(client, index)`` in ``clients`` threads;
        ``ops_of(result)`` counts what the run achieved."""
        meter = stats.CpuMeter(self.server_pid)
        meter.start()
        result = load.run_clients(self.base_url, clients, worker,
                                  self.options.timeout)
        return self._figures(meter, result, ops_of(result)), result

    @staticmethod
    def _figures(meter, result, ops):
        rec = result.recorder
        wall = max(result.wall, 1e-9)
        figures = {'clients_wall_s': round(result.wall, 2), 'ops': ops,
                   'ops_per_s': round(ops / wall, 1),
                   'requests': rec.requests,
                   'req_per_s': round(rec.requests / wall, 1),
                   'errors_5xx': rec.server_errors,
                   'crashes': len(result.crashes)}
        figures.update(rec.latency_figures())
        figures.update(meter.stop(result.wall, rec.requests))
        return figures
