"""Outbound: 429 storms, expired tokens, server errors, permanent errors, ordering."""

import time

import pytest

from helpers import max_in_window, replies_to

# Under `make valgrind` too (the whole file).
pytestmark = pytest.mark.valgrind


def test_429_storm_still_delivers_exactly_once(sim, daemon):
    sim.fail("/open-apis/im/v1/messages", status=429, count=4, reset=1)
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=15)
    assert len(msgs) == 1
    throttled = [q for q in sim.requests() if q["status"] == 429]
    assert len(throttled) == 4
    # Retries waited for x-ogw-ratelimit-reset (1 s) rather than hammering.
    assert throttled[-1]["time"] - throttled[0]["time"] >= 2500   # ms
    # The simulator records the message before the daemon has read the answer.
    sim.wait_for(lambda: daemon.sql("SELECT state, attempts FROM outbox") == [("sent", 5)])


def test_expired_token_is_refreshed_and_the_send_retried(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    fetches = sim.state()["token_fetches"]
    sim.expire_tokens()
    r2 = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r2["message_id"]), timeout=10)
    assert sim.state()["token_fetches"] == fetches + 1
    codes = [q.get("code") for q in sim.requests() if q["path"].startswith("/open-apis/im/")]
    assert 99991663 in codes
    sim.wait_for(lambda: daemon.sql("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")[0][0] == 2)


def test_server_errors_are_retried_with_backoff(sim, daemon):
    sim.fail("/open-apis/im/v1/messages", status=503, count=2)
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    assert len(sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=15)) == 1


def test_permanent_error_is_recorded_and_does_not_block_the_chat(sim, daemon):
    sim.fail("/open-apis/im/v1/messages", status=400, code=230002, count=1, msg="Bot is not in the chat")
    r1 = sim.inject_message("oc_g", "ou_alice", "/帮助")
    r2 = sim.inject_message("oc_g", "ou_alice", "/状态")
    sim.wait_for(lambda: replies_to(sim, r2["message_id"]), timeout=10)
    assert replies_to(sim, r1["message_id"]) == []
    rows = sim.wait_for(lambda: (r := daemon.sql("SELECT state, last_error FROM outbox ORDER BY id"))[1][0] == "sent"
                        and r)
    assert rows[0][0] == "failed" and "230002" in rows[0][1]


def test_messages_to_one_chat_keep_their_order_across_retries(sim, daemon):
    sim.fail("/open-apis/im/v1/messages", status=503, count=1)
    ids = [sim.inject_message("oc_order", "ou_alice", "/帮助")["message_id"] for _ in range(5)]
    sim.wait_for(lambda: len(sim.messages()) == 5, timeout=15)
    assert [m["reply_to"] for m in sim.messages()] == ids


def test_idempotency_key_is_sent_with_every_message(sim, daemon):
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    key = daemon.sql("SELECT idem_key FROM outbox")[0][0]
    assert msgs[0]["uuid"] == key and 0 < len(key) <= 50
    time.sleep(0.1)


def test_one_chat_gets_at_most_five_messages_a_second(sim, make_daemon):
    make_daemon(production_pace=True)           # the default pace, which this test is about
    ids = [sim.inject_message("oc_busy", "ou_alice", "/帮助")["message_id"] for _ in range(12)]
    sim.wait_for(lambda: len(sim.messages()) == 12, timeout=15)
    times = [r["time"] for r in sim.requests() if r["path"].endswith("/reply")]
    # Paced 200 ms apart: 11 gaps take >= 2.2 s; one extra in a window allows
    # for the simulator stamping an arrival a few ms late.
    assert len(times) == 12 and max_in_window(times) <= 6
    assert times[-1] - times[0] >= 2100   # ms
    assert [m["reply_to"] for m in sim.messages()] == ids
