"""`make demo`: the whole platform on one machine with embedded defaults — migrate, an admin
user, a local fake Stripe (when no Stripe keys are set), the web server, a Celery worker with
beat, and the CPO simulator registered with us and its stations pulled. Ctrl-C stops all.

`DEMO_OCPI_VERSION` (2.2.1 unless set: 2.3.0 or 2.1.1) is the one version the simulated CPO
speaks, so the connection is made in it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
WEB = "127.0.0.1:8000"
FAKE_STRIPE = "127.0.0.1:8420"
SIMULATOR_PORT = 9100
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin"
SIMULATED = "Simulated CPO"
DEMO_VERSIONS = ("2.3.0", "2.2.1", "2.1.1")
# The simulated CPO's party and the terms the demo gives it: complete legal details, so its
# receipts name a seller (or operator) as a German invoice must, and the admin flags nothing.
SIMULATED_PARTY = ("NL", "SIM")
SIMULATED_TERMS = {
    "default_hold": "50.00",
    "legal_name": "Simulated Charging B.V.",
    "legal_address": "Laadpaalstraat 1\n1011 AB Amsterdam\nNetherlands",
    "vat_id": "NL000099998B57",
    "merchant_of_record": "platform",
}
# Also listed on the charger page in the demo (templates/payments/_test_cards.html).
TEST_CARDS = (
    ("4242 4242 4242 4242", "accepted"),
    ("4000 0000 0000 0341", "declined"),
    ("4000 0025 0000 3155", "asks for 3-D Secure"),
)


def manage(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, text=True, check=True, **kwargs
    )


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds:.0f} s")


def use_fake_stripe() -> bool:
    """Real keys in the environment win; otherwise the demo pays against a local fake."""
    if os.environ.get("STRIPE_SECRET_KEY", "").startswith(("sk_test_", "sk_live_")):
        return False
    os.environ |= {
        "STRIPE_API_BASE": f"http://{FAKE_STRIPE}",
        "STRIPE_JS_URL": f"http://{FAKE_STRIPE}/js.stripe.com/v3/",
        "STRIPE_SECRET_KEY": "sk_test_demo",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_demo",
        "STRIPE_WEBHOOK_SECRET": "whsec_demo",
    }
    return True


def give_simulated_party_terms() -> None:
    """The simulated party's CPO terms, created once; an operator's later edits are kept,
    only what is still blank is filled in."""
    country_code, party_id = SIMULATED_PARTY
    manage(
        "shell", "-v", "0", "-c",
        "from decimal import Decimal;"
        "from payments.models import CpoTerms;"
        f"values = {SIMULATED_TERMS!r};"
        "terms, _ = CpoTerms.objects.get_or_create("
        f"country_code={country_code!r}, party_id={party_id!r},"
        " defaults={**values, 'default_hold': Decimal(values['default_hold'])});"
        "[setattr(terms, k, values[k]) for k in ('legal_name', 'legal_address', 'vat_id')"
        " if not getattr(terms, k)];"
        "terms.save()",
    )  # fmt: skip


def demo_version() -> str:
    version = os.environ.get("DEMO_OCPI_VERSION", "2.2.1").strip()
    if version not in DEMO_VERSIONS:
        raise SystemExit(f"DEMO_OCPI_VERSION must be one of {', '.join(DEMO_VERSIONS)}")
    return version


def main() -> None:
    version = demo_version()
    # A demo on one machine, over plain http with development secrets: every process it starts
    # runs with DEBUG on, which the settings require for that.
    os.environ.setdefault("DEBUG", "true")
    # The charger page lists the fake Stripe's test cards (the settings ignore it without DEBUG).
    os.environ.setdefault("DEMO", "true")
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{WEB}")
    os.environ.setdefault("TIME_ZONE", "Europe/Berlin")  # the simulated operators' desk
    # We sell the simulated party's charges: a full invoice (over €250) names our VAT id.
    os.environ.setdefault("PLATFORM_VAT_ID", "DE000000000")
    # The simulated CPO listens on loopback: every process of the demo may call it.
    os.environ["OCPI_ALLOW_PRIVATE_URLS"] = "true"
    manage("migrate", "--no-input", "-v0")
    give_simulated_party_terms()
    manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.filter(username='{ADMIN_USER}').exists() or "
        f"User.objects.create_superuser('{ADMIN_USER}', '', '{ADMIN_PASSWORD}')",
    )
    processes: list[subprocess.Popen[str]] = []

    def start(*command: str, **kwargs: Any) -> subprocess.Popen[str]:
        process = subprocess.Popen(list(command), cwd=ROOT, text=True, **kwargs)
        processes.append(process)
        return process

    try:
        fake = use_fake_stripe()
        if fake:
            port = FAKE_STRIPE.rsplit(":", 1)[1]
            start(
                sys.executable,
                "-m",
                "config.fakestripe",
                port,
                str(ROOT / "var" / "fakestripe"),
                "--resume",
            )
            wait_for(f"http://{FAKE_STRIPE}/js.stripe.com/v3/")
            # localstripe keeps webhooks in memory only: register ours on every start.
            httpx.post(
                f"http://{FAKE_STRIPE}/_config/webhooks/demo",
                data={"url": f"http://{WEB}/stripe/webhook/", "secret": "whsec_demo"},
            ).raise_for_status()
        start(sys.executable, "manage.py", "runserver", WEB, "--noreload")
        start(
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "-l",
            "warning",
            "-c",
            "2",
        )
        simulator = start(
            sys.executable, "manage.py", "simulate_cpo", "--port", str(SIMULATOR_PORT),
            "--version", version, "--locations", "25", "--ad-hoc-tariffs", "--assign-terminals",
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert simulator.stdout is not None
        cpo = json.loads(simulator.stdout.readline())
        wait_for(f"http://{WEB}/healthz")
        # An earlier run's simulator is gone but its connection still holds the simulated
        # party: cut it, so that this run's registration takes the party over.
        manage(
            "shell", "-v", "0", "-c",
            "from ocpi_peer.models import Partner;"
            "from ocpi_peer.registration import unregister_partner;"
            f"[unregister_partner(partner=p) for p in Partner.objects.filter(name={SIMULATED!r},"
            " status=Partner.Status.REGISTERED)]",
            capture_output=True,
        )  # fmt: skip
        registered = manage(
            "ocpi_register", "--versions-url", cpo["versions_url"], "--token", "-",
            "--name", SIMULATED,
            input=cpo["token_a"] + "\n", capture_output=True,
        )  # fmt: skip
        partner = json.loads(registered.stdout)
        manage("ocpi_sync", "--partner", str(partner["partner_id"]), capture_output=True)
        # 2.3.0: our checkout is the CPO's payment terminal; the simulator assigns it its
        # locations (beat would make it within a minute too).
        manage(
            "shell", "-v", "0", "-c",
            "from payments import terminals;"
            "[terminals.push_terminal(pk) for pk in"
            f" terminals.provide_terminals(partner_id={partner['partner_id']})]",
            capture_output=True,
        )  # fmt: skip
        evse_id = manage(
            "shell", "-v", "0", "-c",
            "from stations.models import Evse;"
            "print(Evse.objects.filter(status='AVAILABLE').order_by('evse_id').first().evse_id)",
            capture_output=True,
        ).stdout.strip()  # fmt: skip
        cards = "".join(f"\n    {number}  {what}" for number, what in TEST_CARDS) if fake else ""
        print(
            f"\nThe platform is running.\n"
            f"  A charger:      http://{WEB}/charge/{evse_id}/   (what its QR code opens)\n"
            f"  Admin:          http://{WEB}/admin/"
            f"  (user {ADMIN_USER}, password {ADMIN_PASSWORD})\n"
            f"  Partner:        http://{WEB}/admin/ocpi_peer/partner/{partner['partner_id']}/change/"
            f" ({partner['name']}, OCPI {partner['version']})\n"
            f"  OCPI versions:  http://{WEB}/ocpi/versions\n"
            f"  CPO simulator:  {cpo['versions_url']}\n"
            f"  Driver API:     http://{WEB}/api/schema/\n"
            + (f"  Test cards (any future expiry, any CVC):{cards}\n" if fake else "")
            + "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a process stopped; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as exc:
        print(f"demo setup failed: {exc.stderr or exc}", file=sys.stderr)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
