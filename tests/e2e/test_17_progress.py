"""Step 3 through the binary with the test clock: progress owners, daily
updates (amended, late), the 16:00 reminder, the 17:00 overdue ping and
escalation after repeated misses, the digest, /看板, and every refusal."""

import pytest

from helpers import FORM, ID, at, import_directory, replies_to

DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_mkt2", "name": "市场小李"},
              {"id": "ou_fin", "name": "财务钱"}, {"id": "ou_finboss", "name": "财务总"},
              {"id": "ou_ceo", "name": "总经理"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt", "ou_mkt2"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_ceo"},
    ],
}
CHAT = "oc_prog"


def say(sim, user, text, chat=CHAT):
    r = sim.inject_message(chat, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]


def text_of(msg):
    if msg["msg_type"] == "text":
        return msg["content"]["text"]
    return "\n".join(e.get("content", "") for e in msg["content"]["body"]["elements"] if e["tag"] == "markdown")


def cards(sim, prefix):
    return [m for m in sim.messages() if m["msg_type"] == "interactive"
            and m["content"]["header"]["title"]["content"].startswith(prefix)]


def set_clock(d, *a):
    d.admin("/debug/clock", {"set_ms": at(*a)})


def post(sim, user, done="完成了今天的任务", undone="", nxt="明天继续", extra=""):
    return text_of(say(sim, user, f"/进度 {ID}\n已完成任务：{done}\n未完成原因：{undone}\n下一步计划：{nxt}{extra}"))


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True)
    r = import_directory(daemon, DIRECTORY, tmp_path)
    assert r.returncode == 0, r.stderr
    set_clock(daemon, 2026, 11, 30, 9, 30)   # Monday
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    say(sim, "ou_mkt", f"/确认 {ID}")
    say(sim, "ou_fin", f"/确认 {ID}")
    sim.wait_for(lambda: cards(sim, f"🚀 需求 {ID} 进入执行阶段"), timeout=10)
    return daemon


def test_start_names_owners_and_sets_the_first_day(sim, d):
    start = cards(sim, f"🚀 需求 {ID}")[0]
    md = text_of(start)
    assert "<at id=ou_mkt></at>" in md and "<at id=ou_fin></at>" in md
    assert "市场部：市场王" in md and "财务部：财务钱" in md and "第一次：2026-11-30" in md
    form = [e for e in start["content"]["body"]["elements"] if e["tag"] == "form"][0]
    assert [e["name"] for e in form["elements"] if e["tag"] == "input"] == ["done", "undone", "next"]
    assert d.sql("SELECT dept, user_id FROM progress_owners ORDER BY dept") == [("CWB", "ou_fin"), ("SCB", "ou_mkt")]
    assert d.sql("SELECT key, due_at FROM deadlines WHERE state = 'open'") == [
        (f"req:{ID}:progress:2026-11-30", at(2026, 11, 30, 17))]


