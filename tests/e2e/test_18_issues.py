"""Step 4 through the binary with the test clock: the issue report and its
alert, the response SLA with escalation and the urgent buzz, the solution
record, resolution and reopening, every invalid form and refusal, and quiet
hours for the alert."""

import json

import pytest

from helpers import at, import_directory, replies_to

DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_fin", "name": "财务钱"},
              {"id": "ou_finboss", "name": "财务总"}, {"id": "ou_cfo", "name": "CFO"},
              {"id": "ou_ceo", "name": "CEO"}, {"id": "ou_ops", "name": "运维刘"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_cfo",
         "superior2": "ou_ceo", "chat_id": "oc_finance"},
    ],
}
CHAT = "oc_iss"
REQ = "2026-Q4-JSB-001"
ISSUE = f"{REQ}-P01"


def set_clock(d, ms):
    assert d.admin("/debug/clock", {"set_ms": ms})[0] == 200


def say(sim, user, text, mentions=None):
    r = sim.inject_message(CHAT, user, text, mentions=mentions)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def in_progress(sim, d):
    say(sim, "ou_init", "/需求\n需求名称：年终结算系统\n联系方式：1380000\n需求背景：年终结算\n具体任务：接口改造\n"
                        "涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
    say(sim, "ou_head", f"/需求 批准 {REQ}")
    say(sim, "ou_mkt", f"/确认 {REQ}")
    say(sim, "ou_fin", f"/确认 {REQ}")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])


@pytest.fixture
def make(sim, make_daemon, tmp_path):
    def factory(start=at(2026, 12, 7, 9, 30), **extra):   # Monday
        d = make_daemon(clock_control=True, extra=extra or None)
        assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
        set_clock(d, start)
        in_progress(sim, d)
        return d
    return factory


def report(severity="重要", occurred="2026-12-07 09:50", depts="财务部", extra=""):
    return (f"/问题\n关联需求：{REQ}\n问题类型：技术\n严重程度：{severity}\n影响范围：结算接口不可用\n"
            f"问题描述：财务系统接口返回 500\n发生时间：{occurred}\n预计解决时间：2026-12-09 18:00\n接收部门：{depts}{extra}")


def cards(sim, chat=CHAT, title=None):
    out = [m for m in sim.messages() if m["chat_id"] == chat and m["msg_type"] == "interactive"]
    return [m for m in out if title is None or title in m["content"]["header"]["title"]["content"]]


def md(card):
    return "\n".join(e.get("content", "") for e in card["content"]["body"]["elements"] if e["tag"] == "markdown")


def latest(card):
    """The card as it looks now: redrawn by a click's reply or a PATCH, or as sent."""
    return card["shown"]


def pings(sim, text):
    """SLA pings about the first issue's response."""
    return [m for m in cards(sim) if text in md(m) and f"问题 {ISSUE}（" in md(m)
            and "问题预警" not in m["content"]["header"]["title"]["content"]]


def kinds(d, subject):
    return [k for (k,) in d.sql("SELECT kind FROM timeline WHERE subject = ? ORDER BY id", subject)]


