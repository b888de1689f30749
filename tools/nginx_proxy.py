"""Debian's nginx as the load balancer in front of several servers, for the cluster test and
the bench — the same snippet the README gives for production:

    upstream reactions { server 127.0.0.1:8501; server 127.0.0.1:8502; … }
    server {
        listen 80;
        location / {
            proxy_pass http://reactions;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;       # Streamlit's websocket
            proxy_set_header Connection $connection_upgrade;
        }
    }

A tap is not idempotent (a second one undoes the first), so nginx retries a request on the
next server only if it never reached one (connection refused), never after it was sent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tools.live_server import free_port

CONFIG = """
worker_processes 1;
daemon off;
error_log {folder}/error.log warn;
pid {folder}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream reactions {{
        {servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://reactions;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_next_upstream error;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


@contextmanager
def nginx_proxy(upstreams: Sequence[str]) -> Iterator[str]:
    """nginx on a free port in front of `upstreams` ("127.0.0.1:PORT"); yields its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = Path(tempfile.mkdtemp(prefix="reactions-nginx-"))
    port = free_port()
    servers = "\n        ".join(f"server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    config = folder / "nginx.conf"
    config.write_text(CONFIG.format(folder=folder, servers=servers, port=port))
    process = subprocess.Popen(
        [binary, "-c", str(config), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"nginx did not come up: {(folder / 'error.log').read_text()[-500:]}"
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
