"""Step 2 through the binary: the approved request goes to every involved
department on one card updated in place; contacts confirm (signed) or object;
when everyone has confirmed the request is in progress."""

import pytest

from helpers import DIRECTORY, FORM, ID, at, import_directory, replies_to


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True)
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    daemon.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    return daemon


def say(sim, user, text):
    r = sim.inject_message("oc_sync", user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def request_card(sim):
    cards = [m for m in sim.messages() if m["msg_type"] == "interactive"
             and m["content"]["header"]["title"]["content"].startswith(f"📋 需求 {ID}")]
    return cards[0] if cards else None


def latest(card):
    """The card as it looks now: redrawn by a click's reply or a PATCH, or as sent."""
    return card["shown"]


def approved(sim, d):
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    return sim.wait_for(lambda: request_card(sim), timeout=10)


def test_sync_mentions_every_department_and_asks_for_answers(sim, d):
    card = approved(sim, d)
    md = card["content"]["body"]["elements"][0]["content"]
    for who in ("ou_mkt", "ou_fin", "ou_finboss"):
        assert f"<at id={who}></at>" in md
    assert "市场部：⏳ 待确认" in md and "财务部：⏳ 待确认" in md
    buttons = [e for e in card["content"]["body"]["elements"] if e["tag"] == "button"]
    assert buttons[0]["behaviors"][0]["value"] == {"action": "req.confirm", "id": ID}
    assert {k for (k,) in d.sql("SELECT key FROM deadlines WHERE state = 'open'")} == {
        f"req:{ID}:confirm:SCB", f"req:{ID}:confirm:CWB"}


def test_confirm_sign_object_and_in_progress(sim, d):
    card = approved(sim, d)
    # Only a contact of an involved department may answer, and is told who may.
    click = sim.card_action("oc_sync", "ou_head", card["message_id"], {"action": "req.confirm", "id": ID})
    toast = sim.wait_acked(click["event_id"])["data"]["toast"]
    assert toast["type"] == "error" and "市场部 接口人 市场王" in toast["content"] and "财务部 接口人 财务钱" in toast["content"]

    text = say(sim, "ou_mkt", f"/确认 {ID}")
    assert "市场部 已确认需求" in text and "第 1 版，签名" in text
    row = d.sql("SELECT state, signed_by, version, hash FROM request_depts WHERE dept = 'SCB'")[0]
    assert row[:3] == ("confirmed", "ou_mkt", 1) and len(row[3]) == 16
    sim.wait_for(lambda: "市场部：✅ 已确认（市场王）" in
                 latest(request_card(sim))["body"]["elements"][0]["content"], timeout=10)
    assert len([m for m in sim.messages() if m["msg_type"] == "interactive"
                and m["content"]["header"]["title"]["content"].startswith("📋 需求")]) == 1  # in place

    # An objection needs both parts; from the card's form it is recorded.
    assert "需要写明两项" in say(sim, "ou_fin", f"/异议 {ID}\n说明：时间太紧")
    click = sim.card_action("oc_sync", "ou_fin", card["message_id"], {"action": "req.object", "id": ID},
                            form_value={"explanation": "预算审批需要两周", "proposal": "截止时间延后到 1 月 15 日"})
    assert sim.wait_acked(click["event_id"])["data"]["toast"]["type"] == "success"
    assert d.sql("SELECT dept, explanation, proposal, state FROM objections") == [
        ("CWB", "预算审批需要两周", "截止时间延后到 1 月 15 日", "open")]
    note = sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "interactive"
                                 and "待发起人答复" in m["content"]["header"]["title"]["content"]])[0]["content"]
    text = "".join(e.get("content", "") for e in note["body"]["elements"])
    assert "<at id=ou_init></at>" in text and "2 个工作日内答复" in text and "预算审批需要两周" in text
    assert d.sql("SELECT state FROM requests") == [("syncing",)]
    assert "没有待确认的部门" in say(sim, "ou_fin", f"/确认 {ID}")   # CWB has answered (objected)


def test_all_confirmed_moves_to_in_progress(sim, d):
    approved(sim, d)
    assert f"等我处理：\n{ID}「新品发布会」· 待各部门确认" in say(sim, "ou_mkt", "/需求 列表")
    assert f"我发起的：\n{ID}" in say(sim, "ou_init", "/需求 列表")
    say(sim, "ou_mkt", f"/确认 {ID}")
    assert "等我处理" not in say(sim, "ou_mkt", "/需求 列表")
    say(sim, "ou_fin", f"/确认 {ID} 财务部")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])
    sim.wait_for(lambda: [m for m in sim.messages() if m["msg_type"] == "interactive"
                          and m["content"]["header"]["title"]["content"] == f"🚀 需求 {ID} 进入执行阶段"])
    # Only the first day of progress is left to come (step 3).
    assert d.sql("SELECT key FROM deadlines WHERE state = 'open'") == [(f"req:{ID}:progress:2026-11-30",)]
    sim.wait_for(lambda: "执行中" in latest(request_card(sim))["header"]["title"]["content"])
    view = say(sim, "ou_init", f"/需求 查看 {ID}")
    assert "执行中 · 第 1 版（共 1 版）" in view
    assert "市场部：已确认（市场王，" in view and "签名" in view
    assert "记录：" in view and "技术主管 批准" in view and "进入执行" in view


