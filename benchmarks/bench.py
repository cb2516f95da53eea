#!/usr/bin/env python3
"""Benchmark a Placement service: this project and/or OpenStack Placement.

    python benchmarks/bench.py --db postgresql --workers 2 \\
        --target project=.venv --target upstream=/path/to/upstream-venv

Each target is started under gunicorn on a fresh database, the chosen
scenarios run against it, and it is stopped; with ``--rounds N`` the
targets alternate N times and medians are reported.  With a project and
an upstream target the ratios project/upstream of the same run are
printed.  ``--url`` measures an already running service instead.
Standard library only; loopback only; every loop is bounded.  See
README.rst beside this file.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from placement_bench import report  # noqa: E402
from placement_bench import scenarios  # noqa: E402
from placement_bench import service  # noqa: E402
from placement_bench.scenarios import base  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    where = p.add_argument_group('what to measure')
    where.add_argument('--target', '-t', action='append', default=[],
                       metavar='KIND[=VENV][,src=DIR][,label=NAME]',
                       help='project or upstream, with the venv it is '
                            'installed in; src= imports the package from '
                            'DIR instead (repeatable; default: '
                            'project=%s/.venv)' % REPO)
    where.add_argument('--url', help='measure this running service '
                                     '(loopback) instead of starting one')
    where.add_argument('--serve', type=float, metavar='SECONDS',
                       help='only start the first target and keep it '
                            'running this long (for profiling)')
    where.add_argument('--db', action='append', default=[],
                       choices=('sqlite', 'postgresql', 'mysql'),
                       help='database backend (repeatable; default sqlite)')
    where.add_argument('--workers', type=int, default=2)
    where.add_argument('--worker-class', default='sync')
    where.add_argument('--threads', type=int, default=1)
    where.add_argument('--rounds', type=int, default=1,
                       help='alternate the targets this many times')
    where.add_argument('--scenarios', '-s', nargs='+',
                       default=list(scenarios.DEFAULT),
                       help='any of: %s' % ', '.join(
                           list(scenarios.REGISTRY) + list(scenarios.PLANNED)))
    sizes = p.add_argument_group('sizes and bounds')
    sizes.add_argument('--clients', '-c', type=int, default=8,
                       help='concurrent clients for create/show/list')
    sizes.add_argument('--providers', type=int, default=500,
                       help='providers created by create')
    sizes.add_argument('--reads', type=int, default=2000,
                       help='GET one provider requests')
    sizes.add_argument('--lists', type=int, default=40,
                       help='GET /resource_providers requests')
    sizes.add_argument('--contention-clients', type=int, default=8)
    sizes.add_argument('--updates', type=int, default=10,
                       help='items each contention client adds')
    sizes.add_argument('--max-attempts', type=int, default=300,
                       help='tries per contention item or allocation claim '
                            'before giving up')
    sizes.add_argument('--alloc-clients', type=int, default=8)
    sizes.add_argument('--alloc-claims', type=int, default=30,
                       help='claims each allocation client makes')
    sizes.add_argument('--alloc-providers', type=int, default=2)
    sizes.add_argument('--alloc-capacity', type=int, default=7,
                       help='VCPU of each allocation provider (demand is '
                            'alloc-clients x alloc-hold)')
    sizes.add_argument('--alloc-hold', type=int, default=2,
                       help='claims a client holds before releasing one')
    sizes.add_argument('--version', default='1.39',
                       help='microversion of every request (>= 1.23)')
    sizes.add_argument('--deadline', type=float, default=300,
                       help='seconds one scenario may run')
    sizes.add_argument('--timeout', type=float, default=60,
                       help='seconds one HTTP request may take')
    out = p.add_argument_group('output')
    out.add_argument('--workdir', help='run directories (default: a new '
                                       'temporary directory)')
    out.add_argument('--json', metavar='FILE',
                     help='write every round, medians and ratios here')
    args = p.parse_args(argv)
    for name in args.scenarios:
        if name in scenarios.PLANNED:
            p.error('scenario %s is not available yet: %s'
                    % (name, scenarios.PLANNED[name]))
        if name not in scenarios.REGISTRY:
            p.error('unknown scenario %s' % name)
    if tuple(int(x) for x in args.version.split('.')) < (1, 23):
        p.error('--version must be 1.23 or later (conflicts are told '
                'apart by error code)')
    if args.rounds < 1 or args.workers < 1:
        p.error('--rounds and --workers must be positive')
    try:
        args.targets = [service.Target(spec) for spec in
                        (args.target or ['project=%s/.venv' % REPO])]
    except ValueError as exc:
        p.error(str(exc))
    labels = [t.label for t in args.targets]
    if len(set(labels)) != len(labels):
        p.error('targets need distinct labels (add ,label=NAME)')
    return args


def log(message):
    sys.stderr.write('[%s] %s\n' % (time.strftime('%H:%M:%S'), message))
    sys.stderr.flush()


def run_scenarios(ctx, names, label):
    found = {}
    for name in names:
        log('%s: %s' % (label, name))
        figures = scenarios.REGISTRY[name].run(ctx)
        spec = scenarios.REGISTRY[name]
        log('%s: %s %s=%s p50=%sms 5xx=%s' % (
            label, name, spec.throughput, figures.get(spec.throughput),
            figures.get('p50_ms'), figures.get('errors_5xx')))
        found[name] = figures
    return found


def run_started(args, target, backend, round_no, workdir):
    label = '%s/%s/w%d' % (target.label, backend, args.workers)
    rundir = os.path.join(workdir, backend, target.label,
                          'round%d' % round_no)
    os.makedirs(rundir, exist_ok=True)
    database = service.FreshDatabase(
        backend, rundir, target.python,
        name='placement_bench_%d' % os.getpid())
    svc = None
    try:
        svc = service.Service(target, database.create(), rundir,
                              args.workers, args.worker_class, args.threads)
        log('%s round %d: db sync, start on %s (log %s)'
            % (label, round_no, svc.url, svc.log_path))
        svc.prepare()
        svc.start()
        ctx = base.Context(svc.url, args, svc.pid)
        found = run_scenarios(ctx, args.scenarios, label)
        tracebacks = svc.logged_tracebacks()
        if tracebacks:
            log('%s: %d tracebacks in %s' % (label, tracebacks, svc.log_path))
        return label, found
    finally:
        if svc is not None:
            svc.stop()
        database.drop()


def print_ratios(args, targets, backend, summary):
    """Every target against the baseline: the first upstream target, or
    else the first target."""
    def label(t):
        return '%s/%s/w%d' % (t.label, backend, args.workers)
    upstream = [t for t in targets if t.kind == 'upstream']
    baseline = (upstream or targets)[0]
    found = {}
    for target in targets:
        if target is baseline:
            continue
        key = '%s vs %s' % (label(target), label(baseline))
        found[key] = report.ratios(summary, label(target), label(baseline))
        sys.stdout.write('\n[%s, %d round(s)]' % (key, args.rounds))
        report.print_ratios(found[key], sys.stdout)
    return found


def serve(args, target, workdir):
    backend = (args.db or ['sqlite'])[0]
    rundir = os.path.join(workdir, backend, target.label, 'serve')
    database = service.FreshDatabase(backend, rundir, target.python,
                                     name='placement_bench_%d' % os.getpid())
    svc = None
    try:
        svc = service.Service(target, database.create(), rundir,
                              args.workers, args.worker_class, args.threads)
        svc.prepare()
        svc.start()
        log('%s serving on %s (gunicorn pid %d, log %s) for %ss'
            % (target, svc.url, svc.pid, svc.log_path, args.serve))
        time.sleep(args.serve)
    except KeyboardInterrupt:
        pass
    finally:
        if svc is not None:
            svc.stop()
        database.drop()
    return 0


def main(argv=None):
    args = parse_args(argv)
    results = {}
    if args.serve:
        return serve(args, args.targets[0], args.workdir or
                     tempfile.mkdtemp(prefix='placement-bench-'))
    if args.url:
        ctx = base.Context(args.url, args)
        results['url'] = {n: [f] for n, f in
                          run_scenarios(ctx, args.scenarios, 'url').items()}
    else:
        targets = args.targets
        workdir = args.workdir or tempfile.mkdtemp(prefix='placement-bench-')
        for backend in args.db or ['sqlite']:
            for round_no in range(1, args.rounds + 1):
                for target in targets:
                    label, found = run_started(args, target, backend,
                                               round_no, workdir)
                    per_label = results.setdefault(label, {})
                    for name, figures in found.items():
                        per_label.setdefault(name, []).append(figures)
    summary = report.summarize(results)
    report.print_scenarios(summary, sys.stdout)
    all_ratios = {}
    if not args.url:
        for backend in args.db or ['sqlite']:
            all_ratios.update(print_ratios(args, targets, backend, summary))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'options': vars(args), 'rounds': results,
                       'medians': summary, 'ratios': all_ratios}, f,
                      indent=1, sort_keys=True, default=str)
    failed = any(summary[lb][s].get(n) for lb in summary for s in summary[lb]
                 for n in scenarios.MUST_BE_ZERO
                 if not lb.startswith('upstream'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
