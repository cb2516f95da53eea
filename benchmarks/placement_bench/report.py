"""Summaries: medians over rounds, per-scenario tables, ratios.

``results`` is ``{target label: {scenario: [figures of each round]}}``.
Ratios compare a target with a baseline (upstream when it was
measured): ``target / baseline`` for throughput and ``baseline /
target`` for latency and server CPU per request, so above 1 always
means the target did better; all from the same run.
"""

import statistics

from placement_bench.scenarios import REGISTRY, MUST_BE_ZERO

LEADING = ('ops_per_s', 'updates_per_s', 'req_per_s', 'p50_ms', 'p90_ms',
           'p99_ms', 'ops', 'requests', 'errors_5xx',
           'server_cpu_ms_per_req', 'server_cpu_cores', 'client_cpu_cores',
           'machine_busy_cores')


def median_figures(rounds):
    """Median of each numeric figure over rounds; correctness figures
    (MUST_BE_ZERO) are summed instead, so one bad round shows."""
    merged = {}
    names = []
    for figures in rounds:
        names.extend(n for n in figures if n not in names)
    for name in names:
        values = [r.get(name) for r in rounds]
        numbers = [v for v in values if isinstance(v, (int, float))
                   and not isinstance(v, bool)]
        if not numbers:
            merged[name] = values[-1]
        elif name in MUST_BE_ZERO:
            merged[name] = sum(numbers)
        else:
            merged[name] = round(statistics.median(numbers), 2)
    return merged


def summarize(results):
    return {label: {scenario: median_figures(rounds)
                    for scenario, rounds in per_scenario.items()}
            for label, per_scenario in results.items()}


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return ('%.2f' % value).rstrip('0').rstrip('.')
    return str(value)


def _table(rows, out):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        out.write('  '.join(c.rjust(w) if i else c.ljust(w)
                            for i, (c, w) in enumerate(zip(row, widths)))
                  + '\n')
        if n == 0:
            out.write('  '.join('-' * w for w in widths) + '\n')


def print_scenarios(summary, out):
    labels = list(summary)
    scenarios = []
    for per_scenario in summary.values():
        scenarios.extend(s for s in per_scenario if s not in scenarios)
    for scenario in scenarios:
        spec = REGISTRY.get(scenario)
        out.write('\n== %s: %s\n' % (scenario, spec.description if spec
                                     else ''))
        names = [n for n in LEADING
                 if any(n in summary[lb].get(scenario, {}) for lb in labels)]
        for label in labels:
            names.extend(n for n in summary[label].get(scenario, {})
                         if n not in names)
        rows = [['figure'] + labels]
        for name in names:
            cells = [_cell(summary[lb].get(scenario, {}).get(name))
                     for lb in labels]
            flag = ' !' if name in MUST_BE_ZERO and any(
                c not in ('0', '-') for c in cells) else ''
            rows.append([name + flag] + cells)
        _table(rows, out)


def _ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) \
            or not b:
        return None
    return round(a / b, 2)


def ratios(summary, label, baseline_label):
    """Per scenario: throughput and latency ratios of the two targets."""
    found = {}
    for scenario, mine in summary[label].items():
        theirs = summary[baseline_label].get(scenario)
        spec = REGISTRY.get(scenario)
        if theirs is None or spec is None:
            continue
        key = spec.throughput
        found[scenario] = {
            'figure': key,
            'target': mine.get(key), 'baseline': theirs.get(key),
            'throughput_x': _ratio(mine.get(key), theirs.get(key)),
            'p50_latency_x': _ratio(theirs.get('p50_ms'), mine.get('p50_ms')),
            'server_cpu_x': _ratio(theirs.get('server_cpu_ms_per_req'),
                                   mine.get('server_cpu_ms_per_req')),
            'target_failures': sum(mine.get(n) or 0 for n in MUST_BE_ZERO),
            'baseline_failures': sum(theirs.get(n) or 0
                                     for n in MUST_BE_ZERO),
        }
    return found


def print_ratios(found, out):
    if not found:
        return
    out.write('\n')
    rows = [['scenario', 'figure', 'target', 'baseline', 'throughput x',
             'p50 latency x', 'server cpu/req x', 'failures t/b']]
    for scenario, r in found.items():
        rows.append([scenario, r['figure'], _cell(r['target']),
                     _cell(r['baseline']), _cell(r['throughput_x']),
                     _cell(r['p50_latency_x']), _cell(r['server_cpu_x']),
                     '%s/%s' % (r['target_failures'],
                                r['baseline_failures'])])
    _table(rows, out)