@pytest.mark.valgrind
def test_a_week_with_one_department_late_twice(sim, d):
    # Monday: both on time; the 16:00 reminder has nobody to remind.
    set_clock(d, 2026, 11, 30, 11)
    assert "已记录 2026-11-30 市场部" in post(sim, "ou_mkt", done="场地已签约")
    set_clock(d, 2026, 11, 30, 15)
    assert "财务部" in post(sim, "ou_fin", done="预算已批")
    set_clock(d, 2026, 11, 30, 17, 0, 30)
    digest = sim.wait_for(lambda: cards(sim, f"📊 进度看板 · 需求 {ID} · 2026-11-30"), timeout=10)[0]
    md = text_of(digest)
    assert "2/2 个部门已提交" in md and "**逾期未提交**：无" in md and "场地已签约" in md and "预算已批" in md
    assert "还剩 23 个工作日" in md            # Tue Dec 1 .. Thu Dec 31 2026: 23 weekdays
    assert not cards(sim, "⏰ 协作提醒") and not cards(sim, "⏰ 进度逾期")

    # Tuesday: finance forgets.  16:00 reminds only its owner; 17:00 pings owner and head.
    set_clock(d, 2026, 12, 1, 10)
    post(sim, "ou_mkt")
    set_clock(d, 2026, 12, 1, 16, 0, 30)
    reminder = sim.wait_for(lambda: cards(sim, "⏰ 协作提醒"), timeout=10)[0]
    assert "<at id=ou_fin></at>" in text_of(reminder) and "ou_mkt" not in text_of(reminder)
    assert "今日进度未提交：财务部" in text_of(reminder)
    set_clock(d, 2026, 12, 1, 17, 0, 30)
    overdue = sim.wait_for(lambda: cards(sim, f"⏰ 进度逾期 · 需求 {ID} · 2026-12-01"), timeout=10)[0]
    md = text_of(overdue)
    assert "<at id=ou_fin></at>" in md and "<at id=ou_finboss></at>" in md and "ou_ceo" not in md
    assert "财务部（进度负责人 财务钱）：未按时提交" in md
    digest = sim.wait_for(lambda: cards(sim, f"📊 进度看板 · 需求 {ID} · 2026-12-01"), timeout=10)[0]
    assert "1/2 个部门已提交" in text_of(digest) and "**逾期未提交**：财务部（财务钱）" in text_of(digest)
    assert "财务部（财务钱） · ❗ 未提交" in text_of(digest)
    # A late update is accepted and marked late.
    set_clock(d, 2026, 12, 1, 17, 30)
    assert "记为逾期提交" in post(sim, "ou_fin")
    assert d.sql("SELECT state FROM progress_days WHERE dept = 'CWB' AND day = '2026-12-01'") == [("late",)]

    # Wednesday: finance misses again -> the superior is told.
    set_clock(d, 2026, 12, 2, 10)
    post(sim, "ou_mkt")
    set_clock(d, 2026, 12, 2, 17, 0, 30)
    overdue = sim.wait_for(lambda: cards(sim, f"⏰ 进度逾期 · 需求 {ID} · 2026-12-02"), timeout=10)[0]
    md = text_of(overdue)
    assert "<at id=ou_ceo></at>" in md and "已连续 2 个工作日，已上报上级" in md
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE kind = 'progress.escalated'") == [(1,)]

    # Thursday: both on time; finance amends its update (history kept).
    set_clock(d, 2026, 12, 3, 10)
    post(sim, "ou_mkt")
    post(sim, "ou_fin", done="第一版")
    assert "当天第 2 次提交" in post(sim, "ou_fin", done="修改后的版本")
    set_clock(d, 2026, 12, 3, 17, 0, 30)
    digest = sim.wait_for(lambda: cards(sim, f"📊 进度看板 · 需求 {ID} · 2026-12-03"), timeout=10)[0]
    assert "修改后的版本" in text_of(digest) and "第一版" not in text_of(digest)
    assert d.sql("SELECT revision, done FROM progress_updates WHERE dept = 'CWB' AND day = '2026-12-03' "
                 "ORDER BY revision") == [(1, "第一版"), (2, "修改后的版本")]
    assert not cards(sim, f"⏰ 进度逾期 · 需求 {ID} · 2026-12-03")

    # Friday: nobody posts -> both pinged; finance's streak restarted on Thursday.
    set_clock(d, 2026, 12, 4, 17, 0, 30)
    overdue = sim.wait_for(lambda: cards(sim, f"⏰ 进度逾期 · 需求 {ID} · 2026-12-04"), timeout=10)[0]
    assert "ou_ceo" not in text_of(overdue) and "<at id=ou_mkt></at>" in text_of(overdue)

    # The weekend owes nothing: the next day is Monday.
    assert d.sql("SELECT key FROM deadlines WHERE state = 'open'") == [(f"req:{ID}:progress:2026-12-07",)]
    assert d.sql("SELECT dept, day, state FROM progress_days ORDER BY day, dept") == [
        ("CWB", "2026-11-30", "on_time"), ("SCB", "2026-11-30", "on_time"),
        ("CWB", "2026-12-01", "late"), ("SCB", "2026-12-01", "on_time"),
        ("CWB", "2026-12-02", "missed"), ("SCB", "2026-12-02", "on_time"),
        ("CWB", "2026-12-03", "on_time"), ("SCB", "2026-12-03", "on_time"),
        ("CWB", "2026-12-04", "missed"), ("SCB", "2026-12-04", "missed")]
    # One digest per working day, none at the weekend.
    set_clock(d, 2026, 12, 6, 18)
    sim.wait_for(lambda: len(cards(sim, f"📊 进度看板 · 需求 {ID}")) == 5, timeout=10)
    assert [c["content"]["header"]["title"]["content"][-10:] for c in cards(sim, f"📊 进度看板 · 需求 {ID}")] == [
        "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]


def test_refusals_and_invalid_forms(sim, d):
    set_clock(d, 2026, 11, 30, 11)
    refused = post(sim, "ou_init")
    assert "只有各执行部门的进度负责人、部门负责人或其代理人可以提交" in refused
    assert "市场部（市场王）" in refused and "财务部（财务钱）" in refused
    bad = text_of(say(sim, "ou_mkt", f"/进度 {ID}\n未完成原因：等物料\n心情：好\n" + "x" * 3))
    assert "共 4 处问题" in bad and "看不懂这一行：“xxx”" in bad and "缺少“已完成任务”" in bad and "缺少“下一步计划”" in bad and "未知字段「心情」（可用：已完成任务、未完成原因、下一步计划）" in bad
    long = text_of(say(sim, "ou_mkt", f"/进度 {ID}\n已完成任务：{'好' * 501}\n下一步计划：继续"))
    assert "超过 500 字（现在 501 字）" in long
    assert d.sql("SELECT COUNT(*) FROM progress_updates") == [(0,)]
    assert "没有编号为 2026-Q4-XXX-009 的需求" in text_of(say(sim, "ou_mkt", "/进度 2026-Q4-XXX-009\n已完成：a"))

    # Owners: only the department's head changes them.
    r = sim.inject_message(CHAT, "ou_fin", f"/进度 负责人 {ID} 财务部 @_user_1",
                           mentions=[{"key": "@_user_1", "open_id": "ou_ceo", "name": "总经理"}])
    refusal = text_of(sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0])
    assert "只有执行部门的负责人（或代理人）可以更换" in refusal and "财务部（财务总）" in refusal
    r = sim.inject_message(CHAT, "ou_mkt", f"/进度 负责人 {ID} 市场部 @_user_1",
                           mentions=[{"key": "@_user_1", "open_id": "ou_mkt2", "name": "市场小李"}])
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    assert d.sql("SELECT user_id, set_by FROM progress_owners WHERE dept = 'SCB'") == [("ou_mkt2", "ou_mkt")]
    assert "已记录" in post(sim, "ou_mkt2")   # the new owner may post


