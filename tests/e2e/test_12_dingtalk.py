"""DingTalk Stream mode through the real binary: the same commands and
reminders as on Feishu, from the same workflow code."""

import json
import subprocess
import time

import pytest

from daemonctl import COLLABD_BIN, Daemon
from helpers import at, import_directory


def replies(dsim, conversation):
    return [m for m in dsim.messages() if m["conversation_id"] == conversation]


def test_connection_subscribes_and_help_is_answered_through_the_webhook(dsim, ding):
    d = ding()
    opens = dsim.state()["opens"]
    assert opens and opens[0]["accept_json"] is True
    topics = {s["topic"] for s in opens[0]["subscriptions"]}
    assert "/v1.0/im/bot/messages/get" in topics
    r = dsim.inject_message("cid_group1", "staff_alice", "/帮助", sender_nick="爱丽丝")
    dsim.wait_acked(r["msg_id"])
    m = dsim.wait_messages(1, conversation_id="cid_group1")[0]
    assert m["via"] == "webhook" and "/帮助（/help）" in m["text"]
    # Without the card template, /帮助 and the start-up log say how to get buttons.
    assert "dingtalk.card_template_id" in m["text"]
    assert "collabd dingtalk card-template" in d.log()
    # How to name someone on DingTalk (its mentions carry no id): by directory name.
    assert "请写此人在部门目录中的名字" in m["text"] and "/部门 查看" in m["text"]


def test_redelivered_message_is_applied_once(dsim, ding):
    d = ding()
    r = dsim.inject_message("cid_g", "staff_alice", "/帮助")
    dsim.wait_acked(r["msg_id"])
    dsim.redeliver(msg_id=r["msg_id"], force=True)
    dsim.wait_for(lambda: len([a for a in dsim.acks_for(r["msg_id"]) if a["code"] == 200]) >= 2)
    time.sleep(0.5)
    assert len(replies(dsim, "cid_g")) == 1
    assert d.stats()["inbox"]["duplicates"] == 1


def test_a_frame_written_with_escapes_reads_as_the_same_message(dsim, ding):
    """The callback's data is unescaped while the frame is read (issue 14): escapes
    of every kind in both layers -- \\u escapes, a surrogate pair, escaped quotes
    and slashes -- and heads too long for the reader's buffer on the stack."""
    d = ding()
    first = dsim.inject_message("cid_esc", "staff_alice", "你好")
    dsim.wait_acked(first["msg_id"])
    msg_id = 'msg_"引号"_😀'
    doc = dict(first["data"], msgId=msg_id, text={"content": "/帮助"})
    data = json.dumps(doc, ensure_ascii=True)
    assert "\\ud83d\\ude00" in data and '\\"' in data
    frame_id = "esc-é-" + "m" * 600
    frame = json.dumps({"specVersion": "1.0", "type": "CALLBACK",
                        "headers": {"appId": "x", "contentType": "application/json", "messageId": frame_id,
                                    "time": str(int(time.time() * 1000)), "topic": "/v1.0/im/bot/messages/get"},
                        "data": data}, ensure_ascii=True)
    frame = frame.replace("/v1.0/im/bot/messages/get", "\\/v1.0\\/im\\/bot\\/messages\\/get")
    assert dsim.raw_frame(frame)["sent"]
    dsim.wait_acked(frame_id)
    dsim.wait_for(lambda: [m for m in replies(dsim, "cid_esc") if "/帮助（/help）" in m["text"]], timeout=10)
    assert d.sql("SELECT COUNT(*) FROM inbox WHERE platform = 'dingtalk' AND dedupe_key = ?",
                 "msg:" + msg_id) == [(1,)]


def test_system_ping_is_echoed_and_disconnect_makes_before_it_breaks(dsim, ding):
    d = ding()
    dsim.system_ping()
    dsim.wait_for(lambda: dsim.state()["pings_answered"] >= 1)
    dsim.system("KEEPALIVE")
    dsim.disconnect(close_after=3)
    assert dsim.wait_disconnect_settled()["make_before_break"] is True
    r = dsim.inject_message("cid_g", "staff_alice", "/帮助")
    dsim.wait_acked(r["msg_id"], timeout=10)
    assert d.stats()["dingtalk"]["connects"] == 2


