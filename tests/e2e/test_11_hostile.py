"""Hostile input: huge, broken, nested, injecting and flooding messages get a
clear refusal or are dropped with a log line; the connection and data survive."""

import time

from helpers import replies_to


def test_one_megabyte_message_is_handled_and_not_echoed(sim, daemon):
    r = sim.inject_message("oc_h", "ou_alice", "/" + "好" * 350_000)   # ~1 MB of UTF-8
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    text = msgs[0]["content"]["text"]
    assert text.startswith("未知命令：/") and len(text) < 200


def test_invalid_utf8_and_nested_json_are_dropped_with_a_log_line(sim, daemon):
    sim.send_event(raw_payload=b'{"schema":"2.0","header":{"event_id":"\xff\xfe"}}')
    sim.send_event(raw_payload=b"[" * 100_000 + b"]" * 100_000)
    r = sim.inject_message("oc_h", "ou_alice", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert daemon.stats()["inbox"]["rejected"] == 2
    assert daemon.log().count("unusable event dropped") == 2
    assert daemon.stats()["feishu_ws"]["connects"] == 1


def test_control_characters_and_sql_are_just_text(sim, daemon):
    evil = "/帮助 x'); DROP TABLE inbox; --\x01\x07"
    r = sim.inject_message("oc_h", "ou_alice", evil)
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert "\x07" not in msgs[0]["content"]["text"]
    assert daemon.sql("SELECT COUNT(*) FROM inbox")[0][0] == 1
    r2 = sim.inject_message("oc_h", "ou_alice", "/帮助")
    assert sim.wait_for(lambda: replies_to(sim, r2["message_id"]))


def test_mention_everyone_markup_cannot_mention_anyone(sim, daemon):
    r = sim.inject_message("oc_h", "ou_alice", "/<at_id=all></at>**粗体**[链接](http://x)")
    text = sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]["content"]["text"]
    assert "<at" not in text and "**" not in text


def test_a_flooding_user_is_told_once_and_others_are_served(sim, make_daemon):
    daemon = make_daemon(extra={"commands": {"per_user_per_minute": 20, "per_user_burst": 10}})
    flood = [sim.inject_message("oc_flood", "ou_flood", "/帮助") for _ in range(30)]
    for r in flood:
        sim.wait_acked(r["event_id"])
    other = sim.inject_message("oc_flood", "ou_calm", "/帮助")
    sim.wait_for(lambda: replies_to(sim, other["message_id"]))
    time.sleep(0.5)
    replies = [m for r in flood for m in replies_to(sim, r["message_id"])]
    texts = [m["content"]["text"] for m in replies]
    warnings = [t for t in texts if "操作太频繁" in t]
    assert len(warnings) == 1
    assert len(texts) == 11                             # a burst of 10, then one polite warning
    assert daemon.sql("SELECT COUNT(*) FROM inbox")[0][0] == 31   # every event recorded, once


def test_card_clicks_share_the_flood_guard(sim, make_daemon):
    """40 clicks on a button that posts a message: the same burst as commands,
    then toasts only -- never 40 messages (issue 16, item 4)."""
    daemon = make_daemon(extra={"commands": {"per_user_per_minute": 1, "per_user_burst": 10}})
    r = sim.inject_message("oc_flood", "ou_other", "/状态")
    card = sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]
    value = [e for e in card["content"]["body"]["elements"] if e["tag"] == "button"][0]["behaviors"][0]["value"]
    clicks = [sim.card_action("oc_flood", "ou_clicker", card["message_id"], value) for _ in range(40)]
    acks = [sim.wait_acked(c["event_id"]) for c in clicks]
    toasts = [a["data"]["toast"] for a in acks]
    slowed = [t for t in toasts if "操作太频繁" in t["content"]]
    assert len(slowed) >= 29 and all(t["type"] == "error" for t in slowed)
    # A command from the same user right after is held back too: one bucket per person.
    after = sim.inject_message("oc_flood", "ou_clicker", "/帮助")
    sim.wait_acked(after["event_id"])
    said = sim.wait_for(lambda: replies_to(sim, after["message_id"]), timeout=10)
    assert [m["content"]["text"] for m in said] == ["操作太频繁了，请稍等一分钟再发送命令。"]
    assert daemon.sql("SELECT COUNT(*) FROM inbox")[0][0] == 42
