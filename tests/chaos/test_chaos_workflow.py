"""Crash safety of workflow writes: progress updates (step 3) and issue
reports (step 4) under SIGKILLs.

Five requests are taken to execution by commands, then 1,500 events -- progress
updates by the owners, issue reports, refusals, /看板 and chatter -- arrive while the daemon is
killed at seeded moments and restarted.  Afterwards every update was stored
exactly once (the revisions of each department's day are 1..n without gaps or
repeats, one per applied command), every command got exactly one reply, and
every issue got exactly one id (P01..Pn per request, no gaps), and nothing is
left unsent.

CHAOS_SEED and CHAOS_WORKFLOW_EVENTS override the defaults.
"""

import datetime
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import pytest  # noqa: E402

from simctl import Sim  # noqa: E402
from daemonctl import COLLABD_BIN, Daemon  # noqa: E402

SEED = int(os.environ.get("CHAOS_SEED", "20261128"))
EVENTS = int(os.environ.get("CHAOS_WORKFLOW_EVENTS", "1500"))
KILLS = 8
REQUESTS = 5
SH = datetime.timezone(datetime.timedelta(hours=8))
DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人"}, {"id": "ou_head", "name": "主管"},
              {"id": "ou_mkt", "name": "市场"}, {"id": "ou_fin", "name": "财务"}, {"id": "ou_boss", "name": "财务总"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_boss", "contacts": ["ou_fin"]},
    ],
}


@pytest.fixture
def sim():
    s = Sim.start()
    s.set_config(ping_interval=5, reconnect_interval=1, reconnect_nonce=0, redeliver_after=1,
                 max_redeliveries=1000)
    yield s
    s.stop()


def test_progress_updates_survive_kills(sim, tmp_path):
    rng = random.Random(SEED)
    # The real clock: a test clock would not survive the restarts.  Updates
    # are accepted on any day (on a day off they are recorded, not owed).
    d = Daemon(sim, tmp_path,
               extra={"log_level": "warn", "outbox": {"rate_per_app": 1000, "rate_per_chat": 50, "max_inflight": 32}})
    d.start()
    sim.wait_connected()
    path = tmp_path / "dir.json"
    path.write_text(json.dumps(DIRECTORY, ensure_ascii=False))
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "import-directory", str(path)],
                       capture_output=True, text=True, env=d.env(), timeout=20)
    assert p.returncode == 0, p.stderr

    def command(chat, user, text):
        r = sim.inject_message(chat, user, text)
        sim.wait_for(lambda: [m for m in sim.messages() if m["reply_to"] == r["message_id"]], timeout=10)

    ids = []
    for n in range(REQUESTS):
        chat = f"oc_wf_{n}"
        command(chat, "ou_init", "/需求\n需求名称：项目%d\n联系方式：1\n需求背景：背景\n具体任务：任务\n"
                                 "涉及部门：市场部、财务部\n期望完成时间：2099-12-31" % n)
        rid = d.sql("SELECT id FROM requests ORDER BY created_at DESC LIMIT 1")[0][0]
        command(chat, "ou_head", f"/需求 批准 {rid}")
        command(chat, "ou_mkt", f"/确认 {rid}")
        command(chat, "ou_fin", f"/确认 {rid}")
        ids.append(rid)
    sim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM requests WHERE state = 'in_progress'")[0][0] == REQUESTS)

    kill_at = sorted(rng.sample(range(50, EVENTS - 50), KILLS))
    posts, reports, others, kills = {}, {}, {}, 0
    # An issue that happened ten minutes ago, in the company's zone.
    occurred = (datetime.datetime.now(SH) - datetime.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
    for i in range(EVENTS):
        n = rng.randrange(REQUESTS)
        chat, rid = f"oc_wf_{n}", ids[n]
        kind = rng.random()
        if kind < 0.6:
            user = rng.choice(["ou_mkt", "ou_fin"])
            r = sim.inject_message(chat, user, f"/进度 {rid}\n已完成任务：第 {i} 条\n下一步计划：继续")
            posts[r["message_id"]] = (rid, "SCB" if user == "ou_mkt" else "CWB", i)
        elif kind < 0.68:
            r = sim.inject_message(chat, "ou_mkt", f"/问题\n关联需求：{rid}\n问题类型：资源\n严重程度：一般\n"
                                   f"影响范围：第 {i} 条\n问题描述：物料不足\n发生时间：{occurred}\n接收部门：财务部")
            reports[r["message_id"]] = (rid, i)
        elif kind < 0.75:
            r = sim.inject_message(chat, "ou_init", f"/进度 {rid}\n已完成任务：无权\n下一步计划：无")
            others[r["message_id"]] = 1
        elif kind < 0.9:
            r = sim.inject_message(chat, "ou_mkt", f"/看板 {rid}")
            others[r["message_id"]] = 1
        else:
            r = sim.inject_message(chat, "ou_x", "闲聊")
            others[r["message_id"]] = 0
        if kills < len(kill_at) and i == kill_at[kills]:
            d.kill()
            kills += 1
            d.start(wait=False)
            time.sleep(rng.random() * 0.05)
    d.wait_ready(timeout=20)
    sim.wait_for(lambda: not sim.state()["unacked"], timeout=180, interval=1, message="events left unacked")
    try:
        sim.wait_for(lambda: d.stats()["outbox"]["pending"] == 0, timeout=120, interval=0.5,
                     message="outbox not drained")
    except TimeoutError:
        print(d.sql("SELECT id, chat_id, kind, attempts, next_attempt_at, last_error FROM outbox "
                    "WHERE state = 'pending' ORDER BY id LIMIT 5"), d.log()[-3000:])
        raise

    # Each update stored once: one row per post, revisions 1..n per department and day.
    rows = d.sql("SELECT request_id, dept, revision, done FROM progress_updates ORDER BY id")
    assert sorted(r[3] for r in rows) == sorted(f"第 {i} 条" for (_, _, i) in posts.values())
    by_day = {}
    for rid, dept, revision, _ in rows:
        by_day.setdefault((rid, dept), []).append(revision)
    for key, revisions in by_day.items():
        assert revisions == list(range(1, len(revisions) + 1)), key
    # Each command answered once, chatter not at all.
    replies = {}
    for m in sim.messages():
        if m["reply_to"]:
            replies[m["reply_to"]] = replies.get(m["reply_to"], 0) + 1
    for mid in list(posts) + list(reports):
        assert replies.get(mid, 0) == 1, mid
    # Each issue reported once, numbered without gaps per request.
    issues = d.sql("SELECT id, request_id, scope FROM issues ORDER BY id")
    assert sorted(r[2] for r in issues) == sorted(f"第 {i} 条" for (_, i) in reports.values())
    for rid in ids:
        mine = [r[0] for r in issues if r[1] == rid]
        assert mine == [f"{rid}-P{k:02d}" for k in range(1, len(mine) + 1)], rid
    for mid, want in others.items():
        assert replies.get(mid, 0) == want, mid
    assert d.sql("SELECT COUNT(*) FROM outbox WHERE state != 'sent'")[0][0] == 0
    print(f"chaos workflow: seed={SEED} events={EVENTS} kills={kills} updates={len(rows)} issues={len(issues)}")
    d.stop()