def test_drop_reconnects_with_a_fresh_ticket(dsim, ding):
    d = ding()
    dsim.drop()
    r = dsim.inject_message("cid_g", "staff_alice", "/帮助")
    dsim.wait_acked(r["msg_id"], timeout=15)
    tickets = [q["query"]["ticket"] for q in dsim.state()["ws_queries"]]
    assert len(tickets) == 2 and tickets[0] != tickets[1]
    assert "ticket=" not in d.log().replace("ticket=***", "")


def test_expired_webhook_falls_back_to_the_openapi_with_names(dsim, ding):
    ding()
    r = dsim.inject_message("cid_old", "staff_alice", "/帮助", webhook_valid_s=30)  # inside the safety margin
    dsim.wait_acked(r["msg_id"])
    m = dsim.wait_messages(1, conversation_id="cid_old")[0]
    assert m["via"] == "api"
    dsim.expire_webhooks()
    r2 = dsim.inject_message("cid_new", "staff_bob", "/帮助")
    dsim.wait_acked(r2["msg_id"])
    dsim.expire_webhooks()                       # the platform refuses the URL it just gave
    m2 = dsim.wait_messages(1, conversation_id="cid_new", timeout=10)[0]
    assert m2["via"] in ("webhook", "api")


def test_throttling_and_token_expiry_still_deliver_once(dsim, ding):
    d = ding()
    dsim.expire_webhooks()
    r = dsim.inject_message("cid_api", "staff_alice", "/帮助", webhook_valid_s=1)
    dsim.wait_acked(r["msg_id"])
    dsim.wait_messages(1, conversation_id="cid_api", timeout=10)
    dsim.expire_tokens()
    dsim.fail("/v1.0/robot/groupMessages/send", status=403, count=2)
    r2 = dsim.inject_message("cid_api", "staff_alice", "/状态", webhook_valid_s=1)
    dsim.wait_acked(r2["msg_id"])
    msgs = dsim.wait_messages(2, conversation_id="cid_api", timeout=20)
    assert msgs[1]["via"] == "api" and "运行状态" in msgs[1]["text"]
    assert d.stats()["dingtalk"]["throttled"] >= 2


def test_reminders_on_dingtalk_mention_with_at_user_ids(dsim, ding):
    d = ding(clock_control=True)
    # The chat's webhook is known from a message first.
    r = dsim.inject_message("cid_dl", "staff_owner", "/帮助", webhook_valid_s=86400 * 30)  # still valid on the test clock
    dsim.wait_messages(1, conversation_id="cid_dl")
    assert d.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 10)})[0] == 200
    people = {"owner": [{"id": "staff_owner", "name": "王接口"}], "head": [{"id": "staff_head", "name": "李主管"}]}
    status, body = d.admin("/debug/deadline", {"key": "dl-ding", "policy": "dept_confirm", "chat_id": "cid_dl",
                                               "subject": "需求 X · 技术部确认", "people": people,
                                               "platform": "dingtalk"})
    assert status == 200
    d.admin("/debug/clock", {"set_ms": at(2026, 12, 8, 10, 0, 1)})
    m = dsim.wait_messages(2, conversation_id="cid_dl", timeout=10)[1]
    assert m["msgtype"] == "markdown" and "已逾期" in m["text"]
    assert set(m["at_user_ids"]) == {"staff_owner", "staff_head"}
    assert "@staff_owner" in m["text"] and "/提醒 推迟 dl-ding" in m["text"]
    del r


def test_bad_credentials_stop_the_daemon(dsim, tmp_path):
    d = Daemon(dsim, tmp_path, platform="dingtalk")
    d.sim = type("S", (), {"app_secret": "wrong", "base_url": dsim.base_url, "client_id": dsim.client_id})()
    d.start(wait=False)
    assert d.proc.wait(timeout=15) == 78
    assert "refused the app" in d.log()


def test_chats_are_paced_side_by_side(dsim, ding):
    # 20 messages a minute per group (one each 3 s) and 20 a second for the
    # app: four groups with three replies each take about 6 s.  On a shared
    # store a chat's token taken while the app's bucket refused used to be
    # lost, holding that chat 3 s more each time: ~17 s for the same twelve.
    ding(production_pace=True)
    start = time.monotonic()
    for i in range(12):
        dsim.inject_message(f"cid_pace{i % 4}", "staff_alice", "/帮助")
    dsim.wait_for(lambda: sum(len(replies(dsim, f"cid_pace{c}")) for c in range(4)) == 12, timeout=40)
    assert time.monotonic() - start < 11


