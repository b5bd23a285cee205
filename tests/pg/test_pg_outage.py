"""The event loop never waits on a lost PostgreSQL server.

The daemon reaches the server through a relay (pgcluster.PgProxy) that can be
cut like a network partition or a frozen host, and the server itself is also
stopped outright.  Meanwhile the admin port keeps answering at once (/healthz:
503, the database unreachable), nothing is acked, the store reconnects in the
background, and once the server is back every event is applied exactly once.

Prints the loop-stall figures the README quotes (`make test-pg`, or this file
with COLLABD_TEST_PG set)."""

import json
import time
import urllib.error
import urllib.request

import pgcluster
from daemonctl import Daemon
from helpers import replies_to

STATEMENT_TIMEOUT_MS = 1000
# Answered at once while the store reconnects: a few ms measured; 300 ms
# leaves room for a loaded machine (2 shared cores) and still tells a loop
# that waits on the server (the whole outage before) from one that does not.
QUICK_S = 0.3


def healthz(d):
    """(seconds the answer took, status, body); a hung loop shows as 10 s."""
    t = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{d.admin_port}/healthz", timeout=10) as r:
            status, body = r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        status, body = e.code, json.loads(e.read() or b"null")
    except OSError:
        return 10.0, None, None
    return time.monotonic() - t, status, body


def outage(sim, d, seconds, chat):
    """Polls /healthz for `seconds` while sending a /帮助 every half second.
    Returns (samples [(latency, status, body)], events sent)."""
    samples, sent = [], []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if len(sent) < 6 and time.monotonic() - t0 >= len(sent) * 0.5:
            sent.append(sim.inject_message(chat, "ou_init", "/帮助"))
        samples.append(healthz(d))
        time.sleep(0.03)
    return samples, sent


def check_outage(sim, samples, sent, what):
    acked = {a["event_id"] for a in sim.acks() if a["code"] == 200}
    assert not any(e["event_id"] in acked for e in sent), f"{what}: an event was acked while the store was down"
    down = [i for i, (_, status, body) in enumerate(samples) if body and body.get("database") == "unreachable"]
    assert down, f"{what}: /healthz never said the database is unreachable: {samples[-1]}"
    # The poll that first says so may be the one whose statement noticed the loss.
    after = samples[down[0] + 1:]
    worst_before = max(s[0] for s in samples[:down[0] + 1])
    worst_after = max(s[0] for s in after)
    print(f"\n{what}: {len(samples)} /healthz polls; until the loss was noticed the slowest took "
          f"{worst_before * 1000:.0f} ms; afterwards ({len(after)} polls, reconnecting) the slowest took "
          f"{worst_after * 1000:.0f} ms")
    # The one statement in flight when the server vanished waits for its
    # deadline (statement_timeout + 500 ms); nothing after it waits at all.
    assert worst_before < (STATEMENT_TIMEOUT_MS + 500) / 1000 + 0.7, worst_before
    assert len(after) >= 20
    assert all(status == 503 for _, status, _ in after if status is not None)
    assert worst_after < QUICK_S, f"{what}: /healthz took {worst_after:.3f} s while the store reconnected"


def check_applied(sim, d, sent, url):
    for e in sent:
        sim.wait_acked(e["event_id"], timeout=40)
    sim.wait_for(lambda: all(replies_to(sim, e["message_id"]) for e in sent), timeout=30)
    time.sleep(0.5)
    assert [len(replies_to(sim, e["message_id"])) for e in sent] == [1] * len(sent)
    assert pgcluster.query(url, "SELECT COUNT(*) FROM inbox")[0][0] >= len(sent)


def test_loop_keeps_serving_while_postgresql_is_lost(sim, tmp_path):
    server = pgcluster.PgCluster(durable=True).start()
    proxy = pgcluster.PgProxy(server.port)
    d = None
    try:
        direct = pgcluster.fresh_database(server.url())
        name = direct.rsplit("/", 1)[1]
        d = Daemon(sim, tmp_path, database=proxy.url(name),
                   extra={"postgresql": {"statement_timeout_ms": STATEMENT_TIMEOUT_MS, "connect_timeout_ms": 500,
                                         "lock_timeout_ms": 500}})
        d.start()
        sim.wait_connected(timeout=20)
        first = sim.inject_message("oc_o", "ou_init", "/帮助")
        sim.wait_acked(first["event_id"], timeout=10)
        assert healthz(d)[1] == 200

        # 1. The network to the server is cut: packets vanish, connects hang.
        proxy.cut()
        samples, sent = outage(sim, d, 5, "oc_cut")
        check_outage(sim, samples, sent, "link cut")
        assert "cannot reconnect to PostgreSQL yet" in d.log()
        t = time.monotonic()
        proxy.heal()
        sim.wait_for(lambda: healthz(d)[1] == 200, timeout=20)
        print(f"link healed: /healthz 200 again after {(time.monotonic() - t) * 1000:.0f} ms")
        check_applied(sim, d, sent, direct)

        # 2. The server is stopped outright (connections refused), then started.
        server.stop("fast")
        samples2, sent2 = outage(sim, d, 4, "oc_stop")
        check_outage(sim, samples2, sent2, "server stopped")
        server.start()
        sim.wait_for(lambda: healthz(d)[1] == 200, timeout=20)
        check_applied(sim, d, sent2, direct)

        assert d.log().count("reconnected to PostgreSQL") >= 2
        total = 1 + len(sent) + len(sent2)
        assert pgcluster.query(direct, "SELECT COUNT(*) FROM inbox") == [(total,)]
        assert d.proc.poll() is None
        assert d.stop() == 0
    finally:
        if d:
            d.stop()
        proxy.close()
        server.destroy()
