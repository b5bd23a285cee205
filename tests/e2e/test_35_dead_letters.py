"""Poison events: an event that keeps failing inside its transaction is, after
three attempts (counted durably, across restarts), acked and kept as a dead
letter; its sender hears "已记录，管理员会处理"; /metrics and /healthz show it;
`collabd dead-letters` lists it and `--retry ID` replays it.

The poison is made with testing.fail_events_containing: a message whose text
holds the marker fails after it has written to the inbox and the timeline, so
the savepoint rollback is what keeps those writes out.  The poison messages
are commands: ordinary chatter writes no timeline row at all (retention).
"""

import json
import subprocess
import time

from daemonctl import COLLABD_BIN
from helpers import acks_for, replies_to
from prom import scrape

MARKER = "POISON-7f3a"
DEAD_REPLY = "已记录，管理员会处理"


def poisoned(make_daemon, **kw):
    return make_daemon(extra={"testing": {"fail_events_containing": MARKER}}, **kw)


def tool(d, *args):
    return subprocess.run([COLLABD_BIN, "--config", d.config_path, "dead-letters", *args],
                          capture_output=True, text=True, timeout=30, env=d.env())


def attempts(d, message_id):
    rows = d.sql("SELECT attempts FROM inbox_attempts WHERE dedupe_key = ?", "msg:" + message_id)
    return rows[0][0] if rows else 0


def test_poison_event_becomes_a_dead_letter_and_the_rest_of_its_batch_commits(sim, make_daemon):
    sim.set_config(redeliver_after=1, max_redeliveries=20)
    d = poisoned(make_daemon)
    # Back to back: the good ones usually share the poison's batch (group commit).
    before = sim.inject_message("oc_p", "ou_alice", "/帮助")
    bad = sim.inject_message("oc_p", "ou_bob", f"/帮助 请处理 {MARKER}")
    after = sim.inject_message("oc_p", "ou_alice", "/帮助 状态")
    sim.wait_acked(before["event_id"])
    sim.wait_acked(after["event_id"])
    assert sim.wait_for(lambda: replies_to(sim, before["message_id"]))
    assert sim.wait_for(lambda: replies_to(sim, after["message_id"]))

    # Redelivered until the third failure, then acked.
    sim.wait_acked(bad["event_id"], timeout=15)
    deliveries = [a for a in sim.acks() if a["event_id"] == bad["event_id"]]
    assert len(acks_for(sim, bad["event_id"])) == 1
    assert d.stats()["inbox"]["failed"] == 2 and d.stats()["inbox"]["dead_letters"] == 1, deliveries
    replies = sim.wait_for(lambda: replies_to(sim, bad["message_id"]))
    assert [m["content"]["text"] for m in replies] == [DEAD_REPLY]

    row = d.sql("SELECT platform, dedupe_key, state, attempts, error, chat_id, user_id, "
                "length(payload) > 0 FROM dead_letters")
    assert row == [("feishu", "msg:" + bad["message_id"], "dead", 3,
                    "testing fault: the text contains testing.fail_events_containing", "oc_p", "ou_bob", 1)]
    # Its own writes were rolled back; the inbox remembers it so a redelivery is a duplicate.
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE detail LIKE ?", f"%{bad['message_id']}%") == [(0,)]
    assert d.sql("SELECT COUNT(*) FROM inbox WHERE dedupe_key = ?", "msg:" + bad["message_id"]) == [(1,)]
    assert attempts(d, bad["message_id"]) == 0
    sim.redeliver(event_id=bad["event_id"], force=True)
    sim.wait_for(lambda: d.stats()["inbox"]["duplicates"] >= 1)
    assert len(replies_to(sim, bad["message_id"])) == 1

    # Visible, not failing.
    status, health = d.admin("/healthz")
    assert status == 200 and health["dead_letters"] == 1 and "dead-letters" in health["dead_letters_hint"]
    m = scrape(d)
    assert m.get("collabd_dead_letters", state="dead") == 1
    assert m.get("collabd_dead_letters_total") == 1