def test_kill_mid_stream_loses_nothing(dsim, ding):
    d = ding()
    sent = []
    for i in range(20):
        sent.append(dsim.inject_message(f"cid_k{i % 4}", "staff_alice", "/帮助"))
        if i == 8:
            d.kill()
            d.start(wait=False)
    d.wait_ready(timeout=15)
    for r in sent:
        dsim.wait_acked(r["msg_id"], timeout=30)
    sim_replies = lambda: sum(len(replies(dsim, f"cid_k{c}")) for c in range(4))  # noqa: E731
    dsim.wait_for(lambda: sim_replies() >= 20, timeout=30)
    assert d.sql("SELECT COUNT(*) FROM inbox")[0][0] == 20
    # No idempotency key on DingTalk: at least once, and only a send that was
    # on the wire at the kill can repeat.
    assert sim_replies() <= 21


def test_card_templates_create_update_and_callbacks(dsim, ding):
    d = ding(extra={"dingtalk": {"card_templates": {"status": "tpl-status.schema",
                                                    "sla_pings": "tpl-pings.schema"}}})
    r = dsim.inject_message("cid_card", "staff_alice", "/状态")
    dsim.wait_acked(r["msg_id"])
    card = dsim.wait_messages(1, conversation_id="cid_card", via="card")[0]
    otid = card["out_track_id"]
    assert card["card_data"]["version"] and card["card_data"]["connected"] == "已连接"
    assert len(otid) <= 64
    click = dsim.card_callback("cid_card", "staff_bob", otid, params={"action": "status.refresh"})
    ack = dsim.wait_acked(click["message_id"])
    assert ack["data"]["response"]["userPrivateData"]["cardParamMap"]["toast"] == "已刷新"
    dsim.wait_for(lambda: dsim.card(otid)["updates"], timeout=10)
    assert len([m for m in dsim.messages() if m["conversation_id"] == "cid_card"]) == 1  # updated, not resent
    gone = dsim.card_callback("cid_card", "staff_bob", otid, params={"action": "no.such"})
    ack = dsim.wait_acked(gone["message_id"])
    assert "失效" in ack["data"]["response"]["userPrivateData"]["cardParamMap"]["toast"]
    dsim.wait_for(lambda: d.stats()["dingtalk"]["via_card"] == 2)


def test_request_form_on_dingtalk_is_the_text_to_copy(dsim, ding):
    ding()
    r = dsim.inject_message("cid_req", "staff_alice", "/需求")
    dsim.wait_acked(r["msg_id"])
    m = dsim.wait_messages(1, conversation_id="cid_req")[0]
    assert "\n需求名称：" in m["text"] and "以上必填" in m["text"]


