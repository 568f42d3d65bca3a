import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocpi_peer import sync
from ocpi_peer.client import PeerError
from ocpi_peer.models import Partner


class Command(BaseCommand):
    help = "Pull the Sender lists registered partners offer now; prints JSON per pull."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--partner", type=int, help="partner id (default: every registered one)"
        )
        parser.add_argument("--module", choices=sync.MODULES, help="default: every module")
        parser.add_argument("--full", action="store_true", help="ignore the last sync time")

    def handle(
        self, *args: Any, partner: int | None, module: str | None, full: bool, **options: Any
    ) -> None:
        partners = Partner.objects.filter(status=Partner.Status.REGISTERED)
        if partner is not None:
            partners = Partner.objects.filter(pk=partner)
            if not partners.exists():
                raise CommandError(f"no partner {partner}")
        results, failed = [], False
        for each in partners:
            for name in [module] if module else sync.MODULES:
                if not module and each.endpoint(name, "SENDER") is None:
                    continue  # every module: those it offers (a CPO has no ClientInfo list)
                try:
                    outcome = sync.pull(partner_id=each.pk, module=name, full=full)
                except (PeerError, sync.SyncImpossible) as exc:
                    failed = failed or isinstance(exc, PeerError) or partner is not None
                    results.append(
                        {"partner_id": each.pk, "module": name, "ok": False, "error": str(exc)}
                    )
                else:
                    results.append(
                        {
                            "partner_id": each.pk,
                            "module": name,
                            "ok": True,
                            "received": outcome.received,
                            "written": outcome.written,
                            "rejected": outcome.rejected,
                        }
                    )
        self.stdout.write(json.dumps(results))
        if failed:
            raise CommandError("some pulls failed: see the JSON above")