def test_urgent_issue_unanswered_is_buzzed_and_escalated_twice(sim, make):
    d = make(start=at(2026, 12, 7, 10), issues={"urgent_app": True})
    text = say(sim, "ou_init", report("紧急", "2026-12-07 09:55", extra="\n通知人：@_user_1"),
               mentions=[{"key": "@_user_1", "open_id": "ou_ops", "name": "运维刘"}])
    assert f"已提交问题 {ISSUE}（紧急 · 技术）" in text and "2026-12-07 10:30 前响应" in text
    alert = sim.wait_for(lambda: cards(sim, title="问题预警"), timeout=10)[0]
    body = md(alert)
    for who in ("ou_finboss", "ou_fin", "ou_cfo", "ou_ops"):
        assert f"<at id={who}></at>" in body
    assert "ou_ceo" not in body and alert["content"]["header"]["template"] == "red"
    # The buzz follows the card, addressed to the card's own message id.
    buzz = sim.wait_for(lambda: alert.get("urgent") or cards(sim, title="问题预警")[0].get("urgent"), timeout=10)
    assert set(buzz[0]) == {"ou_finboss", "ou_fin", "ou_cfo", "ou_ops"}
    key = f"req:{REQ}:issue:{ISSUE}:response"
    assert d.sql("SELECT policy, due_at FROM deadlines WHERE key = ?", key) == [("issue_response_urgent",
                                                                                  at(2026, 12, 7, 10, 30))]
    set_clock(d, at(2026, 12, 7, 10, 20, 1))             # 10 minutes before: the contact is reminded
    reminder = sim.wait_for(lambda: pings(sim, "即将到期"), timeout=10)[0]
    assert "<at id=ou_fin></at>" in md(reminder) and "ou_finboss" not in md(reminder)
    set_clock(d, at(2026, 12, 7, 10, 30, 1))             # due: the contact, the head and the superior
    overdue = sim.wait_for(lambda: pings(sim, "已逾期"), timeout=10)[0]
    assert all(f"<at id={w}></at>" in md(overdue) for w in ("ou_fin", "ou_finboss", "ou_cfo"))
    set_clock(d, at(2026, 12, 7, 11, 0, 1))              # +30 min: the superior's superior
    first = sim.wait_for(lambda: pings(sim, "已升级"), timeout=10)[0]
    assert "<at id=ou_ceo></at>" in md(first)
    set_clock(d, at(2026, 12, 7, 11, 30, 1))             # +30 min more: again
    sim.wait_for(lambda: len(pings(sim, "已升级")) == 2, timeout=10)
    assert kinds(d, key) == ["sla.reminder", "sla.overdue", "sla.escalation", "sla.escalation"]
    # Whom each ping reached is recorded: the overdue ping already reached the superior,
    # so the retrospective counts it as an escalation.
    reached = [json.loads(t)["roles"] for (t,) in d.sql("SELECT detail FROM timeline WHERE subject = ? "
                                                          "AND kind LIKE 'sla.%' ORDER BY id", key)]
    assert reached == [["owner"], ["owner", "head", "superior"], ["superior2"], ["superior2"]]
    # The late response closes the deadline and is recorded as late.
    say(sim, "ou_fin", f"/问题 响应 {ISSUE}\n解决责任人：财务钱\n会议时间：2026-12-07 11:45\n会议形式：线上\n"
                       "会议地点：https://meeting.example/abc")
    assert d.sql("SELECT state FROM deadlines WHERE key = ?", key) == [("met",)]
    detail = json.loads(d.sql("SELECT detail FROM timeline WHERE kind = 'issue.responded'")[0][0])
    assert detail["late"] is True and detail["issue"] == ISSUE


