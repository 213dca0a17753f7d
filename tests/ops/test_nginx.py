"""The deployment as docs/deploy.md builds it: Debian's nginx with the repository's deploy/nginx/harbour.conf
(only the lines marked ``# SITE:`` replaced) and a self-signed certificate, in front of two ``harbour serve``
workers on PostgreSQL that trust it (HARBOUR_TRUSTED_PROXIES=127.0.0.1).

Checked through nginx: http redirects to https; sign-in over https with Secure, HttpOnly cookies; one HSTS
header; a live chat message crosses the proxied WebSocket both ways (visitor and advocate on either worker);
the tip rate limit counts the client nginx saw (127.0.0.2, whatever X-Forwarded-For it sends), not an address
the client wrote; /metrics is refused to anyone but the monitoring host, and Harbour itself still wants the
token from it; no query string reaches nginx's access log; the request id is nginx's, in both logs.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from harbour.core.config import Settings
from tests.conftest import PASSWORD, run_async
from tests.servers import HARBOUR, REPO, cookie_header, free_port, next_frame, serve, server_env

NGINX = Path("/usr/sbin/nginx")
SITE_CONF = REPO / "deploy" / "nginx" / "harbour.conf"
HOST = "localhost"


# -- the certificate and nginx --------------------------------------------------------------------------------
def self_signed(folder: Path) -> tuple[Path, Path]:
    """A P-256 key and a self-signed certificate for localhost and 127.0.0.1 (cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "fullchain.pem", folder / "privkey.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def site_config(text: str, values: dict[str, list[str]]) -> str:
    """The site file with each ``# SITE: name`` line replaced by ``values[name]`` (one line per marked line;
    fewer drops the rest).  Every marked name must be given and every given name must be marked: a change to
    the file's site values shows up here."""
    seen: dict[str, int] = {}
    out = []
    for line in text.splitlines():
        match = re.search(r"#\s*SITE:\s*([\w-]+)\s*$", line)
        if not match:
            out.append(line)
            continue
        name = match.group(1)
        assert name in values, f"{SITE_CONF} marks a site value the test does not know: {name}"
        index = seen[name] = seen.get(name, -1) + 1
        replacements = values[name]
        if index < len(replacements):
            indent = line[:len(line) - len(line.lstrip())]
            out.append(indent + replacements[index])
    assert set(seen) == set(values), f"site values not marked in {SITE_CONF}: {sorted(set(values) - set(seen))}"
    return "\n".join(out) + "\n"


MAIN_CONF = """# As Debian's /etc/nginx/nginx.conf, with every path in the test's folder.
{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {root}/access.log;
    gzip on;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/sites-enabled/*;
}}
"""


@contextlib.contextmanager
def nginx(root: Path, values: dict[str, list[str]], https_port: int) -> Iterator[subprocess.Popen]:
    """Debian's nginx in the foreground with the repository's site file; stopped when the block ends."""
    (root / "sites-enabled").mkdir(parents=True)
    (root / "sites-enabled" / "harbour").write_text(site_config(SITE_CONF.read_text(), values))
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would otherwise run as nobody
    (root / "nginx.conf").write_text(MAIN_CONF.format(root=root, user=user))
    command = [str(NGINX), "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, f"nginx exited: {proc.stderr.read().decode(errors='replace')}"
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            assert time.monotonic() < deadline, "nginx did not listen within 15 s"
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- the journey's pieces -------------------------------------------------------------------------------------
def csrf_field(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert found, f"{response.request.url.path} did not set {name}"
    return found[0]


async def chat_through_proxy(site: str, tls: ssl.SSLContext, adv: httpx.Client) -> None:
    """A visitor starts a chat; the signed-in advocate takes it; one message each way over wss:// via nginx."""
    csrf = re.search(r'data-csrf="([^"]+)"', adv.get("/console/chat").text).group(1)
    assert adv.post("/console/chat/availability", data={"available": "on", "csrf_token": csrf}).status_code == 303
    with httpx.Client(base_url=site, verify=tls) as vis:
        token = csrf_field(vis.get("/help/chat").text)
        assert vis.post("/help/chat", data={"language": "en", "csrf_token": token}).status_code == 303
        wss = site.replace("https://", "wss://")
        async with websockets.connect(wss + "/help/chat/ws", ssl=tls, origin=site,
                                      additional_headers={"Cookie": cookie_header(vis)}) as v, \
                websockets.connect(wss + "/console/chat/ws", ssl=tls, origin=site,
                                   additional_headers={"Cookie": cookie_header(adv)}) as a:
            await v.send(json.dumps({"type": "hello", "csrf": vis.cookies.get("harbour_csrf")}))
            await a.send(json.dumps({"type": "hello", "csrf": csrf}))
            welcome = await next_frame(v, lambda f: f["type"] == "welcome")
            assert welcome["status"] == "queued"
            await next_frame(a, lambda f: f["type"] == "welcome")
            chat = welcome["session"]
            assert adv.post(f"/console/chat/{chat}/take", data={"csrf_token": csrf}).status_code == 303
            assert (await next_frame(v, lambda f: f["type"] == "status"))["status"] == "active"
            await v.send(json.dumps({"type": "message", "body": "Hello through the proxy (fictional visitor)"}))
            got = await next_frame(a, lambda f: f["type"] == "message" and f["sender"] == "visitor")
            assert got["body"] == "Hello through the proxy (fictional visitor)"
            await a.send(json.dumps({"type": "message", "session": chat, "body": "Hello back (test advocate)"}))
            got = await next_frame(v, lambda f: f["type"] == "message" and f["sender"] == "advocate")
            assert got["body"] == "Hello back (test advocate)"
            await v.send(json.dumps({"type": "close"}))
            assert (await next_frame(a, lambda f: f["type"] == "status"))["status"] == "closed"


def post_tip(client: httpx.Client, spoofed: str) -> int:
    """One anonymous tip; every request carries an X-Forwarded-For the client made up."""
    headers = {"X-Forwarded-For": spoofed}
    token = csrf_field(client.get("/tip", headers=headers).text)
    return client.post("/tip", data={"summary": "Fictional test tip: nothing happened.", "csrf_token": token},
                       headers=headers).status_code


def from_address(address: str, site: str, tls: ssl.SSLContext) -> httpx.Client:
    """A client whose connections leave from ``address`` (any 127.x address is this machine)."""
    return httpx.Client(base_url=site, verify=tls, follow_redirects=False,
                        transport=httpx.HTTPTransport(local_address=address, verify=tls))


# -- the tests ------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.pg_only
def test_harbour_behind_nginx(settings, make_user, tmp_path):
    if not NGINX.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{NGINX} is missing: .ci/run installs Debian's nginx package")
        pytest.skip(f"{NGINX} is missing (Debian's nginx package: apt-get install nginx)")
    if settings.is_sqlite:
        pytest.skip("two workers behind nginx need PostgreSQL (LISTEN/NOTIFY); SQLite is the single-process default")
    advocate = make_user("hotline_advocate")
    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(cafile=str(cert))
    http_port, https_port = free_port(), free_port()
    site = f"https://{HOST}:{https_port}"
    metrics_token = secrets.token_urlsafe(24)
    tip_limit = 3
    env = server_env(settings, HARBOUR_BASE_URL=site, HARBOUR_TRUSTED_PROXIES="127.0.0.1",
                     HARBOUR_METRICS_TOKEN=metrics_token, HARBOUR_TIP_LIMIT=str(tip_limit))
    with serve(env, workers=2) as (upstream, _proc, server_log):
        root = tmp_path / "nginx"
        values = {
            "listen-http": [f"listen 127.0.0.1:{http_port};"],
            "listen-https": [f"listen 127.0.0.1:{https_port} ssl http2;"],
            "server-name": [f"server_name {HOST};"] * 2,
            "certificate": [f"ssl_certificate {cert};"],
            "certificate-key": [f"ssl_certificate_key {key};"],
            "upstream": [f"server {upstream.removeprefix('http://')};"],
            "monitoring": ["allow 127.0.0.1;"],
            "acme-root": [f"root {tmp_path / 'acme'};"],
            "access-log": [f"access_log {root}/harbour.access.log harbour_private;"] * 2,
            "error-log": [f"error_log {root}/harbour.error.log crit;"] * 2,
        }
        with nginx(root, values, https_port):
            # http -> https, path and query kept, nothing served over http
            plain = httpx.get(f"http://127.0.0.1:{http_port}/tip?lang=fr", follow_redirects=False)
            assert plain.status_code == 301
            assert plain.headers["location"] == f"https://{HOST}/tip?lang=fr"

            assert httpx.get(site + "/healthz", verify=tls).status_code == 200
            with httpx.Client(base_url=site, verify=tls, follow_redirects=False) as adv:
                # sign-in over https: Secure, HttpOnly cookies; one HSTS header
                page = adv.get("/login", headers={"X-Request-ID": "made-up-by-the-client"})
                assert page.status_code == 200
                hsts = page.headers.get_list("strict-transport-security")
                assert len(hsts) == 1 and re.search(r"max-age=\d{7,}", hsts[0]), hsts
                csrf_cookie = set_cookie(page, "harbour_csrf")
                signed_in = adv.post("/login", data={"username": advocate.username, "password": PASSWORD,
                                                     "csrf_token": csrf_field(page.text), "next": "/console"})
                assert signed_in.status_code == 303, signed_in.text[:500]
                session_cookie = set_cookie(signed_in, "harbour_session")
                for cookie in (csrf_cookie, session_cookie):
                    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
                    assert {"secure", "httponly"} <= attributes, cookie
                home = adv.get("/console")  # signed in: the advocate's start page, not the sign-in form
                assert home.status_code == 303 and home.headers["location"] == "/console/contacts/new", home.headers
                # the request id is nginx's (a client's own is replaced), returned, and in both logs
                request_id = page.headers.get("x-request-id", "")
                assert re.fullmatch(r"[0-9a-f]{32}", request_id), page.headers

                # a live chat through the proxied WebSocket, both ways
                run_async(chat_through_proxy(site, tls, adv))

            # the rate limit counts the address nginx saw, not the one a client writes into X-Forwarded-For
            with from_address("127.0.0.2", site, tls) as spoofer, from_address("127.0.0.3", site, tls) as other:
                answers = [post_tip(spoofer, f"203.0.113.{n}") for n in range(1, tip_limit + 2)]
                assert answers == [303] * tip_limit + [429], answers
                assert post_tip(other, "127.0.0.2") == 303
                # /metrics: nginx refuses everyone but the monitoring host ...
                assert spoofer.get("/metrics").status_code == 403
            with httpx.Client(base_url=site, verify=tls) as monitor:
                # ... and Harbour still wants the token from it (a proxied request is not "loopback")
                assert monitor.get("/metrics").status_code == 404
                scraped = monitor.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
                assert scraped.status_code == 200 and "harbour_http_requests" in scraped.text

        access_log = (root / "harbour.access.log").read_text()
        assert "/tip" in access_log and "lang=fr" not in access_log and "?" not in access_log
        harbour_log = server_log.read_text()
        assert request_id in access_log and request_id in harbour_log  # one id for one request, in both logs
        assert "made-up-by-the-client" not in access_log + harbour_log


def test_example_environment_file_names_every_setting():
    """deploy/harbour.env documents every setting Harbour reads (a new one must be added there)."""
    text = (REPO / "deploy" / "harbour.env").read_text()
    named = set(re.findall(r"^#?(HARBOUR_[A-Z0-9_]+)=", text, flags=re.M))
    expected = {f"HARBOUR_{name.upper()}" for name in Settings.model_fields}
    assert expected - named == set(), "settings missing from deploy/harbour.env"
    assert named - expected == set(), "deploy/harbour.env names settings Harbour does not have"


def test_systemd_units_verify(tmp_path):
    """systemd-analyze verify accepts every unit in deploy/systemd (paths moved under a scratch folder, where
    the commands they start exist)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (Debian's systemd package)")
        pytest.skip("systemd-analyze is missing (Debian's systemd package)")
    venv_bin = tmp_path / "opt" / "harbour" / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "harbour").symlink_to(HARBOUR)
    (tmp_path / "opt" / "harbour" / "app").symlink_to(REPO)
    units = []
    for unit in sorted((REPO / "deploy" / "systemd").iterdir()):
        text = unit.read_text().replace("/opt/harbour", str(tmp_path / "opt" / "harbour"))
        (tmp_path / unit.name).write_text(text)
        units.append(unit.name)
    assert {"harbour.service", "harbour-backup.service", "harbour-backup.timer"} <= set(units)
    result = subprocess.run([analyze, "verify", *units], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
