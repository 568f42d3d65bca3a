"""Our settings with no middleware and the bare view's URLs, for the yardstick of
`python -m bench patch` (set as DJANGO_SETTINGS_MODULE for that gunicorn only)."""

from config.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare_urls"