@pytest.mark.valgrind
def test_normal_issue_answered_solved_reopened_and_solved_again(sim, make):
    d = make(start=at(2026, 12, 7, 10))
    text = say(sim, "ou_init", report())
    assert "2026-12-07 12:00 前响应" in text and "迟报" not in text
    alert = sim.wait_for(lambda: cards(sim, title="问题预警"), timeout=10)[0]
    assert alert["content"]["header"]["template"] == "orange" and "urgent" not in alert
    form = next(e for e in alert["content"]["body"]["elements"] if e["tag"] == "form")
    assert [e.get("name") for e in form["elements"]][:4] == ["owner", "meeting", "mode", "where"]
    assert d.sql("SELECT request_id, reporter, type, severity, state, report_late, response_due FROM issues") == [
        (REQ, "ou_init", "技术", "重要", "reported", 0, at(2026, 12, 7, 12))]
    assert d.sql("SELECT dept FROM issue_depts") == [("CWB",)]

    # Respond on the card (Feishu's picker sends the offset).
    set_clock(d, at(2026, 12, 7, 10, 40))
    click = sim.card_action(CHAT, "ou_fin", alert["message_id"], {"action": "issue.respond", "id": ISSUE},
                            form_value={"owner": "ou_fin", "meeting": "2026-12-07 11:00 +0800", "mode": "线下",
                                        "where": "3 楼会议室"})
    sim.wait_for(lambda: d.sql("SELECT state FROM issues") == [("responded",)], timeout=10)
    # The clicked card is redrawn in the click's reply: the outcome, who and
    # when, and the next step's form instead of the response form.
    ack = sim.wait_acked(click["event_id"])["data"]
    assert ack["toast"] == {"type": "success", "content": "已响应 · 财务钱 · 2026-12-07 10:40"}
    shown = ack["card"]["data"]
    assert shown["header"]["title"]["content"].startswith(f"问题 {ISSUE} · 已响应")
    assert "**处理结果**：已响应 · 财务钱 · 2026-12-07 10:40" in "".join(
        e.get("content", "") for e in shown["body"]["elements"])
    form = next(e for e in shown["body"]["elements"] if e["tag"] == "form")
    assert form["elements"][-1]["behaviors"][0]["value"]["action"] == "issue.solution"
    assert all(e["max_length"] == 1000 for e in form["elements"] if e["tag"] == "input")  # as the command takes
    assert not [r for r in sim.requests() if r["method"] == "PATCH" and r["path"].endswith(alert["message_id"])]
    assert d.sql("SELECT owner, meeting_at, meeting_mode, responded_by, responded_at FROM issues") == [
        ("ou_fin", at(2026, 12, 7, 11), "线下", "ou_fin", at(2026, 12, 7, 10, 40))]
    sim.wait_for(lambda: latest(cards(sim, title="问题预警")[0])["header"]["title"]["content"].startswith(
        f"问题 {ISSUE} · 已响应"), timeout=10)

    set_clock(d, at(2026, 12, 7, 11, 30))
    say(sim, "ou_fin", f"/问题 方案 {ISSUE}\n问题原因：证书过期\n解决措施：更换证书并加监控\n责任人：财务钱\n"
                       "完成时间：2026-12-08 18:00")
    record = sim.wait_for(lambda: cards(sim, title="问题解决方案记录"), timeout=10)[0]
    assert all(f"<at id={w}></at>" in md(record) for w in ("ou_fin", "ou_finboss", "ou_init"))
    # 同步至所有参与部门: the initiating (技术部) and the other involved department (市场部) too.
    assert all(f"<at id={w}></at>" in md(record) for w in ("ou_head", "ou_mkt"))
    skey = f"req:{REQ}:issue:{ISSUE}:solution"
    assert d.sql("SELECT policy, due_at, state FROM deadlines WHERE key = ?", skey) == [
        ("solution_due", at(2026, 12, 8, 18), "open")]

    assert "仅解决责任人 财务钱" in say(sim, "ou_init", f"/问题 解决 {ISSUE}\n解决结果：好了")
    set_clock(d, at(2026, 12, 8, 15))
    assert "已解决并关闭" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：证书已更换，接口恢复")
    assert d.sql("SELECT state FROM deadlines WHERE key = ?", skey) == [("met",)]
    assert "仅反馈人 发起人甲" in say(sim, "ou_fin", f"/问题 重开 {ISSUE}\n原因：再看看")
    set_clock(d, at(2026, 12, 9, 10))                     # within one working day
    assert "已重新打开" in say(sim, "ou_init", f"/问题 重开 {ISSUE}\n原因：晚上又报错了")
    assert d.sql("SELECT state, reopen_count, reopen_reason FROM issues") == [("reopened", 1, "晚上又报错了")]
    rkey = f"req:{REQ}:issue:{ISSUE}:response"
    assert d.sql("SELECT state FROM deadlines WHERE key = ?", rkey) == [("open",)]

    say(sim, "ou_fin", f"/问题 方案 {ISSUE}\n问题原因：备用节点证书也过期\n解决措施：全部节点更换\n责任人：财务钱\n"
                       "完成时间：2026-12-09 18:00")
    assert d.sql("SELECT state FROM deadlines WHERE key = ?", rkey) == [("met",)]
    assert "已解决并关闭" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：所有节点已更换")
    row = d.sql("SELECT state, responded_at, response_due, solution_due, resolved_by FROM issues")[0]
    assert row == ("resolved", at(2026, 12, 7, 10, 40), at(2026, 12, 7, 12), at(2026, 12, 9, 18), "ou_fin")
    assert [k for k in kinds(d, REQ) if k.startswith("issue.")] == [
        "issue.reported", "issue.responded", "issue.solution", "issue.resolved", "issue.reopened",
        "issue.solution", "issue.resolved"]
    view = say(sim, "ou_mkt", f"/问题 查看 {ISSUE}")
    assert "已解决" in view and "重新打开 1 次" in view and "所有节点已更换" in view and "记录：" in view
    listing = say(sim, "ou_init", "/问题 列表")
    assert f"我反馈的：\n{ISSUE} · 重要 · 已解决" in listing
    # A repeated click changes nothing.
    assert "该问题已解决，不能填写解决结果并关闭" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：再关一次")
    assert len(d.sql("SELECT id FROM timeline WHERE kind = 'issue.resolved'")) == 2
    # Reopening is over one working day after the resolution.
    set_clock(d, at(2026, 12, 10, 18))
    assert "须在 1 个工作日内" in say(sim, "ou_init", f"/问题 重开 {ISSUE}\n原因：又坏了")