def test_card_form_and_board(sim, d):
    set_clock(d, 2026, 11, 30, 11)
    form_card = say(sim, "ou_fin", "/进度")          # the only request finance reports for
    assert form_card["msg_type"] == "interactive"
    click = sim.card_action(CHAT, "ou_fin", form_card["message_id"], {"action": "progress.submit", "id": ID},
                            form_value={"done": "发票已开", "undone": "", "next": "对账"})
    ack = sim.wait_acked(click["event_id"])["data"]
    outcome = "财务部 已提交 2026-11-30 的进度 · 财务钱 · 2026-11-30 11:00"
    assert ack["toast"] == {"type": "success", "content": outcome}
    # The card says so, and keeps its form: tomorrow (and a correction) use it too.
    shown = ack["card"]["data"]
    assert any(e["tag"] == "form" for e in shown["body"]["elements"])
    assert f"**处理结果**：{outcome}" in "".join(e.get("content", "") for e in shown["body"]["elements"])
    click = sim.card_action(CHAT, "ou_fin", form_card["message_id"], {"action": "progress.submit", "id": ID},
                            form_value={"done": "", "undone": "", "next": ""})
    toast = sim.wait_acked(click["event_id"])
    assert d.sql("SELECT COUNT(*) FROM progress_updates") == [(1,)]
    board = say(sim, "ou_mkt", f"/看板 {ID}")
    md = text_of(board)
    assert "1/2 个部门已提交" in md and "发票已开" in md and "市场部（市场王） · ⏳ 尚未提交" in md
    assert "进行中的问题" in md
    mine = text_of(say(sim, "ou_fin", "/看板"))
    assert f"{ID} 新品发布会 · 今日 1/2 已提交" in mine
    # 财务部's superior sees the requests 财务部 takes part in (the read rule, access.c);
    # someone of no department is told so.
    assert f"{ID} 新品发布会" in text_of(say(sim, "ou_ceo", "/看板"))
    assert "不是任何部门的负责人或接口人" in text_of(say(sim, "ou_nobody", "/看板"))
    del toast


def test_cards_link_to_the_board_when_it_has_a_public_url(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True, extra={"board": {"public_url": "https://board.example.com/"}})
    r = import_directory(daemon, DIRECTORY, tmp_path)
    assert r.returncode == 0, r.stderr
    set_clock(daemon, 2026, 11, 30, 9, 30)
    for user, text in (("ou_init", FORM), ("ou_head", f"/需求 批准 {ID}"), ("ou_mkt", f"/确认 {ID}"),
                       ("ou_fin", f"/确认 {ID}")):
        say(sim, user, text)
    link = f"(https://board.example.com/board/req/{ID})"
    start = sim.wait_for(lambda: cards(sim, f"🚀 需求 {ID}"), timeout=10)[0]
    assert f"[在进度看板中查看]{link}" in text_of(start)
    assert link in text_of(say(sim, "ou_mkt", f"/看板 {ID}"))
    assert "[打开进度看板](https://board.example.com/board)" in text_of(say(sim, "ou_mkt", "/看板"))
    set_clock(daemon, 2026, 11, 30, 17, 0, 30)
    digest = sim.wait_for(lambda: cards(sim, f"📊 进度看板 · 需求 {ID} · 2026-11-30"), timeout=10)[0]
    assert link in text_of(digest)


def test_english_keys_in_any_case_like_every_other_form(sim, d):
    """/进度 reads keys as /需求 and /问题 do: "Done：", "NEXT：" are the fields."""
    set_clock(d, 2026, 11, 30, 11)
    ok = text_of(say(sim, "ou_mkt", f"/进度 {ID}\nDone：场地已订\nNEXT：明天彩排"))
    assert "已记录" in ok and "市场部" in ok
    assert d.sql("SELECT done, next FROM progress_updates") == [("场地已订", "明天彩排")]
