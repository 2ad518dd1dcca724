"""moto's server, answering one request at a time: ``python -m wsrelay.tools.moto_serial HOST PORT``.

moto's own ``moto_server`` is threaded and its backends take no lock, so two concurrent
UpdateItems on one key can both read the old item and one of them is lost: DynamoDB never does
that (single-item writes are atomic). Serving requests one at a time restores the property
wsrelay's storage design relies on, so the store contract's race tests test wsrelay, not moto.
Development only (moto is a dev dependency).
"""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main(argv: list[str]) -> None:
    """Serve moto on HOST PORT until killed."""
    host, port = argv[0], int(argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
