"""Deadlines through the real binary with the test clock: reminders, escalation,
quiet hours, coalescing, restarts, cancelling and snoozing."""

import datetime

import pytest

from helpers import max_in_window

SH = datetime.timezone(datetime.timedelta(hours=8))
OWNER = {"id": "ou_owner", "name": "王接口"}
HEAD = {"id": "ou_head", "name": "李主管"}
BOSS = {"id": "ou_boss", "name": "赵总"}
PEOPLE = {"owner": [OWNER], "head": [HEAD], "superior": [BOSS]}


def at(y, m, d, hh, mm=0, ss=0):
    return int(datetime.datetime(y, m, d, hh, mm, ss, tzinfo=SH).timestamp() * 1000)


def set_clock(d, ms):
    assert d.admin("/debug/clock", {"set_ms": ms})[0] == 200


def deadline(d, key, policy="dept_confirm", chat="oc_dl", subject="需求 2026-Q4-JSB-001 · 技术部确认",
             people=PEOPLE, **kw):
    status, body = d.admin("/debug/deadline", dict(key=key, policy=policy, chat_id=chat, subject=subject,
                                                   people=people, **kw))
    assert status == 200, body
    return body["due_ms"]


def pings(sim, chat="oc_dl"):
    return [m for m in sim.messages() if m["chat_id"] == chat and m["msg_type"] == "interactive"]


def card_text(msg):
    return "\n".join(e.get("content", "") for e in msg["content"]["body"]["elements"] if e["tag"] == "markdown")


def settle(sim, d):
    """Wait until the daemon has nothing left to fire or send."""
    sim.wait_for(lambda: (s := d.stats())["outbox"]["pending"] == 0 and s["outbox"]["inflight"] == 0, timeout=10)


@pytest.mark.valgrind
def test_reminder_then_overdue_then_escalation(sim, make_daemon):
    d = make_daemon(clock_control=True)
    set_clock(d, at(2026, 12, 7, 10))                     # Monday 10:00
    due = deadline(d, "dl-1")
    assert due == at(2026, 12, 8, 10)                     # one working day later
    set_clock(d, at(2026, 12, 7, 16, 59))
    settle(sim, d)
    assert pings(sim) == []
    set_clock(d, at(2026, 12, 7, 17, 0, 1))               # 2 business hours before the due time
    first = sim.wait_for(lambda: pings(sim), timeout=5)
    assert len(first) == 1 and "即将到期" in card_text(first[0])
    assert "<at id=ou_owner></at>" in card_text(first[0]) and "ou_head" not in card_text(first[0])
    set_clock(d, at(2026, 12, 8, 10, 0, 1))               # due: owner and head
    sim.wait_for(lambda: len(pings(sim)) == 2)
    text = card_text(pings(sim)[1])
    assert "已逾期" in text and "ou_owner" in text and "ou_head" in text and "ou_boss" not in text
    set_clock(d, at(2026, 12, 8, 14, 0, 1))               # +4 business hours: the superior
    sim.wait_for(lambda: len(pings(sim)) == 3)
    assert "已升级" in card_text(pings(sim)[2]) and "ou_boss" in card_text(pings(sim)[2])
    assert d.sql("SELECT COUNT(*) FROM timers WHERE state = 'fired'")[0][0] == 3


@pytest.mark.valgrind
def test_timer_survives_restart_and_fires_once_marked_late(sim, make_daemon):
    d = make_daemon(clock_control=True)
    set_clock(d, at(2026, 12, 7, 10))
    deadline(d, "dl-restart")
    d.stop()
    d.start()
    sim.wait_connected()
    set_clock(d, at(2026, 12, 8, 11))                     # past due (10:00), before escalation (14:00)
    sim.wait_for(lambda: pings(sim), timeout=5)
    settle(sim, d)
    d.stop()
    d.start()                                             # a second restart must not repeat it
    sim.wait_connected()
    set_clock(d, at(2026, 12, 8, 11, 30))
    settle(sim, d)
    msgs = pings(sim)
    assert len(msgs) == 1
    assert "已逾期（补发）" in card_text(msgs[0])
    # The reminder's row fired late and was folded into the overdue notice.
    assert d.sql("SELECT step, late FROM timers WHERE state = 'fired'") == [(0, 1)]
    assert d.sql("SELECT kind FROM timeline WHERE subject = 'dl-restart'") == [("sla.overdue",)]
    assert d.sql("SELECT fire_at FROM timers WHERE state = 'pending'") == [(at(2026, 12, 8, 14),)]


@pytest.mark.valgrind
def test_pings_in_the_same_minute_are_one_message(sim, make_daemon):
    d = make_daemon(clock_control=True)
    other = {"owner": [{"id": "ou_other", "name": "陈接口"}], "head": [HEAD]}
    set_clock(d, at(2026, 12, 7, 10, 0, 10))
    deadline(d, "dl-a", subject="需求 A · 技术部确认")
    set_clock(d, at(2026, 12, 7, 10, 0, 40))
    deadline(d, "dl-b", subject="需求 B · 财务部确认", people=other)
    set_clock(d, at(2026, 12, 7, 17, 2))
    msgs = sim.wait_for(lambda: pings(sim), timeout=5)
    settle(sim, d)
    assert len(pings(sim)) == 1
    text = card_text(msgs[0])
    assert "需求 A" in text and "需求 B" in text and "ou_owner" in text and "ou_other" in text