def test_steps_one_to_five_by_command_on_dingtalk(dsim, ding, tmp_path):
    import json
    import subprocess
    from daemonctl import COLLABD_BIN
    # The whole workflow in one group: lift the 20-a-minute group pacing (tested above).
    d = ding(extra={"dingtalk": {"rate_per_chat_per_minute": 600}})
    directory = {"users": [{"id": "staff_init", "name": "发起人"}, {"id": "staff_head", "name": "主管"},
                           {"id": "staff_mkt", "name": "市场"}, {"id": "staff_mkt2", "name": "市场二"}],
                 "departments": [{"code": "JSB", "name": "技术部", "head": "staff_head", "contacts": ["staff_init"]},
                                 {"code": "SCB", "name": "市场部", "head": "staff_mkt", "contacts": ["staff_mkt"]}]}
    path = tmp_path / "dir.json"
    path.write_text(json.dumps(directory, ensure_ascii=False))
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "import-directory", str(path)],
                       capture_output=True, text=True, env=d.env(), timeout=20)
    assert p.returncode == 0, p.stderr

    def say(user, text, n):
        dsim.inject_message("cid_flow", user, text)
        return dsim.wait_messages(n, conversation_id="cid_flow", timeout=10)[n - 1]

    form = ("/需求\n需求名称：发布会\n联系方式：1\n需求背景：新品\n具体任务：场地\n涉及部门：市场部\n"
            "期望完成时间：2099-12-31")
    assert "已提交需求" in say("staff_init", form, 1)["text"]
    approval = dsim.wait_messages(2, conversation_id="cid_flow")[1]
    assert approval["msgtype"] == "markdown" and "staff_head" in approval["at_user_ids"]
    request_id = d.sql("SELECT id FROM requests")[0][0]
    assert f"/需求 批准 {request_id}" in approval["text"]
    say("staff_head", f"/需求 批准 {request_id}", 3)
    after = dsim.wait_messages(4, conversation_id="cid_flow")[2:4]
    card = next(m for m in after if "待各部门确认" in m["text"])
    assert any("已由 主管 批准" in m["text"] for m in after)
    assert "staff_mkt" in card["at_user_ids"] and f"/确认 {request_id}" in card["text"]
    say("staff_mkt", f"/确认 {request_id}", 5)
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])
    # Step 3 on DingTalk: the start card names the owner and shows the lines to copy.
    start = dsim.wait_for(lambda: next((m for m in replies(dsim, "cid_flow") if "进入执行阶段" in m["text"]
                                        and m["msgtype"] == "markdown"), None), timeout=10)
    assert "staff_mkt" in start["at_user_ids"] and "市场部：市场" in start["text"]
    assert f"/进度 {request_id}  \n已完成任务：" in start["text"]
    dsim.inject_message("cid_flow", "staff_mkt", f"/进度 {request_id}\n已完成任务：场地已定\n下一步计划：彩排")
    reply = dsim.wait_for(lambda: next((m for m in replies(dsim, "cid_flow") if "已记录" in m["text"]), None),
                          timeout=10)
    assert "市场部" in reply["text"]
    assert d.sql("SELECT dept, author, done FROM progress_updates") == [("SCB", "staff_mkt", "场地已定")]
    # DingTalk mentions carry no ids we can match: "@name" is found in the directory.
    dsim.inject_message("cid_flow", "staff_mkt", f"/进度 负责人 {request_id} @市场二")
    wait = dsim.wait_for(lambda: next((m for m in replies(dsim, "cid_flow") if "进度负责人已改为 市场二" in m["text"]),
                                      None), timeout=10)
    assert "staff_mkt2" in wait["at_user_ids"]
    assert d.sql("SELECT user_id FROM progress_owners WHERE dept = 'SCB'") == [("staff_mkt2",)]

    # Step 5 on DingTalk: completion, the retrospective cards as lines to copy,
    # answers by command, and the report posted as markdown.
    def wait_text(fragment):
        return dsim.wait_for(lambda: next((m for m in replies(dsim, "cid_flow") if fragment in m["text"]), None),
                             timeout=15)

    dsim.inject_message("cid_flow", "staff_init", f"/需求 完成 {request_id}\n交付物：总结.pptx")
    wait_text("归档")
    retro = wait_text(f"复盘 · 需求 {request_id}")
    assert retro["msgtype"] == "markdown" and f"/复盘 {request_id}" in retro["text"]
    assert d.sql("SELECT state FROM requests") == [("completed",)]
    answer = "\n流程：顺畅\n同步：及时\n解决：无问题\n经验：每日站会\n不足：{}"
    dsim.inject_message("cid_flow", "staff_init", f"/复盘 {request_id}" + answer.format("审批可更快"))
    wait_text("1/2 个参与部门已提交")
    dsim.inject_message("cid_flow", "staff_mkt", f"/复盘 {request_id}" + answer.format("提前备物料"))
    report = wait_text("跨部门协作复盘报告")
    assert report["msgtype"] == "markdown" and "提前备物料" in report["text"]
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("archived",)])


# -- the generic card template (issue 17) ------------------------------------------------------

TPL = "collabd-generic.schema"


def templated(dsim, ding, extra=None, **kw):
    """A daemon whose workflow cards are the generic template, which the simulator checks."""
    dsim.set_config(generic_template_id=TPL)
    cfg = {"dingtalk": {"card_template_id": TPL, "rate_per_chat_per_minute": 600}}
    for key, value in (extra or {}).items():
        cfg.setdefault(key, {}).update(value)
    return ding(extra=cfg, **kw)


def load_directory(d, tmp_path, directory):
    p = import_directory(d, directory, tmp_path)
    assert p.returncode == 0, p.stderr


def cards(dsim, conversation):
    return [m for m in replies(dsim, conversation) if m["via"] == "card"]


def wait_card(dsim, conversation, title_part, after=0, timeout=10):
    """The first card after the first `after` cards whose title has title_part."""
    return dsim.wait_for(lambda: next((c for c in cards(dsim, conversation)[after:]
                                       if title_part in (c["card_data"].get("title") or "")), None),
                         timeout=timeout, message=f"no card titled *{title_part}*")


