"""Step 2's negotiation through the binary: the initiator answers an objection
by overruling it with a reason, escalating it to the superiors (who decide), or
accepting it and revising the request, after which the departments whose part
changed confirm the new version."""

import datetime

import pytest

from helpers import FORM, ID, SH, import_directory, replies_to

DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_boss", "name": "技术总"}, {"id": "ou_mkt", "name": "市场王"},
              {"id": "ou_fin", "name": "财务钱"}, {"id": "ou_finboss", "name": "财务总"},
              {"id": "ou_cfo", "name": "CFO"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"], "superior": "ou_boss"},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_cfo"},
    ],
}


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True)
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    daemon.admin("/debug/clock", {"set_ms": int(datetime.datetime(2026, 11, 30, 10, tzinfo=SH).timestamp() * 1000)})
    return daemon


def say(sim, user, text):
    r = sim.inject_message("oc_neg", user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def objected(sim, d):
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    text = say(sim, "ou_fin", f"/异议 {ID}\n说明：预算审批需要两周\n建议：延后到 1 月 15 日")
    assert "已记录 财务部" in text
    return d.sql("SELECT id FROM objections")[0][0]


def test_overrule_with_a_reason(sim, d):
    oid = objected(sim, d)
    assert "仅发起人 发起人甲 可以答复" in say(sim, "ou_mkt", f"/异议 答复 {oid} 推进\n理由：不行")
    assert "请写明理由" in say(sim, "ou_init", f"/异议 答复 {oid} 推进")
    assert "需求继续推进" in say(sim, "ou_init", f"/异议 答复 {oid} 推进\n理由：预算已由总经理特批")
    assert d.sql("SELECT state FROM request_depts WHERE dept = 'CWB'") == [("overruled",)]
    assert d.sql("SELECT state, answer FROM objections") == [("overruled", "预算已由总经理特批")]
    say(sim, "ou_mkt", f"/确认 {ID}")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])
    # Step 2's deadlines are all closed; only step 3's daily progress is open.
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open' AND key NOT LIKE '%:progress:%'")[0][0] == 0


def card(sim, title):
    return sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "interactive"
                                 and title in m["content"]["header"]["title"]["content"]], timeout=10)[0]


def text_of(card_json):
    return "".join(e.get("content", "") for e in card_json["body"]["elements"])


def inputs_of(card_json):
    form = [e for e in card_json["body"]["elements"] if e["tag"] == "form"]
    return form[0]["elements"] if form else []


