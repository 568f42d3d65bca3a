"""A web process (gunicorn loads `config.wsgi`) has every task registered before its first
request: tasks are enqueued by name, and finding them in several request threads at once left
a thread without them (a 500 on pay under load)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import config.wsgi
from celery import current_app
names = set(current_app._get_current_object().tasks)
assert {"payments.tasks.start_charging", "ocpi_peer.tasks.pull_module"} <= names, names
"""


def test_the_web_application_registers_the_tasks_when_it_loads() -> None:
    env = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
