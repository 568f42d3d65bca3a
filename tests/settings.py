"""The tests' settings: the platform's own, read with DEBUG on, so that they need none of the
secrets production must set (pytest-django still runs each test with DEBUG off). Processes the
tests start inherit DEBUG, and this module through DJANGO_SETTINGS_MODULE."""

import os

os.environ["DEBUG"] = "true"

from config.settings import *  # noqa: F403