def test_escalate_and_a_superior_decides_on_the_card(sim, d):
    oid = objected(sim, d)
    mine = card(sim, f"异议 {oid} · 待发起人答复")
    sim.inject_message("oc_neg", "ou_init", f"/异议 答复 {oid} 上报\n理由：双方无法达成一致")
    theirs = card(sim, f"异议 {oid} · 待上级裁决")
    assert "<at id=ou_boss></at>" in text_of(theirs["content"]) and "<at id=ou_cfo></at>" in text_of(theirs["content"])
    assert "双方无法达成一致" in text_of(theirs["content"])
    # Answered by command, the initiator's card shows it and asks no more.
    shown = sim.wait_for(lambda: [m["shown"] for m in sim.messages()
                                  if m["message_id"] == mine["message_id"] and m["patches"]], timeout=10)[0]
    assert "**处理结果**：已上报上级 · 发起人甲 · 2026-11-30 10:00" in text_of(shown) and not inputs_of(shown)

    assert "仅两个部门的上级主管" in say(sim, "ou_mkt", f"/异议 裁决 {oid} 推进")
    submit = inputs_of(theirs["content"])[-1]["behaviors"][0]["value"]
    click = sim.card_action("oc_neg", "ou_cfo", theirs["message_id"], submit,
                            form_value={"decision": "推进", "reason": "预算可特批"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["problems"] == []
    assert ack["data"]["toast"] == {"type": "success", "content": "裁决：推进 · CFO · 2026-11-30 10:00"}
    decided = ack["data"]["card"]["data"]
    assert "**处理结果**：裁决：推进 · CFO · 2026-11-30 10:00" in text_of(decided) and "预算可特批" in text_of(decided)
    assert not inputs_of(decided)
    assert d.sql("SELECT state FROM objections") == [("overruled",)]
    assert "已推进，现在不能推进" in say(sim, "ou_boss", f"/异议 裁决 {oid} 推进")


def test_the_initiator_answers_on_the_objection_card(sim, d):
    oid = objected(sim, d)
    mine = card(sim, f"异议 {oid} · 待发起人答复")
    assert "<at id=ou_init></at>" in text_of(mine["content"]) and "预算审批需要两周" in text_of(mine["content"])
    submit = inputs_of(mine["content"])[-1]["behaviors"][0]["value"]
    assert submit == {"action": "obj.answer", "id": str(oid), "superior": False}
    # Overruling needs a reason: refused, the card stays as it is.
    click = sim.card_action("oc_neg", "ou_init", mine["message_id"], submit, form_value={"decision": "推进"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["data"]["toast"]["type"] == "error" and "card" not in ack["data"]
    click = sim.card_action("oc_neg", "ou_init", mine["message_id"], submit,
                            form_value={"decision": "推进", "reason": "预算已由总经理特批"})
    ack = sim.wait_acked(click["event_id"])
    assert ack["data"]["toast"] == {"type": "success", "content": "已推进 · 发起人甲 · 2026-11-30 10:00"}
    decided = ack["data"]["card"]["data"]
    assert not inputs_of(decided) and "预算已由总经理特批" in text_of(decided)
    assert d.sql("SELECT state, answer FROM objections") == [("overruled", "预算已由总经理特批")]


def test_accept_revise_and_everyone_confirms_the_new_version(sim, d):
    oid = objected(sim, d)
    say(sim, "ou_mkt", f"/确认 {ID}")
    assert "已采纳" in say(sim, "ou_init", f"/异议 答复 {oid} 采纳")
    r = sim.inject_message("oc_neg", "ou_init", f"/需求 修改 {ID}\n期望完成时间：2027-01-15")
    note = sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "text"
                                 and "已修订为第 2 版" in m["content"]["text"]])[0]["content"]["text"]
    del r
    # Only the department whose part changed (it objected) is asked again.
    assert '<at user_id="ou_fin">' in note and "ou_mkt" not in note
    assert d.sql("SELECT dept, state FROM request_depts ORDER BY dept") == [("CWB", "pending"), ("SCB", "confirmed")]
    assert d.sql("SELECT state FROM objections") == [("revised",)]
    assert d.sql("SELECT version FROM requests") == [(2,)]
    say(sim, "ou_fin", f"/确认 {ID}")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])
    assert d.sql("SELECT dept, version FROM request_depts ORDER BY dept") == [("CWB", 2), ("SCB", 1)]
    assert len(d.sql("SELECT id FROM timeline WHERE kind = 'request.confirmed'")) == 2
    # Step 2's deadlines are all closed; only step 3's daily progress is open.
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open' AND key NOT LIKE '%:progress:%'")[0][0] == 0


def test_subcommands_are_rows_with_their_own_usage(sim, d):
    """The dispatcher finds a subcommand's row, checks its words and fields, and
    answers with that row's usage (not the whole command's); aliases work in
    any case."""
    oid = objected(sim, d)
    text = say(sim, "ou_init", f"/异议 答复 {oid}")
    assert "用法：/异议 答复 异议编号" in text and "裁决" not in text
    assert "用法：/需求 批准 编号" in say(sim, "ou_head", "/需求 批准")
    assert "用法：/需求 修改 编号" in say(sim, "ou_init", f"/需求 修改 {ID}")
    assert d.sql("SELECT state FROM objections") == [("open",)]
    assert "需求继续推进" in say(sim, "ou_init", f"/object ANSWER {oid} 推进\n理由：预算已特批")
    assert d.sql("SELECT state FROM objections") == [("overruled",)]
