"""`make demo`: the whole platform on one machine with embedded defaults — migrate, an admin
user, the web server, a Celery worker with beat, and the CPO simulator registered with us.
Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WEB = "127.0.0.1:8000"
SIMULATOR_PORT = 9100
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin"


def manage(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, text=True, check=True, **kwargs
    )  # type: ignore[call-overload]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds:.0f} s")


def main() -> None:
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{WEB}")
    manage("migrate", "--no-input", "-v0")
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.filter(username='{ADMIN_USER}').exists() or "
        f"User.objects.create_superuser('{ADMIN_USER}', '', '{ADMIN_PASSWORD}')",
    )
    processes: list[subprocess.Popen[str]] = []

    def start(*command: str, **kwargs: object) -> subprocess.Popen[str]:
        process = subprocess.Popen(list(command), cwd=ROOT, text=True, **kwargs)  # type: ignore[call-overload]
        processes.append(process)
        return process

    try:
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
            sys.executable,
            "manage.py",
            "simulate_cpo",
            "--port",
            str(SIMULATOR_PORT),
            "--version",
            "2.2.1",
            "--locations",
            "25",
            stdout=subprocess.PIPE,
        )
        assert simulator.stdout is not None
        cpo = json.loads(simulator.stdout.readline())
        wait_for(f"http://{WEB}/healthz")
        registered = manage(
            "ocpi_register",
            "--versions-url",
            cpo["versions_url"],
            "--token",
            "-",
            "--name",
            "Simulated CPO",
            input=cpo["token_a"] + "\n",
            capture_output=True,
        )
        partner = json.loads(registered.stdout)
        print(
            f"\nThe platform is running.\n"
            f"  Admin:          http://{WEB}/admin/"
            f"  (user {ADMIN_USER}, password {ADMIN_PASSWORD})\n"
            f"  Partner:        http://{WEB}/admin/ocpi_peer/partner/{partner['partner_id']}/change/"
            f" ({partner['name']}, OCPI {partner['version']})\n"
            f"  OCPI versions:  http://{WEB}/ocpi/versions\n"
            f"  CPO simulator:  {cpo['versions_url']}\n"
            f"  Health:         http://{WEB}/healthz\n"
            "Press Ctrl-C to stop.\n",
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
