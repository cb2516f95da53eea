"""The source tree passes pyflakes (no unused imports or names, no
undefined ones) and pycodestyle (PEP 8 layout)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKED = ['placement', 'migrations', 'tests', 'benchmarks']


@pytest.mark.parametrize('checker', ['pyflakes', 'pycodestyle'])
def test_source_passes(checker):
    result = subprocess.run(
        [sys.executable, '-m', checker] + CHECKED, cwd=ROOT,
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