FLOW_DIRECTORY = {
    "users": [{"id": "staff_init", "name": "发起人"}, {"id": "staff_head", "name": "主管"},
              {"id": "staff_mkt", "name": "市场"}],
    "departments": [{"code": "JSB", "name": "技术部", "head": "staff_head", "contacts": ["staff_init"]},
                    {"code": "SCB", "name": "市场部", "head": "staff_mkt", "contacts": ["staff_mkt"]}]}
REQUEST_LINES = ("需求名称：发布会\n联系方式：1\n需求背景：新品\n具体任务：场地\n涉及部门：市场部\n"
                 "期望完成时间：2099-12-31")


def test_steps_one_to_five_by_clicking_on_dingtalk(dsim, ding, tmp_path):
    d = templated(dsim, ding)
    load_directory(d, tmp_path, FLOW_DIRECTORY)
    conv = "cid_click"

    def text(fragment):
        return dsim.wait_for(lambda: next((m for m in replies(dsim, conv) if fragment in m["text"] or
                                           fragment in (m.get("card_data") or {}).get("title", "")), None),
                             timeout=15, message=f"no message with {fragment!r}")

    # Step 1: the form is a card whose input holds the lines to fill in.
    dsim.inject_message(conv, "staff_init", "/需求")
    form = wait_card(dsim, conv, "需求信息表")
    assert form["callback_type"] == "STREAM" and form["card_template_id"] == TPL
    assert "需求名称：" in form["card_data"]["input_default"]
    dsim.card_click(form["out_track_id"], "staff_init", input=REQUEST_LINES)
    text("已提交需求")
    rid = d.sql("SELECT id FROM requests")[0][0]
    # Step 2: the approver is @-mentioned by atUserIds and named in the text.
    approval = wait_card(dsim, conv, "待审批")
    assert approval["at_user_ids"] == ["staff_head"] and "@主管" in approval["text"]
    assert "@staff_head" not in approval["text"] and not approval["text"].startswith("#")
    dsim.card_click(approval["out_track_id"], "staff_head", label="批准")
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("syncing",)], timeout=10)
    # Step 2 on: the departments confirm on the sync card, updated in place.
    sync = wait_card(dsim, conv, "待各部门确认")
    assert "staff_mkt" in sync["at_user_ids"]
    dsim.card_click(sync["out_track_id"], "staff_mkt", label="确认无误")
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)], timeout=10)
    dsim.wait_for(lambda: "执行中" in dsim.card(sync["out_track_id"])["card_data"]["title"], timeout=10)
    updated = dsim.card(sync["out_track_id"])
    assert updated["updates"][-1]["via"] == "api" and updated["card_data"]["has_buttons"] == "false"
    assert len([m for m in cards(dsim, conv) if m["out_track_id"] == sync["out_track_id"]]) == 1
    with pytest.raises(Exception, match="409"):  # its buttons are gone
        dsim.card_click(sync["out_track_id"], "staff_mkt", label="确认无误")
    # Step 3: the progress form, filled in the start card's input.
    start = dsim.wait_for(lambda: next((c for c in cards(dsim, conv) if "进入执行阶段" in c["text"]), None),
                          timeout=10)
    assert start["card_data"]["has_input"] == "true" and "已完成任务：" in start["card_data"]["input_default"]
    dsim.card_click(start["out_track_id"], "staff_mkt", input="已完成任务：场地已定\n下一步计划：彩排")
    text("已记录")
    assert d.sql("SELECT dept, author, done FROM progress_updates") == [("SCB", "staff_mkt", "场地已定")]
    # Step 5: completion and the retrospective, each in its card's input.
    n = len(cards(dsim, conv))
    dsim.inject_message(conv, "staff_init", f"/需求 完成 {rid}")
    done = wait_card(dsim, conv, "完成需求", after=n)
    dsim.card_click(done["out_track_id"], "staff_init", input="交付物：总结.pptx")
    text("归档")
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("completed",)], timeout=10)
    answer = "流程：顺畅\n同步：及时\n解决：无问题\n经验：每日站会\n不足：{}"
    retros = dsim.wait_for(lambda: [c for c in cards(dsim, conv) if "复盘" in c["card_data"]["title"]
                                    and c["card_data"]["has_input"] == "true"][1:] and
                           [c for c in cards(dsim, conv) if "复盘" in c["card_data"]["title"]], timeout=15)
    by_dept = {"JSB": "staff_init", "SCB": "staff_mkt"}
    for code, user in by_dept.items():
        card = next(c for c in retros if code in c["card_data"]["input_value"])
        dsim.card_click(card["out_track_id"], user, input=answer.format(f"{code} 的不足"))
        # The answered card is updated in place: its input is gone.
        dsim.wait_for(lambda: dsim.card(card["out_track_id"])["card_data"]["has_input"] == "false", timeout=10)
    report = text("跨部门协作复盘报告")
    assert "SCB 的不足" in report["text"]
    dsim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("archived",)], timeout=10)
    assert d.stats()["dingtalk"]["via_card"] >= 6


