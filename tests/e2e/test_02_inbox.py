"""Inbound events: acks after commit, dedupe of redeliveries, fragments, ack shape."""

import sqlite3
import time

import pgcluster

from helpers import acks_for, replies_to


def test_ack_echoes_the_frame_and_adds_biz_rt(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    ack = sim.wait_acked(r["event_id"])
    assert ack["problems"] == []
    assert ack["biz_rt"] is not None and int(ack["biz_rt"]) >= 0
    assert ack["code"] == 200


def test_redelivered_event_is_acked_and_applied_once(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert sim.redeliver(event_id=r["event_id"], force=True)
    sim.wait_for(lambda: len(acks_for(sim, r["event_id"])) >= 2, message="redelivery not acked")
    time.sleep(0.5)
    assert len(replies_to(sim, r["message_id"])) == 1
    assert daemon.stats()["inbox"]["duplicates"] == 1
    assert daemon.sql("SELECT COUNT(*) FROM inbox")[0][0] == 1


def test_same_message_under_a_new_event_id_is_applied_once(sim, daemon):
    """im.message.receive_v1 is deduped by message_id, not event_id."""
    sim.inject_message("oc_g", "ou_alice", "/帮助", message_id="om_same", event_id="ev_1")
    sim.inject_message("oc_g", "ou_alice", "/帮助", message_id="om_same", event_id="ev_2")
    sim.wait_acked("ev_2")
    sim.wait_acked("ev_1")
    time.sleep(0.5)
    assert len(replies_to(sim, "om_same")) == 1


def test_fragmented_event_is_merged_and_acked_once(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助 " + "状态", fragments=3)
    sim.wait_acked(r["event_id"])
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert msgs[0]["content"]["text"].startswith("/状态")
    assert len(acks_for(sim, r["event_id"])) == 1


def test_out_of_order_fragments_are_merged(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助", fragments=3, order=[2, 0, 1])
    sim.wait_acked(r["event_id"])
    assert sim.wait_for(lambda: replies_to(sim, r["message_id"]))


def test_no_ack_until_the_commit_succeeds(sim, daemon):
    """While another writer holds the database, the event is not acked; once the
    lock is gone the platform's redelivery is applied, once."""
    if daemon.pg:
        # PostgreSQL locks rows and tables, not the database: hold the inbox.
        lock = pgcluster.TableLock(daemon.db, "inbox")
        release = lock.release
    else:
        con = sqlite3.connect(daemon.db, timeout=5, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")

        def release():
            con.execute("ROLLBACK")
            con.close()
    try:
        r = sim.inject_message("oc_g", "ou_alice", "/帮助")
        sim.wait_for(lambda: daemon.stats()["inbox"]["failed"] >= 1, message="commit did not fail")
        assert acks_for(sim, r["event_id"]) == []
    finally:
        release()
    sim.wait_acked(r["event_id"], timeout=10)  # redelivered after redeliver_after
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    time.sleep(0.3)
    assert len(replies_to(sim, r["message_id"])) == 1


def test_garbage_frames_are_dropped_and_the_connection_survives(sim, daemon):
    sim.raw_frame(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")   # bad varint
    sim.raw_frame(b"\x08\x01\x10")                                   # truncated
    sim.raw_frame(b"")                                               # required fields missing
    sim.send_event(raw_payload=b"{not json")                         # data frame, payload not JSON
    sim.send_event(payload={"schema": "2.0", "header": {}})          # JSON, wrong shape
    sim.fragments([{"message_id": "fx", "sum": 0, "seq": 0, "payload": b"{}"},
                   {"message_id": "fy", "sum": 2, "seq": 5, "payload": b"{}"},
                   {"message_id": "fz", "sum": 99999, "seq": 0, "payload": b"{}"}])
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    assert sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    stats = daemon.stats()
    assert stats["feishu_ws"]["frames_bad"] >= 6
    assert stats["feishu_ws"]["connects"] == 1
    assert stats["inbox"]["rejected"] == 2


def test_incomplete_fragments_expire_without_harm(sim, daemon):
    sim.fragments([{"message_id": "never", "sum": 2, "seq": 0, "payload": b'{"schema":'}])
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    time.sleep(5.5)
    r2 = sim.inject_message("oc_g", "ou_alice", "/帮助")  # triggers the expiry sweep
    sim.wait_acked(r2["event_id"])
    assert "fragments never completed" in daemon.log()
