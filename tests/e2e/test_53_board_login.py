"""The board's login (issue 16, item 7): a ?token= link sets the cookie and
answers 303 to the same URL without the token (so it leaves the address bar,
the history and proxy logs); the cookie is Secure when the board is reached
over https; weak tokens are refused at start; `collabd gen-token` prints one
that is accepted."""

import http.client
import json
import subprocess

from daemonctl import COLLABD_BIN, free_port

TOKEN = "board-token-0123456789abcdef"


def raw_get(port, path, headers=None):
    """GET without following redirects: (status, headers dict lowercased, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8")
    c.close()
    return out


def test_token_link_sets_the_cookie_and_redirects_without_it(sim, make_daemon):
    port = free_port()
    d = make_daemon(extra={"board": {"listen": "127.0.0.1", "port": port, "token": TOKEN,
                                     "public_url": "https://board.example.com"}})
    code, headers, _ = raw_get(port, "/board/req/2026-Q4-JSB-001?token=" + TOKEN)
    assert code == 303
    assert headers["location"] == "/board/req/2026-Q4-JSB-001"
    cookie = headers["set-cookie"]
    assert cookie.startswith("collabd_board=" + TOKEN) and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "; Secure" in cookie
    # Other arguments survive; the token goes wherever it stands.
    code, headers, _ = raw_get(port, "/board?view=all&token=" + TOKEN + "&x=1")
    assert code == 303 and headers["location"] == "/board?view=all&x=1"
    # A path that tries to point elsewhere stays on this host.
    code, headers, _ = raw_get(port, "//evil.example/board?token=" + TOKEN)
    assert code == 303 and not headers["location"].startswith("//")
    # The cookie then opens the page the redirect names.
    code, _, body = raw_get(port, "/board", {"Cookie": "collabd_board=" + TOKEN})
    assert code == 200 and "进度看板" in body
    # A wrong token is still 401, never a redirect.
    assert raw_get(port, "/board?token=wrong-Token-0123456789")[0] == 401
    assert TOKEN not in d.log()


def test_cookie_is_not_secure_on_a_plain_http_board(sim, make_daemon):
    port = free_port()
    make_daemon(extra={"board": {"listen": "127.0.0.1", "port": port, "token": TOKEN,
                                 "public_url": "http://127.0.0.1:%d" % port}})
    code, headers, _ = raw_get(port, "/board?token=" + TOKEN)
    assert code == 303 and "Secure" not in headers["set-cookie"]


def check(d, **sections):
    cfg = json.load(open(d.config_path))
    for k, v in sections.items():
        cfg.setdefault(k, {}).update(v)
    json.dump(cfg, open(d.config_path, "w"))
    return subprocess.run([COLLABD_BIN, "--check-config", d.config_path], capture_output=True, text=True,
                          env=d.env(), timeout=20)


def test_weak_tokens_are_refused_and_gen_token_makes_a_strong_one(sim, make_daemon):
    d = make_daemon(start=False)
    for weak in ("a" * 16, "abababababababababab", "0123456789012345", "short-Token1"):
        p = check(d, board={"listen": "0.0.0.0", "port": free_port(), "token": weak})
        assert p.returncode == 1 and "board.token:" in p.stderr, (weak, p.stderr)
        p = check(d, board={"port": 0, "token": None}, admin={"token": weak})
        assert p.returncode == 1 and "admin.token:" in p.stderr, (weak, p.stderr)
        check(d, admin={"token": None})
    assert "collabd gen-token" in check(d, board={"listen": "0.0.0.0", "port": free_port(), "token": "a" * 16}).stderr
    tokens = {subprocess.run([COLLABD_BIN, "gen-token"], capture_output=True, text=True, timeout=10).stdout.strip()
              for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 32 for t in tokens)
    for t in tokens:
        p = check(d, board={"listen": "0.0.0.0", "port": free_port(), "token": t}, admin={"token": t})
        assert p.returncode == 0, p.stderr
