"""The retrospective's deadline through the binary, on the test clock: a
department that has not answered is reminded before the 3-working-day due
time, pinged with its head when it passes, and escalated to its superior a
working day later; its late answer shows in the report.  The initiator may
close the retrospective early: the report lists who did not answer and their
reminders stop."""

import json

import pytest

from helpers import ID, at, import_directory, replies_to

CHAT = "oc_retro"
DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_fin", "name": "财务钱"},
              {"id": "ou_finboss", "name": "财务总"}, {"id": "ou_cfo", "name": "CFO"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_cfo"},
    ],
}
FORM = ("/需求\n需求名称：年终发布会\n联系方式：1380000\n需求背景：新品上市\n具体任务：场地、直播\n"
        "涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
ANSWER = "\n流程：顺畅\n同步：及时\n解决：高效\n经验：站会\n不足：{}"


def clock(d, *a):
    assert d.admin("/debug/clock", {"set_ms": at(*a)})[0] == 200


def say(sim, user, text):
    r = sim.inject_message(CHAT, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def cards(sim, title):
    return [m for m in sim.messages() if m["msg_type"] == "interactive"
            and title in m["content"]["header"]["title"]["content"]]


def md(card):
    return "\n".join(e.get("content", "") for e in card["content"]["body"]["elements"] if e["tag"] == "markdown")


def retro_pings(sim):
    return [c for c in cards(sim, "协作提醒") if "复盘答复" in md(c)]


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True, extra={"archive": {"dir": str(tmp_path / "lib")}})
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    clock(daemon, 2026, 12, 7, 10)
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    say(sim, "ou_mkt", f"/确认 {ID}")
    say(sim, "ou_fin", f"/确认 {ID}")
    sim.wait_for(lambda: daemon.sql("SELECT state FROM requests") == [("in_progress",)])
    clock(daemon, 2026, 12, 9, 10)                                       # Wednesday
    assert "2026-12-14 10:00 前" in say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：总结.pptx")
    return daemon


@pytest.mark.valgrind
def test_a_late_retrospective_is_reminded_then_escalated(sim, d, tmp_path):
    clock(d, 2026, 12, 10, 10)
    say(sim, "ou_init", f"/复盘 {ID}" + ANSWER.format("无"))
    say(sim, "ou_mkt", f"/复盘 {ID}" + ANSWER.format("无"))
    status = say(sim, "ou_mkt", f"/复盘 查看 {ID}")
    assert "截止 2026-12-14 10:00" in status and "财务部：待提交" in status and "市场部：已提交（市场王" in status

    clock(d, 2026, 12, 11, 15, 0, 30)                                   # 3 business hours + 1 before Monday 10:00
    first = sim.wait_for(lambda: retro_pings(sim), timeout=10)
    assert len(first) == 1 and "<at id=ou_fin></at>" in md(first[0]) and "ou_mkt" not in md(first[0])
    assert "即将到期" in md(first[0])
    clock(d, 2026, 12, 14, 10, 0, 30)                                   # due: the contact and the head
    sim.wait_for(lambda: len(retro_pings(sim)) == 2, timeout=10)
    overdue = md(retro_pings(sim)[1])
    assert "已逾期" in overdue and "<at id=ou_fin></at>" in overdue and "<at id=ou_finboss></at>" in overdue
    assert "ou_cfo" not in overdue
    clock(d, 2026, 12, 15, 10, 0, 30)                                   # a working day later: the superior
    sim.wait_for(lambda: len(retro_pings(sim)) == 3, timeout=10)
    assert "已升级" in md(retro_pings(sim)[2]) and "<at id=ou_cfo></at>" in md(retro_pings(sim)[2])

    clock(d, 2026, 12, 15, 11)
    assert "3/3" in say(sim, "ou_fin", f"/复盘 {ID}" + ANSWER.format("复盘拖得太久"))
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("archived",)])
    assert d.sql("SELECT COUNT(*) FROM timers WHERE state = 'pending'") == [(0,)]
    doc = json.loads((tmp_path / "lib" / "2026" / "Q4" / "2026-Q4-XMB-001.json").read_text(encoding="utf-8"))
    m = doc["retrospective"]["report"]["metrics"]
    assert [(r["dept"], r["within"]) for r in m["retro"]] == [("JSB", True), ("SCB", True), ("CWB", False)]
    assert [x for x in m["deadlines"] if x["kind"] == "retro"] == [
        {"kind": "retro", "label": "复盘答复", "reminders": 1, "overdue": 1, "escalations": 1, "snoozes": 0}]
    # Nobody posted progress before completion: each missed day counts once.  The clock
    # jumped from Monday to Wednesday, so Monday's and Tuesday's cut-offs are caught up
    # (two days missed in a row by both departments: each reaches its superior).
    missed = d.sql("SELECT COUNT(*) FROM timeline WHERE kind = 'progress.missed'")[0][0]
    assert missed == 4 and [x["overdue"] for x in m["deadlines"] if x["kind"] == "progress"] == [missed]
    assert [x["escalations"] for x in m["deadlines"] if x["kind"] == "progress"] == [2]
    assert [a["on_time"] for a in doc["retrospective"]["answers"]] == [True, True, False]
    rules = [s["text"] for s in doc["retrospective"]["report"]["suggestions"] if s["source"] == "rule"]
    assert "共升级上级 3 次（每日进度 2 次、复盘答复 1 次）：建议在到期提醒时就处理，避免占用上级的协调时间。" in rules
    assert "复盘答复晚于 3 个工作日的部门：财务部：建议完成后尽快召开复盘会，趁记忆清晰时总结。" in rules
    report = (tmp_path / "lib" / "2026" / "Q4" / "2026-Q4-XMB-001.report.md").read_text(encoding="utf-8")
    assert "| 复盘答复 | 1 | 1 | 1 | 0 |" in report and "财务钱，2026-12-15 11:00（晚于截止时间）" in report


