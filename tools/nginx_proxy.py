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

With `cache`, nginx also keeps the public counts (`GET /api/v1/articles/<id>/reactions`
without a reader) for as long as their `Cache-Control` allows, revalidates them with their
ETag (a 304 from the origin), and refreshes them in the background while it serves the stale
copy that `stale-while-revalidate` allows — the `location` the README gives for an edge cache
(CACHE_LOCATION). Every cacheable request's `$upstream_cache_status` (HIT, MISS, EXPIRED,
REVALIDATED, UPDATING, BYPASS) is written to `cache_log`, one per line.

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
    {cache_zone}
    server {{
        listen 127.0.0.1:{port};
        {cache_location}
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

CACHE_ZONE = """proxy_cache_path {folder}/cache keys_zone=counts:10m max_size=100m inactive=10m;
    log_format cache_status $upstream_cache_status;"""
# The public counts only: a reader's own bar (?reader_id=…) goes past the cache, and the
# origin marks it private, no-store besides. Freshness comes from the origin's Cache-Control,
# stale-while-revalidate included (nginx serves the stale copy that long while it refreshes
# it in the background): no `updating` in proxy_cache_use_stale, which would serve a stale
# copy however old. A stale copy is also served while the origin is down.
CACHE_LOCATION = """location ~ ^/api/v1/articles/[^/]+/reactions$ {{
            proxy_pass http://reactions;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_cache counts;
            proxy_cache_bypass $arg_reader_id;
            proxy_no_cache $arg_reader_id;
            proxy_cache_revalidate on;
            proxy_cache_background_update on;
            proxy_cache_use_stale error timeout http_502 http_503 http_504;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
            access_log {cache_log} cache_status;
        }}"""


@contextmanager
def nginx_proxy(
    upstreams: Sequence[str], *, cache: bool = False, cache_log: Path | None = None
) -> Iterator[str]:
    """nginx on a free port in front of `upstreams` ("127.0.0.1:PORT"); yields its base URL.
    With `cache`, the public counts are cached (see the module's docstring)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = Path(tempfile.mkdtemp(prefix="reactions-nginx-"))
    port = free_port()
    servers = "\n        ".join(f"server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    zone = location = ""
    if cache:
        # nginx's workers drop root for `nobody`, and they write the cache
        folder.chmod(0o755)
        (folder / "cache").mkdir()
        (folder / "cache").chmod(0o777)
        zone = CACHE_ZONE.format(folder=folder)
        log = cache_log or folder / "cache.log"
        location = CACHE_LOCATION.format(cache_log=log)
    config = folder / "nginx.conf"
    config.write_text(
        CONFIG.format(
            folder=folder, servers=servers, port=port, cache_zone=zone, cache_location=location
        )
    )
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
