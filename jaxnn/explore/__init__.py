"""``jaxnn explore``: a local web app to look inside networks, train them live, and move the
book's interactive figures (docs/explore.md). Needs the ``explore`` extra:
``pip install "jaxnn[explore]"``."""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from typing import Optional

from jaxnn.errors import JaxnnError


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _require():
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise JaxnnError('jaxnn explore needs the explore extra: pip install "jaxnn[explore]"') from None


def create_app(*args, **kwargs):
    """`jaxnn.explore.server.create_app`."""
    _require()
    from jaxnn.explore.server import create_app as make

    return make(*args, **kwargs)


def serve(
    model: Optional[str] = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: Optional[str] = None,
    open_browser: bool = True,
) -> int:
    """Starts the server (until Ctrl-C) and opens the page in the browser.

    Binds ``host`` (127.0.0.1 by default). Any other address is reachable from the network:
    it then needs ``token``, which every request must carry.
    """
    _require()
    import uvicorn

    loopback = is_loopback(host)
    if not loopback:
        print(
            f"jaxnn explore: warning: {host} is reachable from other machines; every request must carry the token",
            file=sys.stderr,
        )
        if not token:
            raise JaxnnError(f"--host {host} is not a loopback address: give --token SECRET too")
    if not 0 <= port <= 65535:
        raise JaxnnError(f"--port must be between 0 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:  # a busy port or an address not of this machine: one line, before loading
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise JaxnnError(
                f"cannot listen on {host} port {port} ({exc.strerror}): pick another with --port (0: any free one)"
            ) from None
        port = s.getsockname()[1]
    app = create_app(model, token=token, allowed_hosts=None if loopback else ["*"])
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"jaxnn explore: serving {url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


__all__ = ["create_app", "is_loopback", "serve"]
