"""The moto server with ``infra.local.moto_patch`` applied (the local stack's AWS).

    python -m infra.local.moto_server --port 5000      # default: $MOTO_PORT or 5000

Threaded like ``moto_server``; DynamoDB requests are serialized by the patch while
other services (SQS long polls) run concurrently. Exits on SIGTERM/SIGINT, and when
the process given by ``--parent-pid`` goes away (so an orphaned server never lingers).
Request logging is off unless ``--verbose``.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time


def _watch_parent(parent_pid: int, on_gone) -> None:  # type: ignore[no-untyped-def]
    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                on_gone()
                return
    threading.Thread(target=loop, name='parent-watch', daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description='moto server with the broker patches')
    ap.add_argument('-H', '--host', default='127.0.0.1')
    ap.add_argument('-p', '--port', type=int, default=int(os.environ.get('MOTO_PORT') or 5000))
    ap.add_argument('--parent-pid', type=int, default=None,
                    help='exit when this process (our parent) is gone')
    ap.add_argument('--verbose', action='store_true', help='log every request')
    args = ap.parse_args(argv)

    import infra.local.moto_patch  # noqa: F401  (before moto builds any backend)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s %(message)s')
    logging.getLogger('werkzeug').setLevel(logging.INFO if args.verbose else logging.WARNING)
    os.environ.setdefault('MOTO_PORT', str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    server.daemon_threads = True

    def shutdown(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if args.parent_pid:
        _watch_parent(args.parent_pid, shutdown)
    print(f'moto server (patched) listening on http://{args.host}:{server.server_port}',
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
