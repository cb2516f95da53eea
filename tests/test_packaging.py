"""What ``pip install .`` installs: every package of the source tree
(the migrations included, as placement.migrations), so that an installed
``placement-manage db sync`` finds its schema."""

import os
import subprocess
import sys
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_packages():
    found = set()
    for top, installed_as in (('placement', 'placement'),
                              ('migrations', 'placement.migrations')):
        for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
            if '__init__.py' in files:
                relative = os.path.relpath(directory, os.path.join(ROOT, top))
                parts = [] if relative == '.' else relative.split(os.sep)
                found.add('.'.join([installed_as] + parts))
    return found


def test_every_package_is_listed():
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        listed = set(tomllib.load(f)['tool']['setuptools']['packages'])
    assert listed == source_packages()


def test_wheel_holds_the_migrations(tmp_path):
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q',
         '-w', str(tmp_path), ROOT],
        check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob('*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ('placement/migrations/env.py',
                 'placement/migrations/script.py.mako',
                 'placement/migrations/versions/0001_initial_schema.py',
                 'placement/db/sync.py'):
        assert path in names
