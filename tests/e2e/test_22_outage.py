"""An outage across several working days and a weekend: the daemon is stopped on
a Tuesday during execution (one department has not posted, two issues wait for a
response) and started again on Sunday.  Urgent pings go at once; business-clock
catch-ups wait for Monday's start; every missed working day gets its verdict, is
counted towards escalation, and is listed in one catch-up card marked 补发; the
catch-up pings the people who must act as well as the escalation target; a second
restart posts nothing again.  The test clock survives the restarts through
testing.start_at."""

import json
import time

import pytest

from helpers import import_directory
from test_18_issues import DIRECTORY, REQ, at, cards, in_progress, md, report, say

CHAT = "oc_iss"
URGENT, IMPORTANT = f"{REQ}-P01", f"{REQ}-P02"


def restart_at(d, sim, start_at):
    """Stops the daemon and starts it again with its test clock at start_at."""
    d.stop()
    with open(d.config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["testing"]["start_at"] = start_at
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False)
    d.start()
    sim.wait_connected()


def quiet(d, sim, seconds=2.0):
    """Waits until nothing new has been posted for a while; returns the count."""
    n = len(sim.messages())
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        if len(sim.messages()) != n:
            n = len(sim.messages())
            end = time.monotonic() + seconds
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == [(0,)]
    return n


def progress(sim, user, done="按计划推进"):
    return say(sim, user, f"/进度 {REQ}\n已完成任务：{done}\n未完成原因：\n下一步计划：继续")


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True, extra={"testing": {"start_at": "2026-12-07 09:30"}})   # Monday
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    in_progress(sim, daemon)
    return daemon


def test_outage_over_three_working_days_and_a_weekend(sim, d):
    set_clock = lambda *a: d.admin("/debug/clock", {"set_ms": at(*a)})   # noqa: E731
    # Monday: both departments post; the ordinary cut-off.
    set_clock(2026, 12, 7, 11)
    progress(sim, "ou_mkt")
    progress(sim, "ou_fin")
    set_clock(2026, 12, 7, 17, 0, 30)
    sim.wait_for(lambda: cards(sim, title=f"📊 进度看板 · 需求 {REQ} · 2026-12-07"), timeout=10)

    # Tuesday: marketing posts, finance does not; an urgent and an important issue.
    set_clock(2026, 12, 8, 10)
    progress(sim, "ou_mkt", done="周二的进度")
    assert "已提交问题" in say(sim, "ou_init", report("紧急", "2026-12-08 09:58"))
    assert "已提交问题" in say(sim, "ou_init", report("重要", "2026-12-08 09:58"))
    set_clock(2026, 12, 8, 10, 10)
    before = quiet(d, sim)

    # Down from Tuesday 10:10 to Sunday 07:50.
    restart_at(d, sim, "2026-12-13 07:50")
    assert d.admin("/debug/clock")[1]["now_ms"] == at(2026, 12, 13, 7, 50)
    # The urgent issue's ping goes at once, marked 补发 with its due time, to the
    # people who must act (contact, head) as well as the escalation targets.
    urgent = sim.wait_for(lambda: [m for m in cards(sim) if f"问题 {URGENT}（紧急）" in md(m) and "补发" in md(m)],
                          timeout=10)
    assert len(urgent) == 1
    text = md(urgent[0])
    assert "（补发）" in text and "截止 2026-12-08 10:30" in text
    for who in ("ou_fin", "ou_finboss", "ou_cfo", "ou_ceo"):
        assert f"<at id={who}></at>" in text, who
    # Nothing on the business clock on a Sunday morning: no progress verdicts, no important-issue line.
    n = quiet(d, sim)
    assert all(f"问题 {IMPORTANT}（重要）" not in md(m) for m in cards(sim) if "补发" in md(m))
    assert not cards(sim, title="进度") or all("补发" not in c["content"]["header"]["title"]["content"]
                                               for c in cards(sim, title="进度"))
    assert d.sql("SELECT COUNT(*) FROM progress_days WHERE day > '2026-12-07'") == [(0,)]
    assert n == before + 1

    # Monday 09:00: the held catch-ups go out.
    set_clock(2026, 12, 14, 9, 0, 30)
    catch = sim.wait_for(lambda: cards(sim, title="补发 · 进度判定"), timeout=10)
    assert len(catch) == 1
    card = catch[0]
    assert card["content"]["header"]["title"]["content"] == f"⏰ 补发 · 进度判定 · 需求 {REQ} · 2026-12-08 至 2026-12-11"
    text = md(card)
    assert "共 4 个工作日 17:00 的进度判定" in text and "照常判定" in text and "今日进度" not in text
    for day in ("2026-12-08（周二）", "2026-12-09（周三）", "2026-12-10（周四）", "2026-12-11（周五）"):
        assert day in text, day
    assert "2026-12-12" not in text and "2026-12-13" not in text           # the weekend owes nothing
    assert "财务部（进度负责人 财务钱）：未按时提交，已连续 4 个工作日，已上报上级" in text
    assert "市场部（市场王）：✅ 按时提交" in text
    assert "市场部（进度负责人 市场王）：未按时提交，已连续 3 个工作日，已上报上级" in text
    for who in ("ou_fin", "ou_finboss", "ou_cfo", "ou_mkt"):
        assert f"<at id={who}></at>" in text, who
    assert d.sql("SELECT dept, day, state FROM progress_days WHERE day > '2026-12-07' ORDER BY day, dept") == [
        ("CWB", "2026-12-08", "missed"), ("SCB", "2026-12-08", "on_time"),
        ("CWB", "2026-12-09", "missed"), ("SCB", "2026-12-09", "missed"),
        ("CWB", "2026-12-10", "missed"), ("SCB", "2026-12-10", "missed"),
        ("CWB", "2026-12-11", "missed"), ("SCB", "2026-12-11", "missed")]
    # Counted like any missed day: escalations for the retrospective.
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE kind = 'progress.missed'") == [(7,)]
    assert d.sql("SELECT COUNT(*) FROM timeline WHERE kind = 'progress.escalated'") == [(5,)]
    assert d.sql("SELECT key FROM deadlines WHERE state = 'open' AND key LIKE '%:progress:%'") == [
        (f"req:{REQ}:progress:2026-12-14",)]
    # The important issue's catch-up: 补发, its own due time, the contact as well as the superiors.
    important = sim.wait_for(lambda: [m for m in cards(sim) if f"问题 {IMPORTANT}（重要）" in md(m) and "补发" in md(m)],
                             timeout=10)
    assert len(important) == 1
    text = md(important[0])
    assert "（补发）" in text and "截止 2026-12-08 12:00" in text
    for who in ("ou_fin", "ou_finboss", "ou_cfo", "ou_ceo"):
        assert f"<at id={who}></at>" in text, who
    after = quiet(d, sim)

    # A second restart posts nothing again.
    restart_at(d, sim, "2026-12-14 09:05")
    assert quiet(d, sim, 3.0) == after
    set_clock(2026, 12, 14, 9, 10)
    assert quiet(d, sim) == after
