"""SIGHUP checked against the running listeners (issue 16, item 6): a file
that moves the board or the admin interface (listen or port) is refused with
a log line that says a restart is needed, so a board open on 0.0.0.0 cannot
lose its token by a reload that claims 127.0.0.1."""

import signal
import time
import urllib.error
import urllib.request

import json

from daemonctl import free_port

TOKEN = "board-Token-0123456789abcdef"
ADMIN_TOKEN = "adm1n-Token-9f3kQ2xVb7Lm"


def edit_config(d, change):
    with open(d.config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    change(cfg)
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False)


def outcomes(d):
    log = d.log()
    return log.count('msg="configuration reloaded"') + log.count("reload refused; the running") + \
        log.count("restart; the running configuration is kept") + log.count("and the file removes")


def reload(sim, d, _n=None):
    """SIGHUP, then wait for the daemon's verdict on this file."""
    before = outcomes(d)
    d.proc.send_signal(signal.SIGHUP)
    sim.wait_for(lambda: outcomes(d) > before, timeout=5)
    time.sleep(0.1)


def status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_reload_cannot_drop_the_token_of_an_open_listener(sim, make_daemon):
    port = free_port()
    d = make_daemon(extra={"board": {"listen": "0.0.0.0", "port": port, "token": TOKEN}})
    base = f"http://127.0.0.1:{port}/board"
    assert status(base) == 401

    # The file now says loopback and no token: the socket is still on 0.0.0.0.
    edit_config(d, lambda c: (c["board"].update(listen="127.0.0.1"), c["board"].pop("token")))
    reload(sim, d, 1)
    log = d.log()
    assert "reload refused: board.listen/board.port changed" in log and "restart" in log
    assert "running=0.0.0.0:%d file=127.0.0.1:%d" % (port, port) in log
    assert status(base) == 401 and status(base, {"Authorization": "Bearer " + TOKEN}) == 200

    # A port change is refused the same way.
    edit_config(d, lambda c: c["board"].update(listen="0.0.0.0", port=port + 1, token=TOKEN))
    reload(sim, d, 1)
    assert d.log().count("reload refused: board.listen/board.port changed") == 2

    # A file that keeps the listeners still applies (here: a new token).
    new_token = "other-Token-0123456789abcdef"
    edit_config(d, lambda c: c["board"].update(port=port, token=new_token))
    reload(sim, d, 1)
    assert status(base, {"Authorization": "Bearer " + TOKEN}) == 401
    assert status(base, {"Authorization": "Bearer " + new_token}) == 200


def test_reload_cannot_move_the_admin_interface(sim, make_daemon):
    d = make_daemon(extra={"admin": {"listen": "0.0.0.0", "token": ADMIN_TOKEN}})
    edit_config(d, lambda c: (c["admin"].update(listen="127.0.0.1"), c["admin"].pop("token")))
    reload(sim, d, 1)
    assert "reload refused: admin.listen/admin.port changed" in d.log()
    assert status(f"http://127.0.0.1:{d.admin_port}/healthz") == 401
    assert d.admin("/healthz")[0] == 200
