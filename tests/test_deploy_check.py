"""Django's own deployment check passes, without one warning, under the settings the README's
"Running in production" asks an operator to set: the defaults with DEBUG off are the secure
ones (HTTPS redirect, HSTS, Secure cookies), not a list of things to remember."""

from tests.support.production import manage, production_env


def test_it_passes_with_the_documented_production_settings() -> None:
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr
