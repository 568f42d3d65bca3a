"""A local fake Stripe (PyPI `localstripe`) for the demo and the tests:
`python -m config.fakestripe PORT STATE [--resume]`.

localstripe on its own listens on all interfaces and keeps its state in one fixed file in the
temp directory, which parallel runs overwrite. This wrapper binds it to 127.0.0.1 only and keeps
the state in STATE: a file (`…/state.pickle`) or a directory that gets `localstripe.pickle` in
it. It starts from scratch unless `--resume` asks it to load the state an earlier run left.

A demo tool, not product code: localstripe is an extra (`demo`, `test`) that the product never
imports. `tests/support/localstripe.py` runs this same code.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_request import FileField
from localstripe import resources, server
from multidict import MultiDict, MultiDictProxy

STATE_FILE_NAME = "localstripe.pickle"


class _StoreAt(resources.Store):
    """localstripe's store, saved to (and loaded from) our own path instead of a fixed temp file.

    localstripe calls `dump_to_disk()` after every change, so overriding the two methods that
    know the path is all it takes."""

    state_path: Path

    def try_load_from_disk(self) -> None:
        try:
            with self.state_path.open("rb") as f:
                old = pickle.load(f)  # noqa: S301 - our own file, written by this process
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self) -> None:
        partial = self.state_path.with_name(self.state_path.name + ".partial")
        with partial.open("wb") as f:
            pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(self.state_path)  # never a half-written state file


def state_file(state: str | Path) -> Path:
    """STATE as given on the command line: an existing file, or a new one with a suffix
    (`…/localstripe.pickle`), is the state file; anything else is a directory (made if need be)
    that keeps `localstripe.pickle`."""
    path = Path(state)
    if path.is_dir() or not (path.is_file() or path.suffix):
        path = path / STATE_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def use_state_file(path: Path, *, resume: bool = False) -> None:
    """Point localstripe's one store (shared by its resources and its server) at `path`."""
    store = resources.store
    store.__class__ = _StoreAt
    assert isinstance(store, _StoreAt)
    store.state_path = path
    store.clear()
    if resume:
        store.try_load_from_disk()


# Stripe's API since 2026-09-30 (endive, what stripe-python 16 speaks) refuses
# `payment_method_types` on PaymentIntents and SetupIntents and takes
# `allowed_payment_method_types`; localstripe knows only the old name and refuses the new one.
_RENAMED = {"allowed_payment_method_types": "payment_method_types"}


@web.middleware
async def _current_parameter_names(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hand localstripe a form with today's parameter names put back to the ones it knows
    (localstripe reads the form through `request.post()`, which keeps what is parsed here)."""
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        if any(key.split("[", 1)[0] in _RENAMED for key in form):
            renamed: MultiDict[str | bytes | FileField] = MultiDict()
            for key, value in form.items():
                name, bracket, rest = key.partition("[")
                renamed.add(_RENAMED.get(name, name) + bracket + rest, value)
            request._post = MultiDictProxy(renamed)
    return await handler(request)


def run(port: int, state: str | Path, *, resume: bool = False) -> None:
    """Serve localstripe on 127.0.0.1:`port` until SIGINT or SIGTERM."""
    use_state_file(state_file(state), resume=resume)
    if _current_parameter_names not in server.app.middlewares:
        server.app.middlewares.insert(0, _current_parameter_names)
    access_log = logging.getLogger("aiohttp.access")  # localstripe logs webhook deliveries here
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler())
    print(f"fake Stripe on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=access_log, print=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fakestripe", description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("state", help="state file, or a directory to keep it in")
    parser.add_argument("--resume", action="store_true", help="load the state of an earlier run")
    args = parser.parse_args(argv)
    run(args.port, args.state, resume=args.resume)


if __name__ == "__main__":
    main()
