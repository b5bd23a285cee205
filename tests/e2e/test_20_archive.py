"""Step 5 through the binary and the simulator, on the test clock: a request
from /需求 to the archived retrospective report, with one objection, one late
progress update and one escalated issue -- the report's figures checked
exactly against the scripted timeline; completion blocked by an open issue;
archive names across a quarter boundary; the archive's files (JSON valid
against deploy/archive.schema.json, Markdown, HTML with every section) and
`collabd export`."""

import glob
import json
import os
import subprocess

import jsonschema
import pytest

from daemonctl import COLLABD_BIN, REPO
from helpers import ID, at, import_directory, replies_to

CHAT = "oc_arc"
ISSUE = f"{ID}-P01"
H = 3600 * 1000
MIN = 60 * 1000
DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_fin", "name": "财务钱"},
              {"id": "ou_finboss", "name": "财务总"}, {"id": "ou_cfo", "name": "CFO"},
              {"id": "ou_mgr", "name": "管理部长"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_cfo"},
        {"code": "QGB", "name": "企业管理部", "head": "ou_mgr", "contacts": ["ou_mgr"], "chat_id": "oc_mgmt"},
    ],
}
FORM = ("/需求\n需求名称：年终发布会\n联系方式：1380000\n需求背景：新品上市\n具体任务：场地、直播\n"
        "涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
ANSWER = "\n流程：基本顺畅\n同步：及时\n解决：问题响应偏慢\n经验：每日站会\n不足：{}"


def clock(d, *a):
    assert d.admin("/debug/clock", {"set_ms": at(*a)})[0] == 200


def say(sim, user, text):
    r = sim.inject_message(CHAT, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def cards(sim, title, chat=CHAT):
    return [m for m in sim.messages() if m["chat_id"] == chat and m["msg_type"] == "interactive"
            and title in m["content"]["header"]["title"]["content"]]


def md(card):
    return "\n".join(e.get("content", "") for e in card["content"]["body"]["elements"] if e["tag"] == "markdown")


def settled(d):
    """Waits until the daemon has nothing left to send (a fired timer's effects are in)."""
    import time
    for _ in range(200):
        if d.stats()["outbox"]["pending"] == 0:
            return
        time.sleep(0.05)


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True, extra={"management": {"dept": "QGB"},
                                                    "archive": {"dir": str(tmp_path / "库")}})
    r = import_directory(daemon, DIRECTORY, tmp_path)
    assert r.returncode == 0, r.stderr
    daemon.library = tmp_path / "库"
    return daemon


def in_progress_with_objection(sim, d):
    clock(d, 2026, 12, 7, 9, 30)                                        # Monday
    say(sim, "ou_init", FORM)
    clock(d, 2026, 12, 7, 10, 30)
    say(sim, "ou_head", f"/需求 批准 {ID}")                               # approval: 1 h
    clock(d, 2026, 12, 7, 11)
    say(sim, "ou_mkt", f"/确认 {ID}")                                    # 30 min
    clock(d, 2026, 12, 7, 11, 30)
    assert "已记录 财务部" in say(sim, "ou_fin", f"/异议 {ID}\n说明：预算审批要两周\n建议：分两期付款")  # 1 h
    clock(d, 2026, 12, 7, 14, 30)
    assert "需求继续推进" in say(sim, "ou_init", "/异议 答复 1 推进\n理由：预算已由总经理特批")  # 3 h
    sim.wait_for(lambda: d.sql("SELECT state FROM requests WHERE id = ?", ID) == [("in_progress",)])


def progress(sim, user):
    return say(sim, user, f"/进度 {ID}\n已完成任务：按计划推进\n未完成原因：\n下一步计划：继续")


def report_issue(sim, occurred="2026-12-08 09:30"):
    return say(sim, "ou_mkt", f"/问题\n关联需求：{ID}\n问题类型：技术\n严重程度：一般\n影响范围：直播推流\n"
                              f"问题描述：推流服务器无法连接\n发生时间：{occurred}\n接收部门：财务部")


@pytest.mark.valgrind
def test_request_from_intake_to_the_archived_retrospective_report(sim, d, tmp_path):
    in_progress_with_objection(sim, d)
    # Monday's progress: both departments on time.
    clock(d, 2026, 12, 7, 15)
    progress(sim, "ou_mkt")
    clock(d, 2026, 12, 7, 15, 10)
    progress(sim, "ou_fin")
    clock(d, 2026, 12, 7, 17, 0, 30)
    sim.wait_for(lambda: cards(sim, f"进度看板 · 需求 {ID} · 2026-12-07"), timeout=10)

    # Tuesday: an issue reported 30 min after it happened, answered late, escalated to the superior.
    clock(d, 2026, 12, 8, 10)
    assert f"已提交问题 {ISSUE}" in report_issue(sim)
    clock(d, 2026, 12, 8, 12, 0, 30)                                    # due: overdue ping
    clock(d, 2026, 12, 8, 13, 0, 30)                                    # +1 h: the superior
    sim.wait_for(lambda: any("ou_cfo" in md(c) for c in cards(sim, "协作提醒")), timeout=10)
    clock(d, 2026, 12, 8, 13, 30)
    say(sim, "ou_fin", f"/问题 响应 {ISSUE}\n解决责任人：财务钱\n会议时间：2026-12-08 14:00\n会议形式：线上\n会议地点：视频会议")
    clock(d, 2026, 12, 8, 14)
    say(sim, "ou_fin", f"/问题 方案 {ISSUE}\n问题原因：证书过期\n解决措施：更换证书\n责任人：财务钱\n完成时间：2026-12-08 18:00")
    clock(d, 2026, 12, 8, 15)
    progress(sim, "ou_mkt")
    clock(d, 2026, 12, 8, 16, 30)
    assert "已解决并关闭" in say(sim, "ou_fin", f"/问题 解决 {ISSUE}\n解决结果：证书已更换，推流恢复")
    clock(d, 2026, 12, 8, 17, 0, 30)                                    # finance has not posted
    sim.wait_for(lambda: cards(sim, f"进度逾期 · 需求 {ID} · 2026-12-08"), timeout=10)
    clock(d, 2026, 12, 8, 17, 30)
    assert "逾期" in progress(sim, "ou_fin")                             # late, not missed
    assert d.sql("SELECT dept, state FROM progress_days WHERE day = '2026-12-08' ORDER BY dept") == [
        ("CWB", "late"), ("SCB", "on_time")]

    # Wednesday 10:00: completion.  Only the initiator; deliverables are required.
    clock(d, 2026, 12, 9, 10)
    assert "仅发起人 发起人甲 可以标记需求" in say(sim, "ou_mkt", f"/需求 完成 {ID}\n交付物：a.pdf")
    problems = say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：\n颜色：红")
    assert "有 2 处需要处理（未保存任何内容）" in problems and "请列出成果交付物" in problems and "未知字段「颜色」" in problems
    assert d.sql("SELECT COUNT(*) FROM completions") == [(0,)]
    sim.inject_message(CHAT, "ou_init", f"/需求 完成 {ID}")               # the card first ...
    completion_card = sim.wait_for(lambda: cards(sim, f"完成需求 {ID}"), timeout=10)[0]
    done = say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：https://pan.example.com/s/abc、发布会总结.pptx\n现场照片.zip")
    assert "已完成，全部资料已归入协作项目库：2026-Q4-XMB-001" in done and "2026-12-14 10:00 前" in done
    # ... completed by command all the same: the card shows it and asks no more.
    shown = sim.wait_for(lambda: [m["shown"] for m in sim.messages()
                                  if m["message_id"] == completion_card["message_id"] and m["patches"]], timeout=10)[0]
    assert not [e for e in shown["body"]["elements"] if e["tag"] in ("form", "button")]
    assert "**处理结果**：已完成并归档 · 发起人甲 · 2026-12-09 10:00" in "".join(
        e.get("content", "") for e in shown["body"]["elements"])
    assert d.sql("SELECT state FROM requests WHERE id = ?", ID) == [("completed",)]
    assert d.sql("SELECT name, dir FROM archives") == [("2026-Q4-XMB-001", "2026/Q4")]
    assert d.sql("SELECT key FROM deadlines WHERE state = 'open' ORDER BY key") == [
        (f"req:{ID}:retro:CWB",), (f"req:{ID}:retro:JSB",), (f"req:{ID}:retro:SCB",)]
    assert d.sql("SELECT state FROM deadlines WHERE key = ?", f"req:{ID}:progress:2026-12-09") == [("cancelled",)]
    retro_cards = cards(sim, f"复盘 · 需求 {ID}")
    assert len(retro_cards) == 3
    fin_card = [c for c in retro_cards if "财务部" in c["content"]["header"]["title"]["content"]][0]
    assert "<at id=ou_fin></at>" in md(fin_card) and "<at id=ou_finboss></at>" in md(fin_card)
    assert "流程是否顺畅" in md(fin_card) and "2026-12-14 10:00" in md(fin_card)
    listing = say(sim, "ou_mkt", f"/归档 {ID}")
    assert "归档 2026-Q4-XMB-001" in listing and "复盘报告：待复盘" in listing
    base = d.library / "2026" / "Q4" / "2026-Q4-XMB-001"
    assert os.path.exists(f"{base}.json") and os.path.exists(f"{base}.html")

    # The retrospective: two by command, one by the card's form.
    clock(d, 2026, 12, 10, 10)
    assert "仅参与部门" in say(sim, "ou_mgr", f"/复盘 {ID}" + ANSWER.format("无"))
    missing = say(sim, "ou_init", f"/复盘 {ID}\n流程：顺畅\n经验：站会")
    assert "缺少「信息同步是否及时」" in missing and "缺少「需改进的不足」" in missing and "缺少「问题解决是否高效」" in missing
    assert "1/3 个参与部门已提交" in say(sim, "ou_init", f"/复盘 {ID}" + ANSWER.format("审批后应尽快同步"))
    clock(d, 2026, 12, 10, 11)
    assert "2/3" in say(sim, "ou_mkt", f"/复盘 {ID}" + ANSWER.format("问题响应要更快"))
    clock(d, 2026, 12, 11, 9, 30)
    # The card's inputs are the form's fields: one left out is named, nothing is stored.
    partial = sim.card_action(fin_card["chat_id"], "ou_fin", fin_card["message_id"],
                              {"action": "retro.answer", "id": ID, "dept": "CWB"},
                              form_value={"process": "顺畅", "sync": "及时", "issues": "慢", "lessons": "无"})
    toast = sim.wait_acked(partial["event_id"])["data"]["toast"]
    assert toast["type"] == "error" and "缺少「需改进的不足」" in toast["content"], toast
    assert "未保存任何内容" in toast["content"] and "缺少「可复制的经验」" not in toast["content"]
    assert d.sql("SELECT COUNT(*) FROM retro_answers WHERE dept = 'CWB'") == [(0,)]
    click = sim.card_action(fin_card["chat_id"], "ou_fin", fin_card["message_id"],
                            {"action": "retro.answer", "id": ID, "dept": "CWB"},
                            form_value={"process": "顺畅", "sync": "及时", "issues": "证书问题处理慢了",
                                        "lessons": "提前检查证书", "improve": "预算流程太长"})
    ack = sim.wait_acked(click["event_id"])["data"]
    assert ack["toast"] == {"type": "success", "content": "已提交复盘答复 · 财务钱 · 2026-12-11 09:30"}
    assert "**处理结果**：已提交复盘答复 · 财务钱" in "".join(
        e.get("content", "") for e in ack["card"]["data"]["body"]["elements"])
    report = sim.wait_for(lambda: cards(sim, f"跨部门协作复盘报告 · {ID}"), timeout=10)[0]
    sim.wait_for(lambda: d.sql("SELECT state FROM requests WHERE id = ?", ID) == [("archived",)])
    # /看板 after archiving: the board of the last day, and where the archive is.
    r = sim.inject_message(CHAT, "ou_mkt", f"/看板 {ID}")
    final = sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]
    assert final["msg_type"] == "interactive", final
    assert final["content"]["header"]["title"]["content"] == f"📊 最终进度看板 · 需求 {ID} · 2026-12-08"
    everything = json.dumps(final["content"], ensure_ascii=False)
    assert "归档 2026-Q4-XMB-001" in everything and "/归档 " + ID in everything and "还没有进度看板" not in everything
    assert "财务部（财务钱） · ⚠ 逾期提交" in md(final) and "最后一日进度" in everything
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open'") == [(0,)]
    text = md(report)
    assert "部门确认：2 个部门中 2 个在 1 个工作日内答复" in text
    assert "每日进度：按时 3 次、迟交 1 次、缺失 0 次" in text
    assert "问题：1 个；上报超时 0、响应超时 1、解决超期 0" in text
    assert "【财务部】预算流程太长" in text
    mgmt = sim.wait_for(lambda: cards(sim, f"跨部门协作复盘报告 · {ID}", chat="oc_mgmt"), timeout=10)[0]
    assert "<at id=ou_mgr></at>" in md(mgmt) and "提交企业管理部" in md(mgmt)

    # The figures, exactly as the script above made them.
    doc = json.loads(open(f"{base}.json", encoding="utf-8").read())
    m = doc["retrospective"]["report"]["metrics"]
    assert m["approval"] == {"submitted_at": at(2026, 12, 7, 9, 30), "approved_at": at(2026, 12, 7, 10, 30),
                             "elapsed_ms": H, "limit_ms": 9 * H, "within": True, "rejections": 0}
    assert [(c["dept"], c["answer"], c["elapsed_ms"], c["within"]) for c in m["confirmations"]] == [
        ("SCB", "confirmed", 30 * MIN, True), ("CWB", "objected", H, True)]
    assert [(o["dept"], o["first_answer"], o["elapsed_ms"], o["outcome"], o["within"]) for o in m["objections"]] == [
        ("CWB", "overruled", 3 * H, "overruled", True)]
    assert [(p["dept"], p["on_time"], p["late"], p["missed"]) for p in m["progress"]] == [
        ("SCB", 2, 0, 0), ("CWB", 1, 1, 0)]
    assert m["issues"]["by_type"] == {"技术": 1} and m["issues"]["by_severity"] == {"一般": 1}
    item = m["issues"]["items"][0]
    assert (item["id"], item["report_delay_ms"], item["report_within"]) == (ISSUE, 30 * MIN, True)
    assert (item["response_ms"], item["response_limit_ms"], item["response_within"]) == (3 * H + 30 * MIN, 2 * H, False)
    assert item["resolution_within"] is True
    assert m["deadlines"] == [
        {"kind": "progress", "label": "每日进度", "reminders": 0, "overdue": 1, "escalations": 0, "snoozes": 0},
        {"kind": "issue", "label": "问题响应与解决", "reminders": 1, "overdue": 1, "escalations": 1, "snoozes": 0}]
    assert [(r["dept"], r["within"]) for r in m["retro"]] == [("JSB", True), ("SCB", True), ("CWB", True)]
    assert m["totals"] == {"confirm_total": 2, "confirm_within": 2, "objections": 1, "objections_within": 1,
                           "progress_on_time": 3, "progress_late": 1, "progress_missed": 0, "issues": 1,
                           "report_late": 0, "response_late": 1, "resolution_late": 0, "escalations": 1, "snoozes": 0}
    rules = [s["text"] for s in doc["retrospective"]["report"]["suggestions"] if s["source"] == "rule"]
    assert rules == [
        "进度更新准时 3 次、迟交 1 次、缺失 0 次（有迟交的部门：财务部）：建议进度更新负责人设置每日提醒，必要时增加沟通频次（如每日站会）。",
        "1 个问题中有 1 个未在规定时限内响应（一般/重要 2 小时，紧急 30 分钟）：建议各部门明确问题值班人。",
        "共升级上级 1 次（问题响应与解决 1 次）：建议在到期提醒时就处理，避免占用上级的协调时间。"]
    assert [(s["dept"], s["text"]) for s in doc["retrospective"]["report"]["suggestions"] if s["source"] == "dept"] == [
        ("JSB", "审批后应尽快同步"), ("SCB", "问题响应要更快"), ("CWB", "预算流程太长")]

    # The archive: complete, valid against its schema, readable copies with every section.
    schema = json.load(open(os.path.join(REPO, "deploy", "archive.schema.json"), encoding="utf-8"))
    jsonschema.validate(doc, schema)
    assert doc["request"]["state"] == "archived" and [v["version"] for v in doc["versions"]] == [1]
    assert [(s["dept"]["code"], s["state"]) for s in doc["signatures"]] == [("SCB", "confirmed"), ("CWB", "overruled")]
    assert doc["objections"][0]["answer"] == "预算已由总经理特批"
    assert doc["completion"]["deliverables"] == [
        {"kind": "link", "value": "https://pan.example.com/s/abc"}, {"kind": "file", "value": "发布会总结.pptx"},
        {"kind": "file", "value": "现场照片.zip"}]
    assert doc["issues"][0]["solution"]["cause"] == "证书过期"
    assert len(doc["progress"]["updates"]) == 4
    kinds = [e["kind"] for e in doc["timeline"]]
    for k in ("request.submitted", "request.approved", "request.objected", "objection.answered", "progress.updated",
              "issue.reported", "sla.escalation", "issue.resolved", "request.completed", "request.archived",
              "retro.answered", "retro.reported"):
        assert k in kinds, k
    html = open(f"{base}.html", encoding="utf-8").read()
    for heading in ("基本信息", "需求信息表 · 第 1 版", "接收部门确认（电子签名）", "异议与答复", "进度同步表",
                    "每日进度判定", "问题反馈表", "问题解决方案记录", "成果交付物", "复盘概况", "协作数据 · 部门确认",
                    "改进建议", "完整时间线"):
        assert f"<h2>{heading}</h2>" in html, heading
    assert "<script" not in html and "http://" not in html.split("<body>")[0] and "@media print" in html
    report_html = open(f"{base}.report.html", encoding="utf-8").read()
    assert "跨部门协作复盘报告" in report_html and "<h2>复盘答复 · 财务部</h2>" in report_html
    report_md = open(f"{base}.report.md", encoding="utf-8").read()
    assert "| 市场部 | 确认无误 | 2026-12-07 10:30 | 2026-12-07 11:00 | 30分钟 | 9小时00分 | 达标 |" in report_md
    assert "| CWB" not in report_md and "| 财务部 | 1 | 1 | 0 |" in report_md
    assert "归档 2026-Q4-XMB-001" in say(sim, "ou_init", "/归档 2026-Q4-XMB-001")
    assert "已生成" in say(sim, "ou_init", f"/归档 {ID}")
    assert "复盘报告已生成，不能再提交" in say(sim, "ou_mkt", f"/复盘 {ID}" + ANSWER.format("再改"))

    # collabd export writes the same archive again (only generated_at differs).
    out = tmp_path / "export"
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "export", ID, str(out)], capture_output=True,
                       text=True, env=d.env(), timeout=30)
    assert p.returncode == 0, p.stderr
    again = json.loads((out / "2026-Q4-XMB-001.json").read_text(encoding="utf-8"))
    for x in (doc, again):
        del x["archive"]["generated_at"]
    assert again == doc
    assert sorted(os.path.basename(f) for f in glob.glob(str(out / "*"))) == [
        "2026-Q4-XMB-001.html", "2026-Q4-XMB-001.json", "2026-Q4-XMB-001.md", "2026-Q4-XMB-001.report.html",
        "2026-Q4-XMB-001.report.md"]
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "export", "2026-Q4-JSB-404"], capture_output=True,
                       text=True, env=d.env(), timeout=30)
    assert p.returncode == 1 and "no archive" in p.stderr


