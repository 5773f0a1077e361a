"""The sample nginx config sends the same security headers as the apps (schemas/runtime/webapp.py),
once each, also on what nginx answers itself: deploy/nginx/security-headers.conf run by the
real nginx (/usr/sbin/nginx) in front of an upstream that sends its own copies."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from schemas.runtime.webapp import SECURITY_HEADERS
from tests.integration.conftest import REPO, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SNIPPET = REPO / "deploy" / "nginx" / "security-headers.conf"
SAMPLE = REPO / "deploy" / "nginx" / "tongban.conf"

pytestmark = pytest.mark.slow


class AppLike(BaseHTTPRequestHandler):
    """Answers as a node does: with its own copies of the headers."""

    def do_GET(self) -> None:
        self.send_response(200)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: apt-get install -y nginx")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), AppLike)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port, dead = free_port(), free_port()
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fcgi; uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{port};
        include {SNIPPET};
        location /app/ {{ proxy_pass http://127.0.0.1:{upstream.server_address[1]}; }}
        location /down/ {{ proxy_pass http://127.0.0.1:{dead}; }}
        location /moved {{ return 301 /app/; }}
    }}
}}
""", encoding="utf-8")
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/moved", timeout=1, allow_redirects=False)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()


def test_every_answer_through_nginx_carries_each_header_once(nginx: str) -> None:
    answers = {
        "proxied": requests.get(f"{nginx}/app/x", timeout=5),
        "upstream down (502)": requests.get(f"{nginx}/down/x", timeout=5),
        "redirect": requests.get(f"{nginx}/moved", timeout=5, allow_redirects=False),
        "not found": requests.get(f"{nginx}/nothing", timeout=5),
    }
    assert answers["upstream down (502)"].status_code == 502
    for what, response in answers.items():
        raw = response.raw.headers
        for name, value in SECURITY_HEADERS.items():
            assert raw.getlist(name) == [value], (what, name, raw.getlist(name))


def test_the_sample_config_includes_the_headers_in_every_server_block() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=server \{)", text)[1:]
    assert len(blocks) == 3
    for block in blocks:
        assert "include /etc/nginx/conf.d/tongban-security-headers.conf;" in block
        assert "add_header" not in block.split("location", 1)[1] if "location" in block \
            else True  # a location's own add_header would drop the server's
