"""The admin interface (issue 16, item 5): a token whenever it listens beyond
loopback (no start without one), JSON-only POST routes (a web page's
text/plain POST is refused), and a proper status for a POST without a
Content-Length or with a chunked body instead of silence."""

import json
import socket
import subprocess

from daemonctl import COLLABD_BIN

ADMIN_TOKEN = "adm1n-Token-9f3kQ2xVb7Lm"


def raw(port, request: bytes, timeout=5.0) -> bytes:
    """One raw HTTP exchange; what the daemon answered before closing (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        out = b""
        try:
            while b"\r\n\r\n" not in out or len(out) < out.find(b"\r\n\r\n") + 4 + _length(out):
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def status(resp: bytes) -> int:
    assert resp.startswith(b"HTTP/1.1 "), resp[:200]
    return int(resp.split(b" ")[1])


def test_beyond_loopback_the_admin_port_needs_a_token_to_start(sim, make_daemon):
    d = make_daemon(start=False, extra={"admin": {"listen": "0.0.0.0"}})
    d.allowed_exit.add(78)
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path], capture_output=True, text=True,
                       env=d.env(), timeout=20)
    assert p.returncode == 78
    assert "admin.token: required when admin.listen (0.0.0.0) is not a loopback address" in p.stderr


def test_with_a_token_every_request_must_carry_it(sim, make_daemon):
    d = make_daemon(clock_control=True, extra={"admin": {"listen": "0.0.0.0", "token": ADMIN_TOKEN}})
    assert d.admin("/healthz")[0] == 200                      # daemonctl sends the Bearer header
    for path in ("/healthz", "/metrics", "/debug/stats", "/debug/clock"):
        resp = raw(d.admin_port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status(resp) == 401, (path, resp[:200])
        resp = raw(d.admin_port, f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN[:-1]}x\r\n\r\n"
                   .encode())
        assert status(resp) == 401
    body = b'{"advance_ms": 3600000}'
    before = d.admin("/debug/clock")[1]["now_ms"]
    resp = raw(d.admin_port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert status(resp) == 401
    assert d.admin("/debug/clock")[1]["now_ms"] - before < 3_600_000
    assert "admin interface listening" in d.log() and "token=required" in d.log() and ADMIN_TOKEN not in d.log()


def test_post_routes_take_only_json_with_a_length(sim, make_daemon):
    d = make_daemon(clock_control=True)
    port = d.admin_port
    before = d.admin("/debug/clock")[1]["now_ms"]
    body = b'{"advance_ms": 86400000}'
    # What a web page can send to localhost without a preflight: refused, the clock unmoved.
    for ctype in (b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
                  b"application/jsonx"):
        resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype +
                   b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert status(resp) == 415, (ctype, resp[:200])
        assert b"application/json" in resp
    resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert status(resp) == 415                                 # no Content-Type at all
    assert d.admin("/debug/clock")[1]["now_ms"] - before < 86_400_000
    # No Content-Length, or a chunked body: an answer, not silence.
    resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n")
    assert status(resp) == 411, resp[:200]
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
    assert status(resp) == 411, resp[:200]
    resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 0\r\n\r\n")
    assert status(resp) == 400
    assert d.admin("/debug/clock")[1]["now_ms"] - before < 86_400_000
    # The right request still works, charset and all.
    resp = raw(port, b"POST /debug/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert status(resp) == 200 and json.loads(resp.split(b"\r\n\r\n", 1)[1])["now_ms"] - before >= 86_400_000
    assert d.admin("/healthz")[0] == 200                       # the daemon is fine after all that