def test_poison_among_chatter_fails_alone(sim, make_daemon):
    """Plain chatter runs under one savepoint per run (inbox.c): a poison in the
    middle of such a run rolls the run back and its events are applied again
    one by one, so the others commit once and only the poison counts attempts."""
    sim.set_config(redeliver_after=1, max_redeliveries=20)
    # Queued while no client is connected, they arrive back to back: the
    # simulator writes them one by one, so a turn may read only a few -- 30
    # of them make sure batches of several form around the poison.
    texts = [f"今天的进展 {i}" for i in range(30)]
    texts.insert(15, f"闲聊 {MARKER}")
    sent = [sim.inject_message("oc_c", "ou_alice", t) for t in texts]
    d = poisoned(make_daemon)
    bad = sent[15]
    good = sent[:15] + sent[16:]
    for m in good:
        sim.wait_acked(m["event_id"])
    sim.wait_acked(bad["event_id"], timeout=15)
    assert all(len(acks_for(sim, m["event_id"])) == 1 for m in sent)
    inbox = d.stats()["inbox"]
    assert inbox["failed"] == 2 and inbox["dead_letters"] == 1 and inbox["applied"] >= len(good), inbox
    assert inbox["batch_events_max"] >= 4, inbox  # the poison shared a batch with chatter
    keys = ["msg:" + m["message_id"] for m in sent]
    rows = d.sql("SELECT dedupe_key FROM inbox WHERE dedupe_key IN (%s)" % ",".join("?" * len(keys)), *keys)
    assert sorted(r[0] for r in rows) == sorted(keys)
    assert d.sql("SELECT dedupe_key, attempts FROM dead_letters") == [("msg:" + bad["message_id"], 3)]
    assert d.sql("SELECT COUNT(*) FROM inbox_attempts") == [(0,)]
    assert [m["content"]["text"] for m in sim.wait_for(lambda: replies_to(sim, bad["message_id"]))] == [DEAD_REPLY]
    assert all(not replies_to(sim, m["message_id"]) for m in good)


def test_attempts_are_counted_across_restarts(sim, make_daemon):
    """A poison event that crashes nothing but keeps failing must not start from
    zero after each restart: the count is in the database, with the batch."""
    sim.set_config(redeliver_after=3600)  # redelivered only when the test says so
    d = poisoned(make_daemon)
    bad = sim.inject_message("oc_p", "ou_bob", f"{MARKER} 一")
    sim.wait_for(lambda: attempts(d, bad["message_id"]) == 1, message="first attempt not counted")
    for n in (2,):
        d.kill()
        d.start()
        sim.wait_connected()
        sim.redeliver(event_id=bad["event_id"])
        sim.wait_for(lambda: attempts(d, bad["message_id"]) == n, message=f"attempt {n} not counted")
    assert not acks_for(sim, bad["event_id"])
    d.kill()
    d.start()
    sim.wait_connected()
    sim.redeliver(event_id=bad["event_id"])
    sim.wait_acked(bad["event_id"], timeout=10)
    assert d.sql("SELECT attempts, state FROM dead_letters") == [(3, "dead")]


