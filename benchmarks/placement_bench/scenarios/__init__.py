"""The scenarios the tool can run, by name.

Adding one: write a module in this package whose ``run(ctx)`` function
is decorated with ``base.register(name, description, throughput=...)``
and import it below.  ``ctx.measure_jobs`` / ``ctx.measure_clients``
time a bounded multi-client run and give the common figures (ops/s,
latency percentiles, 5xx, CPU); add the scenario's own figures and
correctness checks (names in ``base.MUST_BE_ZERO`` are flagged).

``PLANNED`` names scenarios that need API parts the project does not
serve yet; asking for one says so instead of measuring something else.
"""

from placement_bench.scenarios import allocations
from placement_bench.scenarios import base
from placement_bench.scenarios import contention
from placement_bench.scenarios import providers

# Imported for what they register.
MODULES = (allocations, contention, providers)
REGISTRY = base.REGISTRY
MUST_BE_ZERO = base.MUST_BE_ZERO
DEFAULT = ('create', 'show', 'list', 'trait-contention',
           'aggregate-contention', 'allocations')

# name -> why it cannot run yet (none at the moment).
PLANNED = {}