def test_every_problem_of_every_form_and_every_refusal(sim, make):
    d = make(start=at(2026, 12, 7, 10))
    bad = ("/问题\n关联需求：2026-Q4-XXX-009\n问题类型：天灾\n严重程度：特急\n发生时间：2026-12-08 09:00\n"
           "预计解决时间：2026-12-01 09:00\n接收部门：财务部、保卫科\n颜色：红")
    text = say(sim, "ou_init", bad)
    assert "问题反馈表有 9 处需要修改（未保存任何内容）" in text
    for part in ("未知字段「颜色」", "没有需求 2026-Q4-XXX-009", "「问题类型」应为 技术、资源、流程、其他 之一",
                 "「严重程度」应为 紧急、重要、一般 之一", "缺少「影响范围」", "缺少「问题描述」",
                 "「发生时间」2026-12-08 09:00 还没有到", "「预计解决时间」早于「发生时间」",
                 "接收部门「保卫科」不在部门目录中"):
        assert part in text, part
    assert "「发生时间」应为日期和时间" in say(sim, "ou_init", report(occurred="昨天下午"))
    assert d.sql("SELECT COUNT(*) FROM issues")[0][0] == 0
    assert d.sql("SELECT COUNT(*) FROM id_sequences WHERE prefix LIKE '%-P'")[0][0] == 0

    # Reported 2 business hours after it happened: recorded as late.
    set_clock(d, at(2026, 12, 7, 11, 30))
    assert "已记录为迟报" in say(sim, "ou_init", report(occurred="2026-12-07 09:20"))
    assert d.sql("SELECT report_late FROM issues") == [(1,)]

    refusal = say(sim, "ou_mkt", f"/问题 响应 {ISSUE}\n解决责任人：市场王\n会议时间：2026-12-07 14:00\n"
                                 "会议形式：线上\n会议地点：链接")
    assert "仅接收部门的负责人或接口人（财务部 负责人 财务总、接口人 财务钱，或其代理人）可以响应" in refusal
    assert "请先由接收部门响应" in say(sim, "ou_fin", f"/问题 方案 {ISSUE}\n问题原因：a\n解决措施：b\n责任人：财务钱\n"
                                                     "完成时间：2026-12-09 18:00")
    assert "请先由接收部门响应" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：x")
    text = say(sim, "ou_fin", f"/问题 响应 {ISSUE}\n解决责任人：@谁也不是\n会议时间：明天\n会议形式：电话")
    assert "响应有 4 处需要修改" in text
    for part in ("「解决责任人」@谁也不是 不在部门目录的人员中", "「会议时间」应为日期和时间",
                 "「会议形式」应为 线上、线下 之一", "缺少「会议地点」"):
        assert part in text, part
    assert "没有问题 2026-Q4-JSB-001-P09" in say(sim, "ou_fin", "/问题 响应 2026-Q4-JSB-001-P09\n会议形式：线上")
    say(sim, "ou_finboss", f"/问题 响应 {ISSUE}\n解决责任人：财务钱\n会议时间：2026-12-07 14:00\n会议形式：线上\n"
                           "会议地点：链接")
    assert "该问题已响应，待记录解决方案，不能响应" in say(
        sim, "ou_fin", f"/问题 响应 {ISSUE}\n解决责任人：财务钱\n会议时间：2026-12-07 14:00\n会议形式：线上\n会议地点：x")
    assert "仅接收部门的负责人或接口人（财务部 负责人 财务总、接口人 财务钱，或其代理人）或反馈人 发起人甲" in say(
        sim, "ou_mkt", f"/问题 方案 {ISSUE}\n问题原因：a\n解决措施：b\n责任人：财务钱\n完成时间：2026-12-09 18:00")
    text = say(sim, "ou_init", f"/问题 方案 {ISSUE}\n问题原因：a\n责任人：财务钱\n完成时间：2026-12-01 18:00")
    assert "问题解决方案记录有 2 处需要修改" in text and "缺少「解决措施」" in text and "「完成时间」2026-12-01 18:00 已经过去" in text
    # The reporter may record it; then only the 责任人 closes, with a result.
    say(sim, "ou_init", f"/问题 方案 {ISSUE}\n问题原因：a\n解决措施：b\n责任人：财务钱\n完成时间：2026-12-09 18:00")
    assert "缺少「解决结果」" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}")
    assert "该问题解决中，不能重新打开" in say(sim, "ou_init", f"/问题 重开 {ISSUE}\n原因：x")
    say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：好了")
    assert "缺少「原因」" in say(sim, "ou_init", f"/问题 重开 {ISSUE}")
    assert d.sql("SELECT state, reopen_count FROM issues") == [("resolved", 0)]
    # 紧急: the coordination meeting must start within 30 minutes.
    say(sim, "ou_init", report("紧急", "2026-12-07 11:25"))
    text = say(sim, "ou_fin", f"/问题 响应 {REQ}-P02\n解决责任人：财务钱\n会议时间：2026-12-07 13:00\n会议形式：线上\n"
                              "会议地点：链接")
    assert "紧急问题的协调会须在 30 分钟内召开（不晚于 2026-12-07 12:00）" in text
    assert d.sql("SELECT state FROM issues WHERE id = ?", f"{REQ}-P02") == [("reported",)]
    assert "用法：/问题" in say(sim, "ou_fin", "/问题 乱说 一通")


