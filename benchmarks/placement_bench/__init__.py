"""placement_bench: a stdlib-only load tool for Placement-compatible
services.

Modules: ``client`` (HTTP over loopback), ``stats`` (latencies and CPU),
``service`` (fresh database + gunicorn for a target), ``load`` (bounded
multi-client driver), ``scenarios`` (what is measured), ``report``
(tables and ratios).  ``bench.py`` beside this package is the command
line.
"""
