"""Several collabd instances active-active on one PostgreSQL store.

Three instances connect to the simulator, which (like Feishu) hands each event
to one random open connection.  A flood of mixed events (help commands,
requests that open deadlines) runs while one instance is SIGKILLed and later
restarted and another is stopped gracefully; afterwards every event was
applied once, every reply posted once, request ids count up without a gap,
each deadline's reminder fired once, and any live instance answers /healthz
and serves the board.  A second run restarts PostgreSQL itself mid-flood.

Run by `make test-pg` (COLLABD_TEST_PG names the throwaway server)."""

import threading
import time
import urllib.request

import pgcluster
from daemonctl import Daemon, free_port
from helpers import DIRECTORY, FORM as FORM_2026, at, import_directory, max_in_window, replies_to

# A Monday after today's real date, so that an instance restarted with the
# real clock is in the past of every deadline and cannot fire one early.
MONDAY_10 = at(2027, 3, 1, 10)
REMINDER_TIME = at(2027, 3, 1, 17, 5)   # past every request's reminder (2 business hours before its due)
FORM = FORM_2026.replace("2026-12-31", "2027-12-31")


def instance(sim, tmp_path, db, i, board_port):
    work = tmp_path / f"instance{i}"
    work.mkdir(exist_ok=True)
    return Daemon(sim, work, clock_control=True, database=db,
                  extra={"board": {"listen": "127.0.0.1", "port": board_port}})


