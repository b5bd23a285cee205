"""Step 1 through the binary: the request form, every problem at once, ids,
approval by the right person (or their deputy), rejection with a reason,
resubmission, withdrawal, the approval card's buttons and the reminder."""

import pytest

from helpers import at, import_directory, replies_to

DIRECTORY = {
    "users": [{"id": "ou_zhang", "name": "张三"}, {"id": "ou_li", "name": "李四"},
              {"id": "ou_wang", "name": "王五"}, {"id": "ou_zhao", "name": "赵总"},
              {"id": "ou_sun", "name": "孙六"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_zhang", "contacts": ["ou_li"], "superior": "ou_zhao"},
        {"code": "SCB", "name": "市场部", "head": "ou_wang", "contacts": ["ou_wang"]},
    ],
    "deputies": [{"user": "ou_zhang", "deputy": "ou_sun", "from": "2026-12-02", "to": "2026-12-04"}],
}
FORM = ("/需求\n需求名称：新品发布会\n联系方式：13800000000\n需求背景：Q4 新品上市，需要一次发布会\n"
        "具体任务：场地、物料、直播\n涉及部门：市场部、JSB\n期望完成时间：2026-12-31\n资源需求：预算 5 万")


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True)
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    daemon.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})   # Monday 10:00
    return daemon


def say(sim, user, text, **kw):
    r = sim.inject_message("oc_req", user, text, **kw)
    return r, sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)


def approval_cards(sim):
    return [m for m in sim.messages() if m["msg_type"] == "interactive"
            and "待审批" in m["content"]["header"]["title"]["content"]]


def test_form_card_submit_and_every_problem_at_once(sim, d):
    r = sim.inject_message("oc_req", "ou_li", "/需求")
    card = sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]
    assert card["msg_type"] == "interactive"
    form = [e for e in card["content"]["body"]["elements"] if e["tag"] == "form"][0]
    by_name = {e["name"]: e for e in form["elements"]}
    assert by_name["departments"]["tag"] == "multi_select_static"
    assert {o["value"] for o in by_name["departments"]["options"]} == {"JSB", "SCB"}
    assert by_name["due"]["tag"] == "date_picker" and by_name["background"]["max_length"] == 200
    # The text form's field names are on the card too, for those who type.
    typed = "\n".join(e.get("content", "") for e in card["content"]["body"]["elements"] if e["tag"] == "markdown")
    lines = typed.split("/需求\n", 1)[1].split("\n")
    for key in ("需求名称", "联系方式", "需求背景", "具体任务", "涉及部门", "期望完成时间", "资源需求"):
        assert key + "：" in lines, key
    submit = by_name["submit"]["behaviors"][0]["value"]

    bad = sim.card_action("oc_req", "ou_li", card["message_id"], submit,
                          form_value={"name": "x", "background": "汉" * 201, "departments": ["JSB", "CWB"],
                                      "due": "2026-11-01 +0800"})
    assert sim.wait_acked(bad["event_id"])["data"]["toast"]["type"] == "error"
    text = sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "text"
                                 and "处需要修改" in m["content"]["text"]])[0]["content"]["text"]
    assert "5 处需要修改（未保存任何内容）" in text
    for needle in ("缺少「联系方式」", "缺少「具体任务」", "最多 200 个字，现在 201 个字", "CWB", "已经过去"):
        assert needle in text, (needle, text)
    assert d.sql("SELECT COUNT(*) FROM requests")[0][0] == 0

    good = sim.card_action("oc_req", "ou_li", card["message_id"], submit,
                           form_value={"name": "新品发布会", "contact": "1380000", "background": "新品上市",
                                       "tasks": "场地、直播", "departments": ["SCB", "JSB"],
                                       "due": "2026-12-31 +0800"})
    assert sim.wait_acked(good["event_id"])["data"]["toast"]["type"] == "success"
    assert d.sql("SELECT id, dept, state FROM requests") == [("2026-Q4-JSB-001", "JSB", "pending_approval")]


def test_problems_by_command_are_listed_at_once(sim, d):
    bad = ("/需求\n需求名称：x\n需求背景：" + "汉" * 201 + "\n涉及部门：JSB、财务部\n期望完成时间：2026-11-01")
    _, msgs = say(sim, "ou_li", bad)
    text = msgs[0]["content"]["text"]
    assert "5 处需要修改（未保存任何内容）" in text and "财务部" in text
    assert d.sql("SELECT COUNT(*) FROM requests")[0][0] == 0


