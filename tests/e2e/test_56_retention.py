"""Retention (issue 16, item 9): ordinary chatter adds no timeline row; sent
messages, dedupe keys and the log of received commands are pruned after
their periods (retention.*); a request's own story is kept whole; the dedupe
window cannot be set shorter than the platforms' 7-day redelivery."""

import json
import subprocess
import time

from daemonctl import COLLABD_BIN
from helpers import DIRECTORY, FORM, import_directory, replies_to

DAY = 24 * 3600 * 1000


def test_chatter_adds_no_timeline_rows(sim, make_daemon):
    d = make_daemon()
    chatter = [sim.inject_message("oc_chat", f"ou_{i % 5}", f"今天午饭吃什么 {i}") for i in range(40)]
    for r in chatter:
        sim.wait_acked(r["event_id"])
    cmd = sim.inject_message("oc_chat", "ou_1", "/帮助")
    sim.wait_for(lambda: replies_to(sim, cmd["message_id"]), timeout=10)
    assert d.sql("SELECT COUNT(*) FROM inbox") == [(41,)]        # every event still deduped
    assert d.sql("SELECT kind, COUNT(*) FROM timeline GROUP BY kind") == [("message", 1)]   # only the command


def test_old_rows_are_pruned_and_a_requests_story_kept(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True, extra={"retention": {"outbox_days": 30, "event_log_days": 60}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    long_ago = int(time.time() * 1000) - 100 * DAY
    d.admin("/debug/clock", {"set_ms": long_ago})
    for i in range(5):
        r = sim.inject_message("oc_req", "ou_init", "/帮助")
        sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    r = sim.inject_message("oc_req", "ou_init", FORM)
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    rid = d.sql("SELECT id FROM requests")[0][0]
    r = sim.inject_message("oc_req", "ou_head", f"/需求 批准 {rid}")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    sim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM outbox WHERE state != 'sent'") == [(0,)], timeout=10)
    story = d.sql("SELECT kind FROM timeline WHERE subject = ? ORDER BY id", rid)
    assert [k for (k,) in story] == ["request.submitted", "request.approved"]
    kept_subjects = d.sql("SELECT COUNT(*) FROM outbox WHERE subject IS NOT NULL")[0][0]
    assert d.sql("SELECT COUNT(*) FROM inbox")[0][0] == 7
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE subject IS NULL")[0][0] >= 7

    # A restart runs on the real clock: everything above is 100 days old.
    d.stop()
    d.start()
    sim.wait_for(lambda: "pruned old rows" in d.log(), timeout=10)
    assert d.sql("SELECT COUNT(*) FROM inbox WHERE received_at < ?", long_ago + DAY) == [(0,)]
    # (the overdue confirmation pings the restart sends now are new, and stay)
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE subject IS NULL AND created_at < ?", long_ago + DAY) == [(0,)]
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE subject IS NOT NULL") == [(kept_subjects,)]
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE kind IN ('message', 'card_action') AND at < ?",
                 long_ago + DAY) == [(0,)]
    assert d.sql("SELECT kind FROM timeline WHERE subject = ? ORDER BY id", rid) == story
    assert "inbox=7" in d.log() and "event_log=7" in d.log()


def test_the_dedupe_window_cannot_be_shorter_than_redelivery(sim, make_daemon):
    d = make_daemon(start=False, extra={"retention": {"inbox_days": 3}})
    p = subprocess.run([COLLABD_BIN, "--check-config", d.config_path], capture_output=True, text=True,
                       env=d.env(), timeout=20)
    assert p.returncode == 1 and "retention.inbox_days" in p.stderr
    cfg = json.load(open(d.config_path))
    cfg["retention"]["inbox_days"] = 7
    json.dump(cfg, open(d.config_path, "w"))
    p = subprocess.run([COLLABD_BIN, "--check-config", d.config_path], capture_output=True, text=True,
                       env=d.env(), timeout=20)
    assert p.returncode == 0 and "retention.inbox_days = 7" in p.stdout
