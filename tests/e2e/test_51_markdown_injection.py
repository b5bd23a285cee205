"""Markdown injection (issue 16, item 3): a link, an image or other markup
typed into a form field reaches the cards the bot signs as inert characters,
on Feishu (card markdown) and DingTalk (markdown messages).  The only links
in a card are the bot's own (the board link)."""

import re

from helpers import DIRECTORY, at, import_directory, replies_to

CHAT = "oc_inj"
REQ = "2026-Q4-JSB-001"


def cards(sim, title):
    return [m for m in sim.messages() if m["chat_id"] == CHAT and m["msg_type"] == "interactive"
            and title in m["content"]["header"]["title"]["content"]]


def md(card):
    return "\n".join(e.get("content", "") for e in card["content"]["body"]["elements"] if e["tag"] == "markdown")


def set_clock(d, ms):
    assert d.admin("/debug/clock", {"set_ms": ms})[0] == 200


PHISH = "[点此处理](https://phish.example/login)"
EVIL = f"{PHISH} ![x](javascript:alert(1)) <at id=all></at> &lt;at id=all&gt; `code` ~~删~~\n# 标题"
LINK = re.compile(r"\]\(")


def assert_inert(text):
    assert "[点此处理]" not in text and "![x]" not in text and "](javascript" not in text, text
    assert "<at id=all" not in text and "&lt;" not in text and "`code`" not in text and "~~删~~" not in text, text
    assert "\n# 标题" not in text, text


def test_feishu_cards_show_user_links_as_text(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True, extra={"board": {"public_url": "https://board.example"}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    set_clock(d, at(2026, 12, 7, 10, 0))
    r = sim.inject_message(CHAT, "ou_init", "/需求\n需求名称：年终结算系统\n联系方式：1380000\n"
                                            f"需求背景：{PHISH}\n具体任务：![x](javascript:alert(1)) ~~删~~\n"
                                            "涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    approval = sim.wait_for(lambda: cards(sim, title="待审批"), timeout=10)[0]
    body = md(approval)
    assert "[点此处理］(https://phish.example/login)" in body      # readable, not a link
    assert_inert(body)
    assert not LINK.search(body), body

    # Through to step 4: the issue alert carries the reporter's text, inert too;
    # its one link is the board's.
    in_progress_after_submit(sim, d)
    r = sim.inject_message(CHAT, "ou_init", "/问题\n关联需求：" + REQ + "\n问题类型：技术\n严重程度：紧急\n"
                           f"影响范围：{PHISH}\n问题描述：{EVIL.splitlines()[0]}\n发生时间：2026-12-07 09:55\n接收部门：财务部")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    alert = sim.wait_for(lambda: cards(sim, title="问题预警"), timeout=10)[0]
    body = md(alert)
    assert_inert(body)
    assert LINK.findall(body) == ["]("] and "](https://board.example/board/req/" in body, body


def in_progress_after_submit(sim, d):
    def say(user, text):
        r = sim.inject_message(CHAT, user, text)
        sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    say("ou_head", f"/需求 批准 {REQ}")
    say("ou_mkt", f"/确认 {REQ}")
    say("ou_fin", f"/确认 {REQ}")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])


def test_dingtalk_markdown_shows_user_links_as_text(dsim, ding, tmp_path):
    d = ding(extra={"dingtalk": {"rate_per_chat_per_minute": 600}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    dsim.inject_message("cid_inj", "ou_init", "/需求\n需求名称：结算\n联系方式：1\n"
                                              f"需求背景：{PHISH}\n具体任务：![x](javascript:alert(1))\n"
                                              "涉及部门：财务部\n期望完成时间：2099-12-31")
    approval = dsim.wait_for(lambda: [m for m in dsim.messages() if "点此处理" in m.get("text", "")
                                      and m["msgtype"] == "markdown"], timeout=10)[0]
    assert_inert(approval["text"])
    assert not LINK.search(approval["text"]), approval["text"]