def test_the_initiator_may_close_the_retrospective_early(sim, d, tmp_path):
    clock(d, 2026, 12, 10, 10)
    say(sim, "ou_mkt", f"/复盘 {ID}" + ANSWER.format("无"))
    assert "仅发起人 发起人甲 可以结束" in say(sim, "ou_mkt", f"/复盘 结束 {ID}")
    assert d.sql("SELECT state FROM requests") == [("completed",)]
    sim.inject_message(CHAT, "ou_init", f"/复盘 结束 {ID}")
    report = sim.wait_for(lambda: cards(sim, f"跨部门协作复盘报告 · {ID}"), timeout=10)[0]
    assert "**未提交复盘**：技术部、财务部" in md(report) and "**已提交复盘**：市场部" in md(report)
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("archived",)])
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open'") == [(0,)]
    assert d.sql("SELECT kind, actor FROM timeline WHERE kind = 'retro.reported'") == [("retro.reported", "ou_init")]
    clock(d, 2026, 12, 14, 10, 0, 30)                                   # the due time passes: nobody is pinged
    assert not retro_pings(sim)
    doc = json.loads((tmp_path / "lib" / "2026" / "Q4" / "2026-Q4-XMB-001.json").read_text(encoding="utf-8"))
    assert doc["retrospective"]["report"]["missing"] == ["JSB", "CWB"]


def test_show_and_close_are_subcommands_with_their_own_usage(sim, daemon):
    # "/复盘 查看" without a number is not the retrospective of a request
    # called 查看 (it used to answer with lines to copy for "/复盘 查看").
    shown = say(sim, "ou_init", "/复盘 查看")
    assert "用法：/复盘 查看 需求编号" in shown and "复制下面几行" not in shown, shown
    closed = say(sim, "ou_init", "/复盘 结束\n流程：顺畅")
    assert "用法：/复盘 结束 需求编号" in closed and "没有需求" not in closed, closed
    assert "没有编号为 2026-Q4-JSB-404 的需求" in say(sim, "ou_init", "/retro SHOW 2026-Q4-JSB-404")
    assert "/复盘 2026-Q4-JSB-404\n流程是否顺畅：" in say(sim, "ou_init", "/复盘 2026-Q4-JSB-404")