def test_dead_letters_tool_lists_and_replays(sim, make_daemon):
    sim.set_config(redeliver_after=1, max_redeliveries=20)
    d = poisoned(make_daemon)
    bad = sim.inject_message("oc_p", "ou_bob", f"/帮助 {MARKER}")
    sim.wait_acked(bad["event_id"], timeout=15)
    (dead_id,) = d.sql("SELECT id FROM dead_letters")[0]

    listing = tool(d)
    assert listing.returncode == 0, listing.stderr
    assert f"{dead_id}\tdead\tfeishu\tmsg:{bad['message_id']}" in listing.stdout
    assert "attempts=3" in listing.stdout and "testing fault" in listing.stdout

    # While the cause is still there, the replay fails and the letter stays.
    again = tool(d, "--retry", str(dead_id))
    assert again.returncode == 1 and f"dead letter {dead_id}: dead: testing fault" in again.stdout, again
    assert d.sql("SELECT state, attempts FROM dead_letters") == [("dead", 4)]

    # The cause fixed (here: the fault hook off), the replay applies the event once.
    d.stop()
    with open(d.config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    del cfg["testing"]["fail_events_containing"]
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    d.start()
    sim.wait_connected()
    done = tool(d, "--retry", str(dead_id))
    assert done.returncode == 0 and f"dead letter {dead_id}: replayed" in done.stdout, done
    assert d.sql("SELECT state, replayed_at IS NOT NULL FROM dead_letters") == [("replayed", 1)]
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE detail LIKE ?", f"%{bad['message_id']}%") == [(1,)]
    # The replayed /帮助 answers the user, after the dead-letter notice.
    texts = sim.wait_for(lambda: [m["content"]["text"] for m in replies_to(sim, bad["message_id"])
                                  if m["content"]["text"] != DEAD_REPLY])
    assert len(texts) == 1 and MARKER in texts[0]  # /帮助 answering about its argument
    assert scrape(d).get("collabd_dead_letters", state="dead") == 0
    assert d.admin("/healthz")[1]["dead_letters"] == 0

    # Nothing left to retry; a bad id is refused.
    assert tool(d, "--retry", str(dead_id)).returncode == 1
    assert tool(d, "--retry", "x").returncode == 2


def test_retry_asked_while_the_daemon_is_down_happens_at_start(sim, make_daemon):
    sim.set_config(redeliver_after=1, max_redeliveries=20)
    d = poisoned(make_daemon)
    bad = sim.inject_message("oc_p", "ou_bob", f"/帮助 {MARKER} 二")
    sim.wait_acked(bad["event_id"], timeout=15)
    d.stop()
    with open(d.config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    del cfg["testing"]["fail_events_containing"]
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    marked = tool(d, "--retry", "1")
    assert marked.returncode == 0 and "marked for replay" in marked.stdout, marked
    assert d.sql("SELECT state FROM dead_letters") == [("retry",)]
    d.start()
    sim.wait_for(lambda: d.sql("SELECT state FROM dead_letters") == [("replayed",)])
    time.sleep(0.2)
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE detail LIKE ?", f"%{bad['message_id']}%") == [(1,)]


def test_dingtalk_poison_event_is_kept_and_replayed(tmp_path):
    """The same on DingTalk: the topic and frame id are kept, so the replay parses
    the callback as the adapter did."""
    from daemonctl import Daemon
    from dingctl import DingSim

    dsim = DingSim.start()
    try:
        dsim.set_config(redeliver_after=1, max_redeliveries=20)
        d = Daemon(dsim, tmp_path, platform="dingtalk",
                   extra={"testing": {"fail_events_containing": MARKER}})
        d.start()
        dsim.wait_connected()
        good = dsim.inject_message("cid_p", "staff_alice", "/帮助")
        bad = dsim.inject_message("cid_p", "staff_bob", f"/帮助 {MARKER} 三")
        dsim.wait_acked(good["msg_id"])
        dsim.wait_acked(bad["msg_id"], timeout=15)
        texts = [m["text"] for m in dsim.wait_messages(2, conversation_id="cid_p")]
        assert DEAD_REPLY in texts
        assert d.sql("SELECT platform, topic, frame_id IS NOT NULL, attempts, state FROM dead_letters") == [
            ("dingtalk", "/v1.0/im/bot/messages/get", 1, 3, "dead")]
        d.stop()
        with open(d.config_path, encoding="utf-8") as f:
            cfg = json.load(f)
        del cfg["testing"]["fail_events_containing"]
        with open(d.config_path, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        d.start()
        dsim.wait_connected()
        done = tool(d, "--retry", "1")
        assert done.returncode == 0 and "dead letter 1: replayed" in done.stdout, done
        assert d.sql("SELECT COUNT(*) FROM timeline WHERE actor = 'staff_bob'") == [(1,)]
        assert d.stop() == 0
    finally:
        bad_acks = [a for a in dsim.acks() if a.get("problems")]
        dsim.stop()
        assert not bad_acks, bad_acks[:3]