def pings(sim):
    return [m for m in sim.messages() if m["msg_type"] == "interactive"
            and "协作提醒" in m["content"]["header"]["title"]["content"]]


def ping_text(m):
    return m["content"]["body"]["elements"][0]["content"]


def test_confirmation_deadlines_across_national_day(sim, make_daemon, tmp_path):
    directory = dict(DIRECTORY)
    directory["users"] = DIRECTORY["users"] + [{"id": "ou_cfo", "name": "CFO"}]
    directory["departments"] = [dict(x) for x in DIRECTORY["departments"]]
    directory["departments"][2]["superior"] = "ou_cfo"
    d = make_daemon(clock_control=True)
    assert import_directory(d, directory, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 9, 30, 17)})           # Wednesday before the holiday
    say(sim, "ou_init", FORM.replace("2026-12-31", "2026-10-31"))
    say(sim, "ou_head", f"/需求 批准 {ID.replace('Q4', 'Q3')}")
    rid = ID.replace("Q4", "Q3")
    due = d.sql(f"SELECT due_at FROM deadlines WHERE key = 'req:{rid}:confirm:CWB'")[0][0]
    assert due == at(2026, 10, 8, 17)                                   # 1 h + 8 h after the holiday
    d.admin("/debug/clock", {"set_ms": at(2026, 10, 5, 12)})            # in the holiday: nothing
    time_ok = sim.wait_for(lambda: d.stats()["outbox"]["pending"] == 0)
    assert time_ok and pings(sim) == []
    d.admin("/debug/clock", {"set_ms": at(2026, 10, 8, 15, 0, 1)})      # 2 business hours before
    first = sim.wait_for(lambda: pings(sim), timeout=10)[0]
    assert "<at id=ou_fin></at>" in ping_text(first) and "<at id=ou_mkt></at>" in ping_text(first)
    say(sim, "ou_mkt", f"/确认 {rid}")                                   # 市场部 answers: its pings stop
    d.admin("/debug/clock", {"set_ms": at(2026, 10, 8, 17, 0, 1)})      # due: contact and head
    sim.wait_for(lambda: len(pings(sim)) == 2, timeout=10)
    overdue = ping_text(pings(sim)[1])
    assert "已逾期" in overdue and "ou_fin" in overdue and "ou_finboss" in overdue and "ou_mkt" not in overdue
    d.admin("/debug/clock", {"set_ms": at(2026, 10, 9, 12, 0, 1)})      # +4 business hours: the superior
    sim.wait_for(lambda: len(pings(sim)) == 3, timeout=10)
    assert "<at id=ou_cfo></at>" in ping_text(pings(sim)[2]) and "已升级" in ping_text(pings(sim)[2])


def test_dedicated_chat_for_the_approved_request(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True, extra={"requests": {"dedicated_chat": True}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    chat = sim.wait_for(lambda: sim.chats(), timeout=10)[0]
    assert chat["name"] == f"需求 {ID} · 新品发布会"
    assert set(chat["members"]) == {"ou_init", "ou_head", "ou_mkt", "ou_fin", "ou_finboss"}
    card = sim.wait_for(lambda: request_card(sim), timeout=10)
    assert card["chat_id"] == chat["chat_id"]                      # the card lives in the new group
    assert any("问题沟通群" in m["content"]["text"] for m in sim.messages()
               if m["msg_type"] == "text" and m["chat_id"] == "oc_sync")
    r = sim.inject_message(chat["chat_id"], "ou_mkt", f"/确认 {ID}")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]))
    sim.wait_for(lambda: "市场部：✅ 已确认" in latest(request_card(sim))["body"]["elements"][0]["content"])


def test_dedicated_chat_that_cannot_be_created_falls_back(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True, extra={"requests": {"dedicated_chat": True}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    say(sim, "ou_init", FORM)
    sim.fail("/open-apis/im/v1/chats", status=400, code=232043, count=1, msg="no permission to create chats")
    say(sim, "ou_head", f"/需求 批准 {ID}")
    card = sim.wait_for(lambda: request_card(sim), timeout=10)
    assert card["chat_id"] == "oc_sync" and sim.chats() == []