@pytest.mark.valgrind
def test_business_pings_wait_for_working_hours_urgent_ones_do_not(sim, make_daemon):
    d = make_daemon(clock_control=True)
    set_clock(d, at(2026, 12, 11, 17))                    # Friday 17:00
    due = deadline(d, "dl-issue", policy="issue_response", subject="问题 P01 响应")
    assert due == at(2026, 12, 14, 10)                    # 1 h Friday + 1 h Monday
    set_clock(d, at(2026, 12, 12, 22))                    # Saturday 22:00
    urgent_due = deadline(d, "dl-urgent", policy="issue_response_urgent", subject="紧急问题 P02 响应",
                          chat="oc_urgent")
    assert urgent_due == at(2026, 12, 12, 22, 30)         # wall clock
    set_clock(d, at(2026, 12, 12, 22, 21))
    sim.wait_for(lambda: pings(sim, "oc_urgent"), timeout=5)
    set_clock(d, at(2026, 12, 14, 9, 29))                 # Monday morning, before the reminder
    settle(sim, d)
    assert pings(sim) == []
    set_clock(d, at(2026, 12, 14, 9, 30, 1))
    assert "问题 P01" in card_text(sim.wait_for(lambda: pings(sim), timeout=5)[0])


@pytest.mark.valgrind
def test_done_deadline_sends_nothing_more(sim, make_daemon):
    d = make_daemon(clock_control=True)
    set_clock(d, at(2026, 12, 7, 10))
    deadline(d, "dl-done")
    assert d.admin("/debug/deadline/done", {"key": "dl-done", "state": "met"})[0] == 200
    set_clock(d, at(2026, 12, 10, 10))
    settle(sim, d)
    assert pings(sim) == []
    assert d.sql("SELECT state FROM deadlines") == [("met",)]
    assert d.sql("SELECT COUNT(*) FROM timers WHERE state = 'pending'")[0][0] == 0


@pytest.mark.valgrind
def test_snooze_by_the_person_pinged_and_refusal_for_others(sim, make_daemon):
    d = make_daemon(clock_control=True)
    set_clock(d, at(2026, 12, 7, 10))
    deadline(d, "dl-snooze")
    set_clock(d, at(2026, 12, 8, 10, 0, 1))              # overdue ping; escalation due at 14:00
    card = sim.wait_for(lambda: pings(sim), timeout=5)[0]
    buttons = [e for e in card["content"]["body"]["elements"] if e["tag"] == "button"]
    values = [b["behaviors"][0]["value"] for b in buttons]
    assert values == [{"action": "sched.snooze", "key": "dl-snooze", "for": "1h"},
                      {"action": "sched.snooze", "key": "dl-snooze", "for": "next_workday"}]

    stranger = sim.card_action("oc_dl", "ou_stranger", card["message_id"], values[1])
    ack = sim.wait_acked(stranger["event_id"])
    assert ack["data"]["toast"]["type"] == "error" and "王接口" in ack["data"]["toast"]["content"]
    assert d.sql("SELECT fire_at FROM timers WHERE state = 'pending'") == [(at(2026, 12, 8, 14),)]

    # One hour from now is before the escalation anyway: nothing moves earlier.
    mine = sim.card_action("oc_dl", "ou_owner", card["message_id"], values[0])
    assert sim.wait_acked(mine["event_id"])["data"]["toast"]["type"] == "success"
    assert d.sql("SELECT fire_at FROM timers WHERE state = 'pending'") == [(at(2026, 12, 8, 14),)]

    # Until the next working day: Wednesday 09:00.
    mine = sim.card_action("oc_dl", "ou_owner", card["message_id"], values[1])
    assert "2026-12-09 09:00" in sim.wait_acked(mine["event_id"])["data"]["toast"]["content"]
    assert d.sql("SELECT fire_at FROM timers WHERE state = 'pending'") == [(at(2026, 12, 9, 9),)]
    assert d.sql("SELECT actor FROM timeline WHERE kind = 'sla.snooze'") == [("ou_owner",), ("ou_owner",)]


def test_burst_for_500_chats_at_1700_drains_within_the_rate_limits(sim, make_daemon):
    d = make_daemon(clock_control=True, production_pace=True)     # the default rates are under test
    set_clock(d, at(2026, 12, 7, 10))
    for i in range(500):
        deadline(d, f"dl-burst-{i}", chat=f"oc_burst_{i}", subject=f"需求 {i} · 确认",
                 people={"owner": [{"id": f"ou_{i}", "name": f"接口人{i}"}]})
    set_clock(d, at(2026, 12, 7, 17, 0, 1))
    sim.wait_for(lambda: len(sim.messages()) == 500, timeout=40, interval=0.5)
    sends = [r["time"] for r in sim.requests() if r["path"] == "/open-apis/im/v1/messages"]
    assert len(sends) == 500
    # The simulator stamps arrivals; allow 10% for scheduling jitter.
    assert max_in_window(sends) <= 55
    assert sends[-1] - sends[0] >= 9000       # ms: 500 at 50/s cannot take less
    assert d.stats()["timers"]["fired"] == 500
    assert len({m["chat_id"] for m in sim.messages()}) == 500