def test_reject_with_the_cards_input(dsim, ding, tmp_path):
    d = templated(dsim, ding)
    load_directory(d, tmp_path, FLOW_DIRECTORY)
    dsim.inject_message("cid_rej", "staff_init", "/需求\n" + REQUEST_LINES)
    approval = wait_card(dsim, "cid_rej", "待审批")
    # The reason goes with the input's own request, as the form field "reason".
    dsim.card_click(approval["out_track_id"], "staff_head", input="预算不足")
    dsim.wait_for(lambda: d.sql("SELECT state, reason FROM requests") == [("rejected", "预算不足")], timeout=10)


def test_standard_card_clicks_never_come_over_stream(dsim, ding):
    d = templated(dsim, ding)
    r = dsim.inject_message("cid_std", "staff_alice", "/帮助")
    assert "card_template_id" not in dsim.wait_messages(1, conversation_id="cid_std")[0]["text"]
    assert "workflow cards use the card template" in d.log()
    r = dsim.inject_message("cid_std", "staff_alice", "/状态")
    dsim.wait_acked(r["msg_id"])
    card = dsim.wait_messages(1, conversation_id="cid_std", via="card")[0]
    assert card["callback_type"] == "STREAM"
    click = dsim.card_click(card["out_track_id"], "staff_alice", label="刷新")
    assert dsim.wait_acked(click["message_id"])["data"]["response"]["userPrivateData"]["cardParamMap"]["toast"]
    # A StandardCard (no template) is shown, but the platform never calls back over Stream.
    token = dsim.access_token()
    status, _, _ = dsim.call("POST", "/v1.0/im/v1.0/robot/interactiveCards/send", {
        "cardTemplateId": "StandardCard", "cardBizId": "std-1", "robotCode": dsim.client_id,
        "openConversationId": "cid_std", "cardData": "{}"},
        headers={"x-acs-dingtalk-access-token": token})
    assert status == 200
    with pytest.raises(Exception, match="409"):
        dsim.card_callback("cid_std", "staff_alice", "std-1", params={"action": "status.refresh"})


def test_a_card_that_reached_no_one_is_sent_as_a_message(dsim, ding):
    # createAndDeliver answers success:true with the space's own success:false.
    d = ding(extra={"dingtalk": {"card_templates": {"status": "tpl-status.schema"}}})
    dsim.set_config(undeliverable=["cid_gone"])
    r = dsim.inject_message("cid_gone", "staff_alice", "/状态")
    dsim.wait_acked(r["msg_id"])
    m = dsim.wait_messages(1, conversation_id="cid_gone")[0]
    assert m["via"] == "webhook" and "运行状态" in m["text"]
    assert d.stats()["dingtalk"]["via_card"] == 0
    assert "card reached no one" in d.log()


