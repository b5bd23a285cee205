"""Network and storage faults: slow APIs, long endpoint outages, token expiry
under load, a full disk, and memory that stays bounded while sends fail."""

import json
import os
import re
import subprocess
import time

import pytest

from helpers import DIRECTORY, FORM, ID, acks_for, at, import_directory, replies_to


def test_slow_openapi_never_blocks_the_loop(sim, daemon):
    """Sends that take 5 s do not delay acks: the loop never waits on HTTP."""
    sim.fail("/open-apis/im/v1/messages", delay_ms=5000, count=20)
    first = sim.inject_message("oc_slow", "ou_alice", "/帮助")
    sim.wait_acked(first["event_id"])
    time.sleep(0.3)  # the reply's send is now hanging
    later = [sim.inject_message(f"oc_slow_{i}", "ou_bob", "/帮助") for i in range(5)]
    for r in later:
        ack = sim.wait_acked(r["event_id"], timeout=2)
        assert ack["latency_ms"] < 500
    for r in [first] + later:
        assert len(sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=20)) == 1


def test_endpoint_down_for_a_while_then_back(sim, daemon):
    sim.fail_endpoint(http_status=503, count=4)
    sim.drop()
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"], timeout=30)          # 1 s, 2 s, 4 s, 8 s ... then through
    assert len(sim.wait_for(lambda: replies_to(sim, r["message_id"]))) == 1
    assert daemon.stats()["feishu_ws"]["connects"] == 2


def test_token_expiry_under_load_delivers_each_reply_once(sim, daemon):
    events = [sim.inject_message(f"oc_load_{i % 10}", "ou_alice", "/帮助") for i in range(100)]
    time.sleep(0.2)
    sim.expire_tokens()
    sim.wait_for(lambda: len(sim.messages()) >= 100, timeout=30)
    time.sleep(0.3)
    for r in events:
        assert len(replies_to(sim, r["message_id"])) == 1
    sim.wait_for(lambda: daemon.sql("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")[0][0] == 100)


@pytest.mark.skipif(os.environ.get("COLLABD_SANITIZED") == "1",
                    reason="ASan keeps freed memory in quarantine: RSS says nothing there")
def test_memory_stays_bounded_while_sends_fail(sim, make_daemon):
    d = make_daemon(extra={"outbox": {"backoff_base_ms": 60000, "backoff_max_ms": 60000}})
    sim.fail("/open-apis/im/v1/messages", status=503, count=100000)
    for i in range(200):
        sim.inject_message(f"oc_mem_{i}", "ou_alice", "/帮助")
    sim.wait_for(lambda: d.stats()["inbox"]["applied"] >= 200, timeout=20)
    before = rss_kib(d.proc.pid)
    for i in range(3000):
        sim.inject_message(f"oc_mem_{i % 500}", "ou_alice", "/帮助")
    sim.wait_for(lambda: d.stats()["inbox"]["applied"] >= 3200, timeout=60, interval=0.2)
    after = rss_kib(d.proc.pid)
    assert d.stats()["outbox"]["pending"] >= 3000      # queued on disk ...
    assert after - before < 8 * 1024, (before, after)  # ... not in memory


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {p.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def test_full_disk_stops_acks_says_why_and_recovers(sim, make_daemon, small_disk):
    d = make_daemon(start=False)
    d.db = str(small_disk / "collabd.db")
    import json
    cfg = json.load(open(d.config_path))
    cfg["database"] = d.db
    json.dump(cfg, open(d.config_path, "w"))
    d.start()
    sim.wait_connected()
    ok = sim.inject_message("oc_disk", "ou_alice", "/帮助")
    sim.wait_acked(ok["event_id"])
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)  # until ENOSPC
    r = sim.inject_message("oc_disk", "ou_alice", "/帮助 状态")
    sim.wait_for(lambda: "disk is full" in d.log() or "database or disk is full" in d.log(), timeout=10)
    time.sleep(2.5)                                     # a redelivery comes and fails too
    assert acks_for(sim, r["event_id"]) == []
    os.unlink(filler)                                   # space returns
    sim.wait_acked(r["event_id"], timeout=15)
    assert len(sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)) == 1


