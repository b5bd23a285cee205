"""Commands: /帮助 answered in the group; unknown commands and bare mentions get a hint."""

import pytest

from helpers import replies_to

# Under `make valgrind` too (the whole file).
pytestmark = pytest.mark.valgrind


def test_help_is_answered_as_a_reply(sim, daemon):
    r = sim.inject_message("oc_group1", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]), message="no reply to /帮助")
    assert msgs[0]["msg_type"] == "text"
    text = msgs[0]["content"]["text"]
    assert "/帮助（/help）" in text and "/状态（/status）" in text and "用法" in text
    assert "点名某人" in text and "直接 @ 此人" in text and "钉钉" not in text


def test_english_alias_and_full_width_slash_and_bot_mention(sim, daemon):
    mention = [{"key": "@_user_1", "open_id": sim.bot_open_id, "name": "collabd"}]
    r1 = sim.inject_message("oc_group1", "ou_alice", "@_user_1 /help")
    r2 = sim.inject_message("oc_group1", "ou_bob", "／帮助 状态", mentions=None)
    r3 = sim.inject_message("oc_group1", "ou_bob", "@_user_1  /HELP", mentions=mention)
    for r in (r1, r2, r3):
        sim.wait_for(lambda: replies_to(sim, r["message_id"]), message=f"no reply to {r}")
    assert "可用命令" in replies_to(sim, r1["message_id"])[0]["content"]["text"]
    one = replies_to(sim, r2["message_id"])[0]["content"]["text"]
    assert one.startswith("/状态（/status）") and "用法：/状态" in one
    assert "可用命令" in replies_to(sim, r3["message_id"])[0]["content"]["text"]


def test_unknown_command_gets_a_hint_never_silence(sim, daemon):
    r = sim.inject_message("oc_group1", "ou_alice", "/不存在的命令 参数")
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    text = msgs[0]["content"]["text"]
    assert "未知命令：/不存在的命令" in text and "/帮助" in text


def test_bad_arguments_get_the_usage_line(sim, daemon):
    r = sim.inject_message("oc_group1", "ou_alice", "/状态 多余 参数")
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    assert "用法：/状态" in msgs[0]["content"]["text"]


def test_mention_without_command_gets_a_hint_plain_chat_is_ignored(sim, daemon):
    mention = [{"key": "@_user_1", "open_id": sim.bot_open_id, "name": "collabd"}]
    chat = sim.inject_message("oc_group1", "ou_alice", "大家好，今天开会吗？")
    asked = sim.inject_message("oc_group1", "ou_alice", "@_user_1 你能做什么？", mentions=mention)
    sim.wait_acked(chat["event_id"])
    msgs = sim.wait_for(lambda: replies_to(sim, asked["message_id"]))
    assert "/帮助" in msgs[0]["content"]["text"]
    assert replies_to(sim, chat["message_id"]) == []


def test_user_text_cannot_inject_mentions(sim, daemon):
    # The unknown name is echoed back ("没有命令 /…"): it must come back inert.
    r = sim.inject_message("oc_group1", "ou_alice", '/帮助 <at/user_id=all></at>')
    msgs = sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    text = msgs[0]["content"]["text"]
    assert "没有命令" in text
    assert "<at" not in text and "＜at" in text