def test_card_template_file_matches_the_parameters(dsim):
    from dt_cards import GENERIC_KEYS
    p = subprocess.run([COLLABD_BIN, "dingtalk", "card-template"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    exported = json.loads(p.stdout)
    assert exported["type"] == "im" and exported["mode"] == "card"
    editor = json.loads(exported["editorData"])
    assert editor["schemaVersion"] == "3.0.0"
    names = {v["name"] for v in editor["variableList"]}
    assert names == set(GENERIC_KEYS)
    loop = next(v for v in editor["variableList"] if v["name"] == "buttons")
    assert loop["type"] == "loopArray" and {s["name"] for s in loop["schema"]} == {
        "buttons[0].label", "buttons[0].style", "buttons[0].value"}
    # The mock data (arrays as the editor holds them; cards send them as JSON
    # strings) is a card the simulator accepts.
    from dt_cards import generic_problems
    mock = {k: v if isinstance(v, str) else json.dumps(v) for k, v in editor["mockData"]["cardData"].items()}
    assert generic_problems(mock) == []


def overdue_ping(dsim, d):
    """A department confirmation overdue on the test clock, in a group whose
    sessionWebhook expired long before; returns the message that pings."""
    r = dsim.inject_message("cid_late", "staff_owner", "/帮助")
    dsim.wait_acked(r["msg_id"])
    dsim.wait_messages(1, conversation_id="cid_late")
    dsim.expire_webhooks()  # about 90 minutes after the last @bot message
    assert d.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 10)})[0] == 200
    people = {"owner": [{"id": "staff_owner", "name": "王接口"}], "head": [{"id": "staff_head", "name": "李主管"}]}
    status, _ = d.admin("/debug/deadline", {"key": "dl-late", "policy": "dept_confirm", "chat_id": "cid_late",
                                            "subject": "需求 X · 技术部确认", "people": people,
                                            "platform": "dingtalk"})
    assert status == 200
    d.admin("/debug/clock", {"set_ms": at(2026, 12, 8, 10, 0, 1)})
    return dsim.wait_messages(2, conversation_id="cid_late", timeout=10)[1]


def test_pings_after_the_webhook_expired_notify_through_the_card(dsim, ding):
    d = templated(dsim, ding, clock_control=True)
    m = overdue_ping(dsim, d)
    assert m["via"] == "card" and m["callback_type"] == "STREAM"
    assert set(m["at_user_ids"]) == {"staff_owner", "staff_head"}
    assert "@王接口" in m["text"] and "已逾期" in m["text"]
    buttons = [b["label"] for b in json.loads(m["card_data"]["buttons"])]
    assert "1 小时后再提醒" in buttons
    click = dsim.card_click(m["out_track_id"], "staff_owner", label="1 小时后再提醒")
    dsim.wait_acked(click["message_id"])
    dsim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM deadlines WHERE key = 'dl-late' AND state = 'open'")[0][0] == 1)
    assert d.stats()["dingtalk"]["mentions_unnotified"] == 0


def test_pings_after_the_webhook_expired_without_a_template_say_so(dsim, ding):
    d = ding(clock_control=True)
    m = overdue_ping(dsim, d)
    assert m["via"] == "api" and m["at_user_ids"] == [] and "@王接口" in m["text"]
    dsim.wait_for(lambda: d.stats()["dingtalk"]["mentions_unnotified"] == 1)
    assert "dingtalk.card_template_id" in d.log()
    from prom import scrape
    assert scrape(d).get("collabd_dingtalk_mentions_unnotified_total") == 1


def test_per_kind_ping_card_names_people_without_their_ids(dsim, ding):
    # The simulator notes "@<userId>" text and a heading repeating the title
    # as problems; the dsim fixture fails the test on any.
    d = ding(clock_control=True, extra={"dingtalk": {"card_templates": {"sla_pings": "tpl-pings.schema"}}})
    m = overdue_ping(dsim, d)
    assert m["via"] == "card" and set(m["at_user_ids"]) == {"staff_owner", "staff_head"}
    assert "@王接口" in m["card_data"]["content"] and not m["problems"]


def test_a_typed_approval_closes_the_approval_card_on_dingtalk(dsim, ding, tmp_path):
    d = templated(dsim, ding)
    load_directory(d, tmp_path, FLOW_DIRECTORY)
    dsim.inject_message("cid_typed", "staff_init", "/需求\n" + REQUEST_LINES)
    approval = wait_card(dsim, "cid_typed", "待审批")
    rid = d.sql("SELECT id FROM requests")[0][0]
    dsim.inject_message("cid_typed", "staff_head", f"/需求 批准 {rid}")
    dsim.wait_for(lambda: dsim.card(approval["out_track_id"])["card_data"]["has_buttons"] == "false", timeout=10)
    now = dsim.card(approval["out_track_id"])
    assert "处理结果" in json.dumps(now["card_data"], ensure_ascii=False) and "已批准 · 主管" in json.dumps(
        now["card_data"], ensure_ascii=False)
    assert len([m for m in cards(dsim, "cid_typed") if m["out_track_id"] == approval["out_track_id"]]) == 1
