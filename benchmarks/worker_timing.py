"""Where a gunicorn sync worker's time goes, per request, under load.

A gunicorn configuration file: load it into the gunicorn that serves
this project (``--config benchmarks/worker_timing.py``; with placebench,
``-t project,gunicorn_extra=--config=benchmarks/worker_timing.py``) and
each worker records, per request, its wall and CPU time in gunicorn's
``handle`` (accepting excluded), in the application, in the database
statements this project sends on its direct path
(``placement.db.direct``: answers read by the driver included), and in
gunicorn's closing of the connection (``util.close_graceful``, which
waits for the client to close its end).  Workers write their totals to
``$WORKER_TIMING_DIR`` (default ``/tmp/worker-timing``), one JSON file
per process, every 200 requests and at exit; then::

    python3 benchmarks/worker_timing.py [DIR]

prints microseconds per request for each worker.  Recording costs a few
microseconds per request and per statement; it wraps gunicorn's and
this project's functions, so it is for measuring, not for serving.
"""

import json
import os
import sys
import time

DIRECTORY = os.environ.get('WORKER_TIMING_DIR', '/tmp/worker-timing')
_TOTALS = {'requests': 0, 'statements': 0}
_SECONDS = ('handle_wall', 'handle_cpu', 'app_wall', 'app_cpu',
            'database_wall', 'database_cpu', 'closing_wall')


def _add(name, seconds):
    _TOTALS[name] = _TOTALS.get(name, 0.0) + seconds


def _write():
    os.makedirs(DIRECTORY, exist_ok=True)
    with open(os.path.join(DIRECTORY, '%d.json' % os.getpid()), 'w') as f:
        json.dump(_TOTALS, f)


def _timed(function, prefix, count=None):
    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _add(prefix + '_wall', time.perf_counter() - wall)
            if prefix != 'closing':
                _add(prefix + '_cpu', time.thread_time() - cpu)
            if count:
                _TOTALS[count] += 1
    return timed


def post_worker_init(worker):
    """gunicorn hook: wrap what is measured in this worker."""
    from gunicorn import util
    from gunicorn.workers import sync

    from placement.db import direct
    from placement.db import pymysql_reader

    util.close_graceful = _timed(util.close_graceful, 'closing')
    handle = _timed(sync.SyncWorker.handle, 'handle', 'requests')

    def counted(self, listener, client, addr):
        try:
            return handle(self, listener, client, addr)
        finally:
            if _TOTALS['requests'] % 200 == 0:
                _write()
    sync.SyncWorker.handle = counted
    application = worker.wsgi

    def wsgi(environ, start_response):
        # The whole answer is produced here, as gunicorn would iterate it.
        return list(application(environ, start_response))
    worker.wsgi = _timed(wsgi, 'app')
    direct._executed = _timed(direct._executed, 'database', 'statements')
    pymysql_reader.query = _timed(pymysql_reader.query, 'database',
                                  'statements')


def worker_exit(server, worker):
    """gunicorn hook: write this worker's totals."""
    _write()


def summarize(directory):
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name)) as f:
            totals = json.load(f)
        requests = totals.get('requests') or 1
        figures = ['%s %.0f' % (key, totals.get(key, 0.0) * 1e6 / requests)
                   for key in _SECONDS]
        print('worker %s: %d requests, %.2f statements each; us per '
              'request: %s' % (name.split('.')[0], requests,
                               totals.get('statements', 0) / requests,
                               ', '.join(figures)))


if __name__ == '__main__':
    summarize(sys.argv[1] if len(sys.argv) > 1 else DIRECTORY)
