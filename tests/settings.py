"""The tests' settings: the platform's own, read with DEBUG on, so that they need none of the
secrets production must set (pytest-django still runs each test with DEBUG off). Processes the
tests start inherit DEBUG, and this module through DJANGO_SETTINGS_MODULE.

The traffic log of the requests we serve is written with each request, so that a test sees its
row at once; the tests of the batched writer turn batches on."""

import os

os.environ["DEBUG"] = "true"

from config.settings import *  # noqa: F403

OCPI_TRAFFIC_LOG_BATCH = 1
