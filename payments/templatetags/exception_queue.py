"""The admin's front page leads with what needs an operator: open cases by kind."""

from django import template
from django.db.models import Count

from payments.models import Case

register = template.Library()


@register.simple_tag
def open_cases() -> list[tuple[str, str, int]]:
    """(kind, its label, how many are open), the largest first."""
    labels = dict(Case.Kind.choices)
    rows = (
        Case.objects.filter(resolved_at=None)
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("-n", "kind")
    )
    return [(row["kind"], labels.get(row["kind"], row["kind"]), row["n"]) for row in rows]
