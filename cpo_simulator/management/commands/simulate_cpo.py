"""`manage.py simulate_cpo`: run the CPO simulator as a process, for the demo and for tests.

Prints one JSON line on stdout as soon as it serves (`versions_url`, `token_a`, `base_url`) so a
caller can read it and go; logs one line per request on stderr; serves until SIGINT or SIGTERM.
It touches no database. The fleet's shape, the added latency and the status churn are options
(see `--help`); churn starts once an eMSP is registered, whichever side registered. So are the
charging side's: the power and speed of simulated sessions (`--charge-kw`, `--time-scale`, one
real second being `--time-scale` simulated ones), the faults of the Commands Receiver and of
session pushes, and whether START_SESSION needs a token the eMSP pushed first; and when and how
CDRs are sent (`--cdr-delay`, `--cdr-fault`).

With `--party CC/PID` (repeatable) it plays several CPO parties on one connection, each with the
fleet and charging options above: a roaming hub in front of them with `--hub CC/PID`, else a
CPMS hosting them all (see `cpo_simulator/hub.py`); `--country-code`, `--party-id` and `--name`
then do not apply. Without `--party` it is one CPO, as always.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpo_simulator import CpoSimulator, HubSimulator, SimulatorError
from cpo_simulator.cdrs import CDR_FAULTS
from cpo_simulator.commands import COMMAND_FAULTS
from cpo_simulator.sessions import SESSION_FAULTS


class Command(BaseCommand):
    help = "Run a simulated OCPI CPO backend until interrupted."
    requires_system_checks: list[str] = []  # no database, no models: start fast

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Let our `--version` (OCPI) replace Django's own (print Django's version)."""
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
        parser.add_argument(
            "--version",
            dest="ocpi_versions",
            action="append",
            metavar="VERSION",
            help="OCPI version to offer; repeat or comma-separate (default 2.2.1)",
        )
        parser.add_argument(
            "--prefer-version",
            metavar="VERSION",
            help="the offered version to register on when the eMSP offers it too "
            "(default: the highest in common)",
        )
        parser.add_argument("--token-a", help="registration token to issue (default: random)")
        parser.add_argument("--locations", type=int, default=0, help="Locations to serve")
        parser.add_argument("--page-size", type=int, default=50)
        parser.add_argument(
            "--raw-tokens", action="store_true", help="2.2.1 with raw tokens, like many CPMS"
        )
        parser.add_argument("--country-code", default="NL")
        parser.add_argument("--party-id", default="SIM")
        parser.add_argument("--name", default="Simulated CPO")
        parser.add_argument(
            "--omit-modules", default="", help="comma list of modules left out of its details"
        )
        parser.add_argument(
            "--public-url", help="base URL to advertise when it differs from http://HOST:PORT"
        )
        parser.add_argument(
            "--evses-per-location", type=int, default=2, help="EVSEs per location, AC and DC"
        )
        parser.add_argument("--connectors-per-evse", type=int, default=2)
        parser.add_argument(
            "--tariffs",
            type=int,
            default=2,
            help="tariffs the connectors name: TARIFF-AC, TARIFF-DC, TARIFF-AC-2, ...",
        )
        parser.add_argument(
            "--ad-hoc-tariffs",
            action="store_true",
            help="an AD_HOC_PAYMENT tariff beside each REGULAR one (2.2.1)",
        )
        parser.add_argument(
            "--assign-terminals",
            action="store_true",
            help="assign all locations to each payment terminal the PTP creates (2.3.0)",
        )
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds added before every OCPI answer"
        )
        parser.add_argument(
            "--status-churn",
            type=float,
            default=0.0,
            metavar="PER_SECOND",
            help="push random EVSE statuses to the registered eMSP at this rate (0: off)",
        )
        parser.add_argument(
            "--charge-kw",
            type=float,
            default=11.0,
            help="power a simulated session's car takes (no more than its connector gives)",
        )
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="simulated seconds per real second in sessions (1, the default: real time; "
            "more fast-forwards a session, its timestamps then run ahead of the clock)",
        )
        parser.add_argument(
            "--update-interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="real seconds between a session's PATCHes",
        )
        parser.add_argument(
            "--command-fault",
            choices=[fault for fault in COMMAND_FAULTS if fault],
            help="how the Commands Receiver misbehaves (default: it does not)",
        )
        parser.add_argument(
            "--session-fault",
            choices=[fault for fault in SESSION_FAULTS if fault],
            help="how session pushes misbehave (default: they do not)",
        )
        parser.add_argument(
            "--cdr-delay",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="seconds from a session's end to its CDR's POST",
        )
        parser.add_argument(
            "--cdr-fault",
            choices=[fault for fault in CDR_FAULTS if fault],
            help="how CDRs misbehave (default: they do not)",
        )
        parser.add_argument(
            "--require-known-token",
            action="store_true",
            help="reject START_SESSION for tokens not pushed through the Tokens module",
        )
        parser.add_argument(
            "--party",
            dest="parties",
            action="append",
            metavar="CC/PID",
            help="a CPO party on the one connection; repeat for several (a hub or a CPMS)",
        )
        parser.add_argument(
            "--hub", metavar="CC/PID", help="with --party: a roaming hub in front of the parties"
        )
        parser.add_argument("--hub-name", default="Simulated Hub", help="the hub's business name")
        parser.add_argument("--register-with", metavar="VERSIONS_URL", help="the eMSP's versions")
        parser.add_argument("--token", help="token A the eMSP issued (with --register-with)")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["register_with"]) != bool(options["token"]):
            raise CommandError("--register-with and --token go together")
        _log_requests_to_stderr()
        if options["hub"] and not options["parties"]:
            raise CommandError("--hub needs the parties behind it: --party CC/PID, repeated")
        try:
            sim = self._build(options).start()
        except (ValueError, OSError) as exc:
            raise CommandError(f"cannot start the simulator: {exc}") from exc
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            line = {
                "versions_url": sim.versions_url,
                "token_a": sim.token_a,
                "base_url": sim.base_url,
            }
            self.stdout.write(json.dumps(line))
            self.stdout.flush()
            if options["register_with"]:
                self._register(sim, options["register_with"], options["token"])
            while not stop.wait(0.2):
                pass
        finally:
            sim.stop()

    def _build(self, options: dict[str, Any]) -> CpoSimulator | HubSimulator:
        """One CPO, or with `--party` the front of several; ValueError for a bad option."""
        fleet_and_charging: dict[str, Any] = {
            "omit_modules": _split([options["omit_modules"]]),
            "location_count": options["locations"],
            "page_size": options["page_size"],
            "evses_per_location": options["evses_per_location"],
            "connectors_per_evse": options["connectors_per_evse"],
            "tariff_count": options["tariffs"],
            "ad_hoc_tariffs": options["ad_hoc_tariffs"],
            "status_churn": options["status_churn"],
            "charge_kw": options["charge_kw"],
            "time_scale": options["time_scale"],
            "update_interval": options["update_interval"],
            "command_fault": options["command_fault"],
            "session_fault": options["session_fault"],
            "require_known_token": options["require_known_token"],
            "cdr_delay": options["cdr_delay"],
            "cdr_fault": options["cdr_fault"],
            "assign_terminals": options["assign_terminals"],
        }
        connection: dict[str, Any] = {
            "versions": _split(options["ocpi_versions"] or ["2.2.1"]),
            "host": options["host"],
            "port": options["port"],
            "token_a": options["token_a"],
            "raw_tokens": options["raw_tokens"],
            "public_base_url": options["public_url"],
        }
        if not options["parties"]:
            return CpoSimulator(
                **connection,
                country_code=options["country_code"],
                party_id=options["party_id"],
                name=options["name"],
                latency=options["latency"],
                prefer_version=options["prefer_version"],
                **fleet_and_charging,
            )
        if options["latency"] or options["prefer_version"]:
            raise ValueError("--latency and --prefer-version are not supported with --party")
        members = [
            CpoSimulator(
                versions=connection["versions"],
                country_code=country_code,
                party_id=party_id,
                name=f"Simulated CPO {country_code}/{party_id}",
                **fleet_and_charging,
            )
            for country_code, party_id in map(_party, options["parties"])
        ]
        hub = (*_party(options["hub"]), options["hub_name"]) if options["hub"] else None
        return HubSimulator(members, hub=hub, page_size=options["page_size"], **connection)

    def _register(self, sim: CpoSimulator | HubSimulator, versions_url: str, token: str) -> None:
        try:
            response = sim.register_with(versions_url, token)
        except SimulatorError as exc:
            raise CommandError(f"registration failed: {exc}") from exc
        if not sim.registered:
            raise CommandError(
                f"registration failed: HTTP {response.status_code}, {sim.last_error}"
            )
        self.stderr.write(f"registered with {versions_url} on OCPI {sim.emsp_version}")


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _party(value: str) -> tuple[str, str]:
    """CC/PID, e.g. NL/AAA; ValueError otherwise."""
    country_code, _, party_id = value.partition("/")
    if len(country_code) != 2 or not 0 < len(party_id) <= 3:
        raise ValueError(f"a party is CC/PID, e.g. NL/AAA, not {value!r}")
    return country_code.upper(), party_id.upper()


def _log_requests_to_stderr() -> None:
    """One line per request whatever LOG_LEVEL says; the simulator never logs tokens."""
    logger = logging.getLogger("cpo_simulator")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s simulate_cpo %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
