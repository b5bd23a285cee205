"""/healthz: 200 while every check passes; 503 naming the failing check when the
simulator (the platform) is down, when the database cannot be written, and
when a message has waited in the outbox too long."""

import sqlite3
import time

import pytest

import pgcluster
from daemonctl import Daemon
from helpers import replies_to
from simctl import Sim


def health(d):
    return d.admin("/healthz")


def test_healthy_daemon_passes_every_check(sim, daemon):
    status, body = health(daemon)
    assert status == 200
    assert body["status"] == "ok" and body["failing"] == []
    assert body["feishu"] == "connected" and body["database"] == "ok" and body["outbox"] == "ok"
    assert body["outbox_pending"] == 0


def test_unhealthy_while_the_simulator_is_down_and_healthy_again_after(tmp_path):
    s = Sim.start()
    s.set_config(ping_interval=2, reconnect_interval=1, reconnect_nonce=1)
    port = s.http_port
    d = Daemon(s, tmp_path)
    try:
        d.start()
        s.wait_connected()
        assert health(d)[0] == 200
        s.stop()                                         # the platform is gone
        s = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and health(d)[0] != 503:
            time.sleep(0.1)
        status, body = health(d)
        assert status == 503 and body["status"] == "unhealthy"
        assert body["feishu"] == "disconnected" and body["failing"] == ["feishu"]
        assert body["database"] == "ok"
        # The platform comes back on the same address: the daemon reconnects.
        s = Sim.start(extra_args=("--port", str(port)))
        s.set_config(ping_interval=2, reconnect_interval=1, reconnect_nonce=1)
        s.wait_connected(timeout=20)
        s.wait_for(lambda: health(d)[0] == 200, timeout=10)
    finally:
        assert d.stop() == 0
        if s:
            s.stop()


@pytest.mark.skipif(pgcluster.server_url() is not None,
                    reason="SQLite's database-wide write lock; PostgreSQL locks rows (tests/pg: server down)")
def test_unhealthy_while_the_database_cannot_be_written(sim, daemon):
    con = sqlite3.connect(daemon.db, timeout=5, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")                       # another writer holds the lock
    try:
        status, body = health(daemon)
        assert status == 503 and body["database"] == "not writable" and body["failing"] == ["database"]
        assert "locked" in body["database_error"]
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert health(daemon)[0] == 200


def test_unhealthy_while_the_outbox_is_stuck(sim, make_daemon):
    d = make_daemon(extra={"health": {"outbox_stuck_after_s": 1}})
    sim.fail("/open-apis/im/v1/messages", delay_ms=4000, count=1)   # a send that hangs
    r = sim.inject_message("oc_h", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    sim.wait_for(lambda: health(d)[0] == 503, timeout=5)
    status, body = health(d)
    assert body["outbox"] == "stuck" and body["failing"] == ["outbox"]
    assert body["outbox_pending"] == 1 and body["outbox_oldest_s"] >= 1
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    sim.wait_for(lambda: health(d)[0] == 200, timeout=5)