def test_an_open_issue_blocks_completion_unless_a_reason_is_given(sim, d):
    in_progress_with_objection(sim, d)
    clock(d, 2026, 12, 8, 10)
    report_issue(sim)
    refusal = say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：总结.docx")
    assert "还有 1 个未解决的问题：" + ISSUE + "（技术·一般）" in refusal and "原因：" in refusal
    assert d.sql("SELECT state FROM requests WHERE id = ?", ID) == [("in_progress",)]
    assert d.sql("SELECT COUNT(*) FROM completions") == [(0,)] and d.sql("SELECT COUNT(*) FROM archives") == [(0,)]
    # The card asks for the same, and says which issue is open.
    sim.inject_message(CHAT, "ou_init", f"/需求 完成 {ID}")
    card = sim.wait_for(lambda: cards(sim, f"完成需求 {ID}"), timeout=10)[0]
    assert ISSUE in md(card)
    click = sim.card_action(CHAT, "ou_init", card["message_id"], {"action": "req.complete", "id": ID},
                            form_value={"deliverables": "总结.docx\n验收单.pdf", "reason": "遗留问题转入运维跟进"})
    ack = sim.wait_acked(click["event_id"])["data"]
    assert ack["toast"]["type"] == "success" and ack["toast"]["content"].startswith("已完成并归档 · 发起人")
    shown = ack["card"]["data"]  # the completion card: the outcome, nothing left to submit
    assert not [e for e in shown["body"]["elements"] if e["tag"] in ("form", "button")]
    assert "**处理结果**：已完成并归档" in "".join(e.get("content", "") for e in shown["body"]["elements"])
    inputs = [e for e in card["content"]["body"]["elements"] if e["tag"] == "form"][0]["elements"]
    assert all(1 <= e["max_length"] <= 1000 for e in inputs if e["tag"] == "input")
    assert d.sql("SELECT open_issues, open_issues_reason FROM completions") == [(f'["{ISSUE}"]', "遗留问题转入运维跟进")]
    assert d.sql("SELECT state FROM requests WHERE id = ?", ID) == [("completed",)]
    doc = json.loads(open(d.library / "2026" / "Q4" / "2026-Q4-XMB-001.json", encoding="utf-8").read())
    assert doc["completion"]["open_issues"] == [ISSUE] and doc["retrospective"]["report"] is None
    jsonschema.validate(doc, json.load(open(os.path.join(REPO, "deploy", "archive.schema.json"), encoding="utf-8")))
    # A second completion meets the state table.
    assert "该需求已完成，待复盘，不能标记完成" in say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：x.pdf")