def board_page(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/board", timeout=5) as r:
        return r.status, r.read().decode()


def flood(sim, n, on_step=None):
    """n events over five chats: every third a request form, the others /帮助.
    Returns [(kind, event)]."""
    sent = []
    for k in range(n):
        if on_step:
            on_step(k)
        chat = f"oc_c{k % 5}"
        if k % 3 == 0:
            sent.append(("form", sim.inject_message(chat, "ou_init", FORM)))
        else:
            sent.append(("help", sim.inject_message(chat, "ou_init", "/帮助")))
        time.sleep(0.03)
    return sent


def check_applied_once(sim, d, sent, timeout=60):
    """Every event acked, applied once, answered once; request ids gapless."""
    for _, e in sent:
        sim.wait_acked(e["event_id"], timeout=timeout)
    assert d.sql("SELECT COUNT(*) FROM inbox") == [(len(sent),)]
    # Replies: a killed instance's claims lapse after the outbox lease (15 s).
    try:
        sim.wait_for(lambda: all(replies_to(sim, e["message_id"]) for _, e in sent), timeout=timeout)
    except TimeoutError:
        raise AssertionError("some event was never answered; outbox: " + repr(d.sql(
            "SELECT id, chat_id, state, attempts, claimed_by, claim_until, next_attempt_at, last_error "
            "FROM outbox WHERE state <> 'sent' ORDER BY id")[:10]))
    time.sleep(1.0)
    # /帮助 gets one reply; a request its confirmation and the approval card:
    # the same for every event of a kind, whichever instance applied it.
    counts = {}
    for kind, e in sent:
        counts.setdefault(kind, []).append(len(replies_to(sim, e["message_id"])))
    assert set(counts["help"]) == {1}, counts["help"]
    assert len(set(counts["form"])) == 1, counts["form"]
    texts = [(m["reply_to"], str(m["content"])) for m in sim.messages() if m["reply_to"]]
    assert len(texts) == len(set(texts)), "a reply was posted twice"
    assert_sent_once(sim)

    forms = sum(1 for kind, _ in sent if kind == "form")
    ids = [r[0] for r in d.sql("SELECT id FROM requests ORDER BY id")]
    assert len(ids) == forms
    numbers = sorted(int(i.rsplit("-", 1)[1]) for i in ids)
    assert numbers == list(range(1, forms + 1)), ids
    sim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'") == [(0,)], timeout=40)
    return ids


def assert_sent_once(sim, slack=8):
    """Each outbox row is sent by one instance.  The platform drops a repeat
    of a uuid (counted in dup_uuid_hits), so the only repeats allowed are the
    sends a killed instance had in flight (outbox.max_inflight, 8) without
    living to record them."""
    sends = {}
    for r in sim.requests():
        if r["method"] == "POST" and r["path"].startswith("/open-apis/im/v1/messages") and r["uuid"]:
            sends[r["uuid"]] = sends.get(r["uuid"], 0) + 1
    repeats = sum(n - 1 for n in sends.values())
    assert repeats <= slack, f"{repeats} repeated sends: instances sent the same rows"


def test_three_instances_with_one_killed_and_one_stopped(sim, tmp_path):
    db = pgcluster.fresh_database()
    boards = [free_port() for _ in range(3)]
    ds = [instance(sim, tmp_path, db, i, boards[i]) for i in range(3)]
    assert import_directory(ds[0], DIRECTORY, tmp_path).returncode == 0
    for d in ds:
        d.start_at(MONDAY_10)
    sim.wait_connected(3, timeout=20)
    # Slow sends keep rows in flight while the other instances look for due
    # rows: without claims they would send them too.
    sim.fail("/open-apis/im/v1/messages", delay_ms=150, count=100000)
    try:
        def chaos(k):
            if k == 25:
                ds[1].kill()                        # SIGKILL: claims and leases die with it
            elif k == 40:
                assert ds[2].stop() == 0            # graceful: finishes and leaves
            elif k == 55:
                # Back under a new name (a new host, say): the rows the killed
                # one had claimed wait for its lease, then the others send them.
                ds[1].instance_id += "-new"
                ds[1].start_at(MONDAY_10)
        sent = flood(sim, 90, chaos)
        live = [ds[0], ds[1]]
        ids = check_applied_once(sim, ds[0], sent)

        # Each request's approval reminder fires once across the cluster: both
        # live instances' clocks cross the reminders' time at the same moment.
        setters = [threading.Thread(target=d.admin, args=("/debug/clock", {"set_ms": REMINDER_TIME - 1000}))
                   for d in live]
        for t in setters:
            t.start()
        for t in setters:
            t.join()
        key_count = len(ids)
        sim.wait_for(lambda: ds[0].sql(
            "SELECT COUNT(*) FROM timers WHERE state = 'fired'")[0][0] >= key_count, timeout=30,
            message="reminders did not fire")
        time.sleep(2.0)
        twice = ds[0].sql("SELECT deadline_key, step, COUNT(*) FROM timers WHERE state = 'fired' "
                          "GROUP BY deadline_key, step HAVING COUNT(*) > 1")
        assert twice == []
        pings = [m for m in sim.messages() if m["msg_type"] == "interactive"
                 and "协作提醒" in m["content"]["header"]["title"]["content"]]
        for rid in ids:
            carrying = [p for p in pings if rid in str(p["content"])]
            assert len(carrying) == 1, (rid, len(carrying))
        sim.wait_for(lambda: ds[0].sql("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'") == [(0,)],
                     timeout=30)
        assert_sent_once(sim)

        # Any live instance serves /healthz and the board, and the board shows
        # the requests written by all of them.
        for i in (0, 1):
            assert ds[i].admin("/healthz")[0] == 200
            status, page = board_page(boards[i])
            assert status == 200 and ids[-1] in page
        instances = {line.rsplit("instance=", 1)[1] for d in ds for line in d.log().splitlines()
                     if "instance=" in line}
        assert len(instances) >= 4   # three first starts and the restarted one
    finally:
        for d in ds:
            d.stop()


def test_postgresql_restarts_mid_flood(sim, tmp_path):
    """The server goes away and comes back: instances stop acking while it is
    gone, reconnect, and nothing is lost or applied twice."""
    server = pgcluster.PgCluster(durable=True).start()
    try:
        db = pgcluster.fresh_database(server.url())
        ds = [instance(sim, tmp_path, db, i, free_port()) for i in range(2)]
        assert import_directory(ds[0], DIRECTORY, tmp_path).returncode == 0
        for d in ds:
            d.start_at(MONDAY_10)
        sim.wait_connected(2, timeout=20)

        def chaos(k):
            if k == 20:
                server.restart()
        sent = flood(sim, 60, chaos)
        check_applied_once(sim, ds[0], sent, timeout=90)
        for d in ds:
            assert d.proc.poll() is None, d.log()[-3000:]
            assert "reconnected to PostgreSQL" in d.log()
            assert d.admin("/healthz")[0] == 200
        for d in ds:
            assert d.stop() == 0
    finally:
        server.destroy()


def test_three_dingtalk_instances_with_one_killed_and_one_stopped(tmp_path):
    """The same on DingTalk Stream, which routes each message to one of the
    app's connections: replies go back through each message's session webhook."""
    from dingctl import DingSim
    dsim = DingSim.start()
    dsim.set_config(redeliver_after=2)
    db = pgcluster.fresh_database()
    ds = []
    try:
        for i in range(3):
            work = tmp_path / f"ding{i}"
            work.mkdir()
            ds.append(Daemon(dsim, work, platform="dingtalk", database=db))
        for d in ds:
            d.start()
        dsim.wait_connected(3, timeout=20)
        dsim.fail("/robot/sendBySession", delay_ms=150, count=100000)   # replies stay in flight
        sent = []
        for k in range(60):
            if k == 20:
                ds[1].kill()
            elif k == 30:
                assert ds[2].stop() == 0
            elif k == 40:
                ds[1].start()
            # A chat of its own each: DingTalk group webhooks take one message per 3 s.
            sent.append(dsim.inject_message(f"cid_c{k}", "staff_alice", "/帮助"))
            time.sleep(0.03)
        for r in sent:
            dsim.wait_acked(r["msg_id"], timeout=60)
        assert ds[0].sql("SELECT COUNT(*) FROM inbox") == [(len(sent),)]

        def replies(r):
            return [m for m in dsim.messages() if m.get("in_reply_to") == r["msg_id"]]
        try:
            dsim.wait_for(lambda: all(replies(r) for r in sent), timeout=40)
        except TimeoutError:
            missing = [(i, r["msg_id"]) for i, r in enumerate(sent) if not replies(r)]
            print(ds[0].sql("SELECT id, chat_id, state, attempts, last_error, claimed_by FROM outbox "
                            "WHERE state <> 'sent'"))
            raise AssertionError(f"never answered: {missing[:5]} of {len(missing)}")
        # A row the killed instance sent without recording it waits for its
        # lease to lapse (15 s), then another instance sends it again.
        dsim.wait_for(lambda: ds[0].sql("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'") == [(0,)],
                      timeout=40)
        counts = [len(replies(r)) for r in sent]
        # Webhook sends carry no idempotency key: a repeat would be posted.
        # Only the sends the killed instance had in flight (outbox.max_inflight,
        # 8) may repeat; without the claims there are dozens.
        assert sum(c - 1 for c in counts) <= 8, counts
        for d in (ds[0], ds[1]):
            assert d.admin("/healthz")[0] == 200
    finally:
        for d in ds:
            d.stop()
        dsim.stop()


def test_rate_limits_hold_for_the_app_across_instances(sim, tmp_path):
    """outbox.rate_per_app is the app's limit at the platform: three instances
    together send no faster than one would (each alone would send 5/s)."""
    db = pgcluster.fresh_database()
    ds = []
    try:
        for i in range(3):
            work = tmp_path / f"rate{i}"
            work.mkdir()
            ds.append(Daemon(sim, work, database=db, extra={"outbox": {"rate_per_app": 5}}))
        for d in ds:
            d.start()
        sim.wait_connected(3, timeout=20)
        sent = [sim.inject_message(f"oc_r{k}", "ou_init", "/帮助") for k in range(30)]
        for r in sent:
            sim.wait_acked(r["event_id"], timeout=20)
        sim.wait_for(lambda: all(replies_to(sim, r["message_id"]) for r in sent), timeout=30)
        times = sorted(r["time"] for r in sim.requests() if r["path"].endswith("/reply"))
        assert len(times) == 30
        # One extra in a window allows for the simulator stamping an arrival late.
        assert max_in_window(times) <= 6   # 16 when each instance kept its own bucket
        assert times[-1] - times[0] >= 5000   # 30 sends at 5/s: 29 gaps of 200 ms at least
    finally:
        for d in ds:
            d.stop()


def metrics_text(d):
    with urllib.request.urlopen(f"http://127.0.0.1:{d.admin_port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric_value(text, name, labels=""):
    """The sample name{labels} of a /metrics page (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0


def test_flood_guard_counts_per_user_across_instances(sim, tmp_path):
    """commands.per_user_burst holds for the cluster: a user whose commands
    reach three instances gets the allowance of one, and the slow-down reply
    once -- not three times each."""
    db = pgcluster.fresh_database()
    ds = []
    try:
        for i in range(3):
            work = tmp_path / f"guard{i}"
            work.mkdir()
            ds.append(Daemon(sim, work, database=db,
                             extra={"commands": {"per_user_per_minute": 1, "per_user_burst": 5}}))
        for d in ds:
            d.start()
        sim.wait_connected(3, timeout=20)
        sent = [sim.inject_message(f"oc_g{k % 3}", "ou_flood", "/帮助") for k in range(24)]
        for r in sent:
            sim.wait_acked(r["event_id"], timeout=20)
        # The simulator spread them over the instances (else this proves nothing).
        reached = [metric_value(metrics_text(d), "collabd_events_received_total", 'platform="feishu"') for d in ds]
        assert sum(1 for n in reached if n > 0) >= 2, reached
        assert sum(reached) == len(sent), reached
        time.sleep(1.5)
        sim.wait_for(lambda: ds[0].sql("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'") == [(0,)], timeout=20)
        answered = [r for r in sent if replies_to(sim, r["message_id"])]
        texts = [str(m["content"]) for r in sent for m in replies_to(sim, r["message_id"])]
        slow_down = [t for t in texts if "操作太频繁" in t]
        # Five commands answered (burst 5; one more may have refilled at 1/min),
        # one slow-down reply, the rest silent.  Per instance: ~15 and 3.
        assert len(answered) - len(slow_down) in (5, 6), (len(answered), reached)
        assert len(slow_down) == 1, slow_down
    finally:
        for d in ds:
            d.stop()


def test_metrics_name_the_instance(sim, tmp_path):
    """Each instance's /metrics says which instance it is (the id of its log
    lines), as collabd_instance_info{collabd_instance=...}: Prometheus keeps
    the label `instance` for the scraped target."""
    db = pgcluster.fresh_database()
    ds = []
    try:
        for i in range(2):
            work = tmp_path / f"metrics{i}"
            work.mkdir()
            ds.append(Daemon(sim, work, database=db))
        for d in ds:
            d.start()
        for d in ds:
            text = metrics_text(d)
            assert "# TYPE collabd_instance_info gauge" in text
            assert f'collabd_instance_info{{collabd_instance="{d.instance_id}",store="postgresql"}} 1' in text, \
                [line for line in text.splitlines() if "instance" in line]
            assert f"instance={d.instance_id}" in d.log()
            others = [x.instance_id for x in ds if x is not d]
            assert not any(o in text for o in others)
    finally:
        for d in ds:
            d.stop()
