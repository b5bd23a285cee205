"""Step 4's main path on DingTalk, by command: the alert is markdown that
@-mentions with atUserIds and shows the commands to type; there is no buzz
(DingTalk has no urgent_app), only the mentions."""

import datetime
import json
import subprocess

from daemonctl import COLLABD_BIN
from helpers import SH

CONV = "cid_issue"
DIRECTORY = {
    "users": [{"id": "staff_init", "name": "发起人"}, {"id": "staff_head", "name": "主管"},
              {"id": "staff_fin", "name": "财务"}, {"id": "staff_finboss", "name": "财务总"},
              {"id": "staff_cfo", "name": "CFO"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "staff_head", "contacts": ["staff_init"]},
        {"code": "CWB", "name": "财务部", "head": "staff_finboss", "contacts": ["staff_fin"], "superior": "staff_cfo"},
    ],
}


def local(minutes_from_now):
    """A time the form accepts, relative to now.  DingTalk runs on the real
    clock here: the simulator's sessionWebhook expiry is real time too."""
    t = datetime.datetime.now(SH) + datetime.timedelta(minutes=minutes_from_now)
    return t.strftime("%Y-%m-%d %H:%M")


def test_issue_main_path_by_command_on_dingtalk(dsim, ding, tmp_path):  # noqa: F811
    # DingTalk paces a group to 20 messages a minute; this conversation is busier.
    d = ding(extra={"issues": {"urgent_app": True},
                                        "dingtalk": {"rate_per_chat_per_minute": 600}})
    path = tmp_path / "dir.json"
    path.write_text(json.dumps(DIRECTORY, ensure_ascii=False))
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "import-directory", str(path)],
                       capture_output=True, text=True, env=d.env(), timeout=20)
    assert p.returncode == 0, p.stderr

    def posted(part):
        return [m for m in dsim.messages() if m["conversation_id"] == CONV and part in m["text"]]

    def say(user, text, expect):
        """Sends text and returns the first new message containing expect."""
        before = len(posted(expect))
        dsim.inject_message(CONV, user, text)
        return dsim.wait_for(lambda: posted(expect)[before:], timeout=10)[0]

    say("staff_init", "/需求\n需求名称：结算\n联系方式：1\n需求背景：年终\n具体任务：接口\n涉及部门：财务部\n"
                      "期望完成时间：2099-12-31", "已提交需求")
    rid = d.sql("SELECT id FROM requests")[0][0]
    say("staff_head", f"/需求 批准 {rid}", "批准")
    say("staff_fin", f"/确认 {rid}", "已确认需求")
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])
    issue = f"{rid}-P01"

    form = say("staff_init", "/问题", "跨部门协作问题反馈表")
    assert "关联需求：需求编号" in form["text"] and "严重程度：紧急|重要|一般" in form["text"]
    assert f"发生时间：{local(0)}" in form["text"] or f"发生时间：{local(-1)}" in form["text"]
    text = say("staff_init", f"/问题\n关联需求：{rid}\n问题类型：流程\n严重程度：紧急\n影响范围：月结\n"
                             f"问题描述：审批卡住\n发生时间：{local(-5)}\n接收部门：财务部", "已提交问题")["text"]
    assert f"已提交问题 {issue}" in text
    alert = dsim.wait_for(lambda: posted("⚠️ 问题预警"), timeout=10)[0]
    assert alert["msgtype"] == "markdown"
    assert {"staff_finboss", "staff_fin", "staff_cfo"} <= set(alert["at_user_ids"])
    assert f"/问题 响应 {issue}" in alert["text"]
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'urgent'")[0][0] == 0

    # The lines to copy carry an example meeting time derived from the clock and the
    # issue's 30-minute limit: sent as they are (only the person filled in), they pass.
    template = alert["text"].split("复制下面几行，填好后发送")[1]
    lines = [line.strip() for line in template.split("\n") if line.strip()][:5]
    assert lines[0] == f"/问题 响应 {issue}" and lines[2].startswith("会议时间：")
    meeting = datetime.datetime.strptime(lines[2][5:], "%Y-%m-%d %H:%M").replace(tzinfo=SH)
    assert datetime.datetime.now(SH) < meeting <= datetime.datetime.now(SH) + datetime.timedelta(minutes=31)
    lines[1] = "解决责任人：财务"
    text = say("staff_fin", "\n".join(lines), "问题")["text"]
    assert f"已响应问题 {issue}" in text
    say("staff_fin", f"/问题 方案 {issue}\n问题原因：审批人休假\n解决措施：设置代理人\n责任人：财务\n"
                     f"完成时间：{local(24 * 60)}", "解决方案")
    record = dsim.wait_for(lambda: posted("问题解决方案记录"), timeout=10)[0]
    assert "staff_init" in record["at_user_ids"] and f"/问题 解决 {issue}" not in record["text"]
    assert "已解决并关闭" in say("staff_fin", f"/问题 解决 {issue}\n解决结果：代理人已审批", "已解决并关闭")["text"]
    assert d.sql("SELECT state, severity, report_late FROM issues") == [("resolved", "紧急", 0)]
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open' AND key LIKE '%:issue:%'")[0][0] == 0
    assert d.sql("SELECT state FROM deadlines WHERE key LIKE '%:issue:%' ORDER BY key") == [("met",), ("met",)]


