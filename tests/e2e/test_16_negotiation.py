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


def test_escalate_and_a_superior_decides(sim, d):
    oid = objected(sim, d)
    r = sim.inject_message("oc_neg", "ou_init", f"/异议 答复 {oid} 上报\n理由：双方无法达成一致")
    note = sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "text"
                                 and "上报上级主管裁决" in m["content"]["text"]])[0]["content"]["text"]
    assert '<at user_id="ou_boss">' in note and '<at user_id="ou_cfo">' in note
    del r
    assert "仅两个部门的上级主管" in say(sim, "ou_mkt", f"/异议 裁决 {oid} 推进")
    assert "由上级裁决" in say(sim, "ou_cfo", f"/异议 裁决 {oid} 推进")
    assert d.sql("SELECT state FROM objections") == [("overruled",)]
    assert "已推进，现在不能推进" in say(sim, "ou_boss", f"/异议 裁决 {oid} 推进")


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
