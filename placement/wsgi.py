"""The WSGI entry point for gunicorn, uwsgi or mod_wsgi.

    gunicorn placement.wsgi:application

Reads ``$OS_PLACEMENT_CONFIG_DIR/placement.conf`` when that variable is
set (as OpenStack Placement's WSGI module does), else the usual
oslo.config search path; ``OS_<SECTION>__<OPTION>`` variables override.
Logging follows the configuration's oslo.log options (``log_file``...).
"""

import os

from placement import app as app_mod
from placement import conf as conf_mod


def _config_files():
    config_dir = os.environ.get('OS_PLACEMENT_CONFIG_DIR')
    if not config_dir:
        return None
    path = os.path.join(config_dir, 'placement.conf')
    return [path] if os.path.exists(path) else []


def init_application():
    conf = conf_mod.load([], config_files=_config_files())
    conf_mod.setup_logging(conf)
    return app_mod.wsgi_app(conf)


application = init_application()
