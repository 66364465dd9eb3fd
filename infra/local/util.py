"""Small helpers shared by the local stack parts."""
from __future__ import annotations

import socket
import time


def free_port(host: str = '127.0.0.1') -> int:
    """A TCP port that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = '127.0.0.1') -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, host: str = '127.0.0.1', timeout: float = 15.0,
                  alive: 'object | None' = None) -> None:
    """Block until something accepts TCP connections on host:port.

    alive: optional callable returning False when the process that should open the
    port has died (then fail at once instead of waiting for the timeout).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if alive is not None and not alive():  # type: ignore[operator]
                raise RuntimeError(f'process for {host}:{port} exited before listening')
            if time.monotonic() > deadline:
                raise TimeoutError(f'nothing listening on {host}:{port} after {timeout}s')
            time.sleep(0.05)