def test_submit_reject_resubmit_approve(sim, d):
    _, msgs = say(sim, "ou_li", FORM)
    assert "已提交需求 2026-Q4-JSB-001「新品发布会」，等待 技术部 负责人 张三 审批" in msgs[0]["content"]["text"]
    card = sim.wait_for(lambda: approval_cards(sim))[0]
    md = card["content"]["body"]["elements"][0]["content"]
    assert "<at id=ou_zhang></at>" in md and "市场部、技术部" in md and "预算 5 万" in md
    form = card["content"]["body"]["elements"][1]
    buttons = {e["name"]: e["behaviors"][0]["value"] for e in form["elements"] if e["tag"] == "button"}
    assert buttons["approve"] == {"action": "req.approve", "id": "2026-Q4-JSB-001"}

    # Someone else clicks: refused, with who may.
    click = sim.card_action("oc_req", "ou_li", card["message_id"], buttons["approve"])
    toast = sim.wait_acked(click["event_id"])["data"]["toast"]
    assert toast["type"] == "error" and "仅 技术部 负责人 张三（或其代理人）" in toast["content"]
    # The approver rejects without a reason, then with one (the card's input).
    click = sim.card_action("oc_req", "ou_zhang", card["message_id"], buttons["reject"])
    assert "驳回需要写明原因" in sim.wait_acked(click["event_id"])["data"]["toast"]["content"]
    click = sim.card_action("oc_req", "ou_zhang", card["message_id"], buttons["reject"],
                            form_value={"reason": "预算需要细化"})
    assert sim.wait_acked(click["event_id"])["data"]["toast"]["type"] == "success"
    assert d.sql("SELECT state, reason, version FROM requests") == [("rejected", "预算需要细化", 1)]

    # Only the initiator may edit; the edit is version 2 and asks again.
    _, msgs = say(sim, "ou_wang", "/需求 修改 2026-Q4-JSB-001\n资源需求：预算 3 万")
    assert "仅发起人 李四 可以修改" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_li", "/需求 修改 2026-Q4-JSB-001\n资源需求：预算 3 万")
    assert "第 2 版" in msgs[0]["content"]["text"]
    sim.wait_for(lambda: len(approval_cards(sim)) == 2)
    _, msgs = say(sim, "ou_zhang", "/需求 批准 2026-Q4-JSB-001")
    assert "已由 张三 批准" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_zhang", "/需求 批准 2026-Q4-JSB-001")
    assert "该需求待各部门确认，不能审批" in msgs[0]["content"]["text"]
    assert d.sql("SELECT state, version FROM requests") == [("syncing", 2)]
    assert d.sql("SELECT version FROM request_versions ORDER BY version") == [(1,), (2,)]
    assert d.sql("SELECT state FROM deadlines WHERE key LIKE '%:approval'") == [("met",)]
    kinds = [k for (k,) in d.sql("SELECT kind FROM timeline WHERE subject = '2026-Q4-JSB-001' ORDER BY id")]
    assert kinds == ["request.submitted", "request.rejected", "request.resubmitted", "request.approved"]


def test_deputy_approves_and_ids_count_up(sim, d):
    say(sim, "ou_li", FORM)
    _, msgs = say(sim, "ou_li", FORM.replace("新品发布会", "年会"))
    assert "2026-Q4-JSB-002" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_sun", "/需求 批准 2026-Q4-JSB-002")      # not yet a deputy on Nov 30
    assert "仅 技术部 负责人 张三" in msgs[0]["content"]["text"]
    d.admin("/debug/clock", {"set_ms": at(2026, 12, 2, 10)})
    _, msgs = say(sim, "ou_sun", "/需求 批准 2026-Q4-JSB-002")
    assert "已由 孙六 批准" in msgs[0]["content"]["text"]


def test_withdraw_and_lists(sim, d):
    say(sim, "ou_li", FORM)
    _, msgs = say(sim, "ou_zhang", "/需求 撤回 2026-Q4-JSB-001")
    assert "仅发起人 李四 可以撤回" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_li", "/需求 撤回 2026-Q4-JSB-001")
    assert "已撤回" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_zhang", "/需求 批准 2026-Q4-JSB-001")
    assert "该需求已撤回，不能审批" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_li", "/需求 列表")
    assert "2026-Q4-JSB-001「新品发布会」· 已撤回" in msgs[0]["content"]["text"]
    _, msgs = say(sim, "ou_li", "/需求 查看 2026-Q4-JSB-001")
    text = msgs[0]["content"]["text"]
    assert "已撤回 · 第 1 版" in text and "涉及部门：市场部、技术部" in text
    assert d.sql("SELECT state FROM deadlines") == [("cancelled",)]


def test_approval_reminder_reaches_the_approver(sim, d):
    say(sim, "ou_li", FORM)
    sim.wait_for(lambda: approval_cards(sim))
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 17, 0, 1)})   # 2 business hours before Tue 10:00
    ping = sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "interactive"
                                 and "协作提醒" in m["content"]["header"]["title"]["content"]], timeout=10)[0]
    text = ping["content"]["body"]["elements"][0]["content"]
    assert "<at id=ou_zhang></at>" in text and "2026-Q4-JSB-001" in text and "即将到期" in text
