import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocpi_peer.registration import RegistrationError, register_with_cpo


class Command(BaseCommand):
    help = (
        "Register with a CPO from its versions URL and the token A it gave us. The token may come "
        "from --token, from OCPI_TOKEN_A, or from stdin with --token - (keeps it out of history)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--versions-url", required=True)
        parser.add_argument("--token", help="token A; '-' reads it from stdin")
        parser.add_argument("--name", default="", help="defaults to the CPO's business name")

    def handle(
        self, *args: Any, versions_url: str, token: str | None, name: str, **options: Any
    ) -> None:
        if token == "-":  # noqa: S105 — the stdin marker, not a password
            token = sys.stdin.readline().strip()
        token = token or os.environ.get("OCPI_TOKEN_A", "")
        if not token:
            raise CommandError("no token A: pass --token, --token - (stdin) or set OCPI_TOKEN_A")
        try:
            partner = register_with_cpo(versions_url=versions_url, token=token, name=name)
        except RegistrationError as exc:
            raise CommandError(
                f"registration failed (OCPI {int(exc.status)}): {exc.message}"
            ) from exc
        self.stdout.write(
            json.dumps(
                {
                    "partner_id": partner.pk,
                    "name": partner.name,
                    "version": partner.version,
                    "parties": [
                        f"{p.country_code}*{p.party_id} {p.role}" for p in partner.parties.all()
                    ],
                    "missing_modules": partner.missing_modules,
                }
            )
        )
