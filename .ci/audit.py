"""`make lint`'s audit of the installed packages: pip-audit, tolerant of being offline.

    python .ci/audit.py PIP_AUDIT_EXECUTABLE

A known vulnerability fails, naming the package, the advisory and the versions that fix it. A
vulnerability database out of reach is a warning and passes, so that lint still works without
a network: pip-audit failing on a connection error, or every package unknown to the database
(what a mirror or proxy that serves no advisories answers)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

NETWORK_ERRORS = (
    "ConnectionError",
    "ProxyError",
    "ConnectTimeout",
    "ReadTimeout",
    "SSLError",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


def audit(pip_audit: str) -> int:
    done = subprocess.run(
        [pip_audit, "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        if any(marker in done.stderr for marker in NETWORK_ERRORS):
            last = done.stderr.strip().splitlines()[-1]
            return _warn(f"the vulnerability database could not be reached ({last[:200]})")
        sys.stderr.write(done.stderr)
        print(f"pip-audit failed (exit {done.returncode}) without a report", file=sys.stderr)
        return done.returncode or 1
    packages = report.get("dependencies", [])
    vulnerable = [p for p in packages if p.get("vulns")]
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"{package['name']} {package['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(
            f"pip-audit: {len(vulnerable)} package(s) with known vulnerabilities", file=sys.stderr
        )
        return 1
    audited = [p for p in packages if "skip_reason" not in p]
    if packages and not audited:
        return _warn(f"the vulnerability database knew none of the {len(packages)} packages")
    print(f"pip-audit: no known vulnerabilities in {len(audited)} packages")
    return 0


def _warn(why: str) -> int:
    print(f"WARNING: pip-audit skipped: {why}; the packages were not audited", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(audit(sys.argv[1]))