def test_a_store_failure_is_never_answered_as_not_found(sim, daemon, tmp_path):
    """A read that fails inside an event (here: a table renamed away under the
    daemon, as a broken migration or a careless operator would) must not be
    answered as an empty list and acked: the event stays unacknowledged, and
    once the store works again the redelivery gets the full answer, once."""
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    daemon.sql("ALTER TABLE dept_contacts RENAME TO dept_contacts_away")
    r = sim.inject_message("oc_store", "ou_alice", "/部门")
    # The platform redelivers it (after 2 s) and that attempt fails too.
    sim.wait_for(lambda: daemon.log().count("event not applied") >= 2, timeout=10,
                 message="no redelivery was attempted while the store failed")
    assert acks_for(sim, r["event_id"]) == []
    assert replies_to(sim, r["message_id"]) == []
    # SQLite's words, or PostgreSQL's.
    assert re.search(r"no such table: dept_contacts|relation .dept_contacts. does not exist", daemon.log())
    daemon.sql("ALTER TABLE dept_contacts_away RENAME TO dept_contacts")
    sim.wait_acked(r["event_id"], timeout=15)
    replies = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    assert len(replies) == 1
    assert "接口人 发起人甲" in json.dumps(replies[0], ensure_ascii=False)  # read from dept_contacts


# ---- a store failure is not "not found" ----

def broken_table(d, table):
    """Every read of one table fails while it is renamed away (as in the test
    above); the rest of the database, the inbox included, keeps working.
    Returns the undo."""
    d.sql(f"ALTER TABLE {table} RENAME TO {table}_away")
    return lambda: d.sql(f"ALTER TABLE {table}_away RENAME TO {table}")


@pytest.fixture
def neg(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True)
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    return d


def said(sim, user, text):
    r = sim.inject_message("oc_fault", user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def unacked_until_restored(sim, d, restore, user, text):
    """The event is not acknowledged (nor answered) while the store fails, and
    is applied once, from a redelivery, after it recovers.  Returns the answer."""
    r = sim.inject_message("oc_fault", user, text)
    # The platform redelivers it (after 2 s) and that attempt fails too.
    sim.wait_for(lambda: d.log().count("event not applied") >= 2, timeout=10,
                 message="no redelivery was attempted while the store failed")
    assert acks_for(sim, r["event_id"]) == []
    assert replies_to(sim, r["message_id"]) == []
    restore()
    sim.wait_acked(r["event_id"], timeout=15)
    replies = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    assert len(replies) == 1
    return replies[0]["content"]["text"]


def test_approval_while_requests_cannot_be_read_is_redelivered_not_refused(sim, neg):
    assert ID in said(sim, "ou_init", FORM)
    restore = broken_table(neg, "requests")
    text = unacked_until_restored(sim, neg, restore, "ou_head", f"/需求 批准 {ID}")
    assert "已由" in text and "没有" not in text
    assert neg.sql("SELECT state FROM requests") == [("syncing",)]


def test_objection_answer_while_objections_cannot_be_read_is_redelivered(sim, neg):
    said(sim, "ou_init", FORM)
    said(sim, "ou_head", f"/需求 批准 {ID}")
    assert "已记录 财务部" in said(sim, "ou_fin", f"/异议 {ID}\n说明：预算审批需要两周\n建议：延后")
    oid = neg.sql("SELECT id FROM objections")[0][0]
    restore = broken_table(neg, "objections")
    text = unacked_until_restored(sim, neg, restore, "ou_init", f"/异议 答复 {oid} 推进\n理由：预算已特批")
    assert "需求继续推进" in text
    assert neg.sql("SELECT state FROM objections") == [("overruled",)]


def test_confirmation_while_requests_cannot_be_read_is_redelivered(sim, neg):
    said(sim, "ou_init", FORM)
    said(sim, "ou_head", f"/需求 批准 {ID}")
    restore = broken_table(neg, "requests")
    text = unacked_until_restored(sim, neg, restore, "ou_fin", f"/确认 {ID}")
    assert "财务部 已确认" in text