def test_archive_names_follow_the_quarter_of_archiving(sim, d):
    def through(rid, due):
        say(sim, "ou_init", FORM.replace("2026-12-31", due))
        say(sim, "ou_head", f"/需求 批准 {rid}")
        say(sim, "ou_mkt", f"/确认 {rid}")
        say(sim, "ou_fin", f"/确认 {rid}")
        sim.wait_for(lambda: d.sql("SELECT state FROM requests WHERE id = ?", rid) == [("in_progress",)])

    clock(d, 2026, 12, 30, 10)
    through("2026-Q4-JSB-001", "2027-01-31")
    through("2026-Q4-JSB-002", "2027-01-31")
    clock(d, 2026, 12, 31, 17, 59)
    assert "2026-Q4-XMB-001" in say(sim, "ou_init", "/需求 完成 2026-Q4-JSB-001\n交付物：a.pdf")
    clock(d, 2027, 1, 4, 9, 30)                                         # archived in the next quarter
    assert "2027-Q1-XMB-001" in say(sim, "ou_init", "/需求 完成 2026-Q4-JSB-002\n交付物：b.pdf")
    assert d.sql("SELECT name, request_id, dir FROM archives ORDER BY name") == [
        ("2026-Q4-XMB-001", "2026-Q4-JSB-001", "2026/Q4"), ("2027-Q1-XMB-001", "2026-Q4-JSB-002", "2027/Q1")]
    assert os.path.exists(d.library / "2027" / "Q1" / "2027-Q1-XMB-001.md")
    listing = say(sim, "ou_mkt", "/归档 列表")
    assert listing.index("2027-Q1-XMB-001") < listing.index("2026-Q4-XMB-001")
    assert "没有归档或需求" in say(sim, "ou_mkt", "/归档 2026-Q1-XMB-009")
