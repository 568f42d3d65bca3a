"""`make lint` audits the installed packages (`.ci/audit.py` around pip-audit): a package with a
known vulnerability fails it, naming the advisory; without a network it warns and passes."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"


def run_with(tmp_path: Path, *, stdout: str = "", stderr: str = "", exit_code: int = 0):
    """The audit, with a stand-in pip-audit that answers as given."""
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"sys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({exit_code})\n"
    )
    fake.chmod(0o755)
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(fake)], capture_output=True, text=True, check=False
    )


def report(*packages: dict) -> str:
    return json.dumps({"dependencies": list(packages), "fixes": []})


def test_it_fails_on_a_known_vulnerability(tmp_path: Path) -> None:
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["5.2.99"], "aliases": [], "description": ""}
    done = run_with(
        tmp_path,
        stdout=report(
            {"name": "django", "version": "5.2.0", "vulns": [vuln]},
            {"name": "httpx", "version": "0.28.1", "vulns": []},
        ),
        exit_code=1,
    )
    assert done.returncode == 1
    assert "django 5.2.0: PYSEC-2099-1 (fixed in 5.2.99)" in done.stdout


def test_it_passes_when_nothing_is_known(tmp_path: Path) -> None:
    done = run_with(tmp_path, stdout=report({"name": "httpx", "version": "0.28.1", "vulns": []}))
    assert done.returncode == 0
    assert "no known vulnerabilities in 1 packages" in done.stdout


def test_it_warns_and_passes_without_a_network(tmp_path: Path) -> None:
    done = run_with(
        tmp_path,
        stderr="requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', "
        "port=443): Max retries exceeded\n",
        exit_code=1,
    )
    assert done.returncode == 0
    assert "WARNING: pip-audit skipped: the vulnerability database could not be reached" in (
        done.stderr
    )


def test_it_warns_and_passes_when_the_database_knows_no_package(tmp_path: Path) -> None:
    skipped = {"name": "httpx", "skip_reason": "Dependency not found on PyPI"}
    done = run_with(tmp_path, stdout=report(skipped))
    assert done.returncode == 0
    assert "knew none of the 1 packages" in done.stderr


def test_it_fails_when_pip_audit_breaks_otherwise(tmp_path: Path) -> None:
    done = run_with(tmp_path, stderr="usage: pip-audit [-h]\n", exit_code=2)
    assert done.returncode == 2