def test_quiet_hours_hold_a_normal_alert_until_nine_but_not_an_urgent_one(sim, make):
    d = make(start=at(2026, 12, 7, 19, 50), issues={"alert_department_chats": True})
    set_clock(d, at(2026, 12, 7, 20, 0))
    text = say(sim, "ou_init", report("一般", "2026-12-07 19:55"))
    assert "问题预警将于 2026-12-08 09:00 发出" in text and "2026-12-08 11:00 前响应" in text
    set_clock(d, at(2026, 12, 8, 8, 59))
    d.admin("/debug/stats")
    import time
    time.sleep(1.0)
    assert cards(sim, title="问题预警") == [] and cards(sim, chat="oc_finance") == []
    set_clock(d, at(2026, 12, 8, 9, 0, 1))
    alert = sim.wait_for(lambda: cards(sim, title="问题预警"), timeout=10)[0]
    assert "<at id=ou_finboss></at>" in md(alert)
    dept = sim.wait_for(lambda: cards(sim, chat="oc_finance"), timeout=10)[0]
    assert "<at id=ou_fin></at>" in md(dept)
    assert at(2026, 12, 8, 9) <= d.sql("SELECT alerted_at FROM issues")[0][0] <= at(2026, 12, 8, 9, 0, 1)
    assert d.sql("SELECT kind FROM timeline WHERE subject = ?", f"alert:{ISSUE}") == [("sla.overdue",)]

    set_clock(d, at(2026, 12, 8, 20, 0))
    say(sim, "ou_init", report("紧急", "2026-12-08 19:58"))
    urgent = sim.wait_for(lambda: [c for c in cards(sim, title="问题预警") if f"{REQ}-P02" in
                                   c["content"]["header"]["title"]["content"]], timeout=10)[0]
    assert "<at id=ou_cfo></at>" in md(urgent)
    assert d.sql("SELECT alerted_at FROM issues WHERE id = ?", f"{REQ}-P02") == [(at(2026, 12, 8, 20),)]
