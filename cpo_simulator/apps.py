from django.apps import AppConfig


class CpoSimulatorConfig(AppConfig):
    """No models: installed (by the settings, when the package is importable) for
    `manage.py simulate_cpo` only."""

    name = "cpo_simulator"
    verbose_name = "CPO simulator"
