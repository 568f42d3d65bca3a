"""The admin's front page shows the platform's figures beside the exception queue."""

from django import template

from payments.dashboard import Dashboard, dashboard

register = template.Library()


@register.simple_tag(name="dashboard")
def dashboard_tag() -> Dashboard:
    return dashboard()