def test_issue_main_path_by_clicking_on_dingtalk(dsim, ding, tmp_path):  # noqa: F811
    """The same path with the generic card template: the report form, the
    response and the solution typed into the card's input, the result in the
    one-field input; the alert @-mentions through atUserIds even after the
    group's sessionWebhook expired."""
    from test_12_dingtalk import TPL, cards, load_directory, templated
    d = templated(dsim, ding)
    load_directory(d, tmp_path, DIRECTORY)
    conv = "cid_issue_click"

    def posted(part):
        return [m for m in dsim.messages() if m["conversation_id"] == conv and
                (part in m["text"] or part in (m.get("card_data") or {}).get("title", ""))]

    def wait(part, before=0):
        return dsim.wait_for(lambda: posted(part)[before:], timeout=10, message=f"nothing with {part!r}")[0]

    dsim.inject_message(conv, "staff_init", "/需求\n需求名称：结算\n联系方式：1\n需求背景：年终\n具体任务：接口\n"
                                            "涉及部门：财务部\n期望完成时间：2099-12-31")
    approval = wait("待审批")
    rid = d.sql("SELECT id FROM requests")[0][0]
    dsim.card_click(approval["out_track_id"], "staff_head", label="批准")
    sync = wait("待各部门确认")
    dsim.card_click(sync["out_track_id"], "staff_fin", label="确认无误")
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)], timeout=10)
    dsim.inject_message(conv, "staff_init", "/问题")
    form = wait("跨部门协作问题反馈表")
    assert form["via"] == "card" and "严重程度：" in form["card_data"]["input_default"]
    # Everyone's webhook expires: the alert must still @ the people it names.
    dsim.expire_webhooks()
    dsim.card_click(form["out_track_id"], "staff_init",
                    input=f"关联需求：{rid}\n问题类型：流程\n严重程度：紧急\n影响范围：月结\n问题描述：审批卡住\n"
                          f"发生时间：{local(-5)}\n接收部门：财务部")
    alert = wait("⚠️ 问题预警")
    assert alert["via"] == "card" and alert["card_template_id"] == TPL
    assert {"staff_finboss", "staff_fin", "staff_cfo"} <= set(alert["at_user_ids"])
    assert alert["card_data"]["has_input"] == "true"
    dsim.card_click(alert["out_track_id"], "staff_fin",
                    input=f"解决责任人：财务\n会议时间：{local(10)}\n会议形式：线下\n会议地点：财务部会议室")
    dsim.wait_for(lambda: d.sql("SELECT state FROM issues") == [("responded",)], timeout=10)
    # The same card is updated in place and now asks for the solution.
    dsim.wait_for(lambda: "问题原因" in dsim.card(alert["out_track_id"])["card_data"]["input_default"], timeout=10)
    dsim.card_click(alert["out_track_id"], "staff_fin",
                    input=f"问题原因：审批人休假\n解决措施：设置代理人\n责任人：财务\n完成时间：{local(24 * 60)}")
    dsim.wait_for(lambda: d.sql("SELECT state FROM issues") == [("solution_recorded",)], timeout=10)
    dsim.wait_for(lambda: "solution" not in dsim.card(alert["out_track_id"])["card_data"]["input_value"] and
                  "issue.resolve" in dsim.card(alert["out_track_id"])["card_data"]["input_value"], timeout=10)
    # One field: the text comes back as that form field, to the same action as Feishu's.
    dsim.card_click(alert["out_track_id"], "staff_fin", input="代理人已审批")
    dsim.wait_for(lambda: d.sql("SELECT state FROM issues") == [("resolved",)], timeout=10)
    assert d.sql("SELECT COUNT(*) FROM deadlines WHERE state = 'open' AND key LIKE '%:issue:%'")[0][0] == 0
    assert len([c for c in cards(dsim, conv) if c["out_track_id"] == alert["out_track_id"]]) == 1
