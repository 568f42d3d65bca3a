import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ocpi_peer.registration import invite_partner, our_versions_url


class Command(BaseCommand):
    help = "Mint token A for a CPO to register with us; prints JSON with our versions URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the partner's name, for the admin")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        partner, token_a = invite_partner(name=name)
        self.stdout.write(
            json.dumps(
                {"partner_id": partner.pk, "versions_url": our_versions_url(), "token": token_a}
            )
        )
