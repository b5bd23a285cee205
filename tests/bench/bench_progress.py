#!/usr/bin/python3
"""bench_progress: the daily cut-off of many requests at once, through the real daemon.

Takes N requests (default 300, BENCH_REQUESTS=...) to execution by commands in
N groups, has one of their two departments post its update, then moves the
test clock to 17:00 and prints how long the daemon takes to decide every
department's day, post the overdue cards and the digests and set the next day
(all committed), how long the simulator takes to receive them (paced by the
outbox's rate limits), and the daemon's RSS.  Prints figures; it is not a test.
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import COLLABD_BIN, Daemon  # noqa: E402
from bench_e2e import rss_kib  # noqa: E402

N = int(os.environ.get("BENCH_REQUESTS", "300"))
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


def at(*a):
    return int(datetime.datetime(*a, tzinfo=SH).timestamp() * 1000)


def main():
    sim = Sim.start()
    sim.set_config(ping_interval=30, reconnect_interval=1, reconnect_nonce=1)
    work = tempfile.mkdtemp(prefix="collabd-bp-")
    d = Daemon(sim, work, clock_control=True,
               extra={"log_level": "warn", "outbox": {"rate_per_app": 1000, "rate_per_chat": 50, "max_inflight": 32}})
    d.start()
    sim.wait_connected()
    path = os.path.join(work, "dir.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(DIRECTORY, f, ensure_ascii=False)
    subprocess.run([COLLABD_BIN, "--config", d.config_path, "import-directory", path], check=True,
                   env=d.env(), capture_output=True)
    d.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 9, 0)})
    t0 = time.monotonic()
    for n in range(N):
        sim.inject_message(f"oc_bp_{n}", "ou_init", "/需求\n需求名称：项目%d\n联系方式：1\n需求背景：b\n具体任务：t\n"
                                                   "涉及部门：市场部、财务部\n期望完成时间：2026-12-31" % n)
    sim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM requests")[0][0] == N, timeout=300, interval=0.2)
    ids = [r[0] for r in d.sql("SELECT id, chat_id FROM requests ORDER BY created_at")]
    chats = {r[0]: r[1] for r in d.sql("SELECT id, chat_id FROM requests")}
    for user, text in (("ou_head", "/需求 批准 {}"), ("ou_mkt", "/确认 {}"), ("ou_fin", "/确认 {}"),
                       ("ou_mkt", "/进度 {}\n已完成任务：完成\n下一步计划：继续")):
        for rid in ids:
            sim.inject_message(chats[rid], user, text.format(rid))
        sim.wait_for(lambda: not sim.state()["unacked"], timeout=300, interval=0.2)
    setup_s = time.monotonic() - t0
    assert d.sql("SELECT COUNT(*) FROM requests WHERE state = 'in_progress'")[0][0] == N
    sim.wait_for(lambda: d.stats()["outbox"]["pending"] == 0, timeout=600, interval=0.5)
    sent_before = len(sim.messages())
    rss_before = rss_kib(d.proc.pid)

    t0 = time.monotonic()
    d.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 17, 0, 30)})
    while d.sql("SELECT COUNT(*) FROM progress_days")[0][0] < 2 * N or \
            d.sql("SELECT COUNT(*) FROM deadlines WHERE key LIKE '%:progress:2026-12-08' AND state = 'open'")[0][0] < N:
        time.sleep(0.02)
    decided_s = time.monotonic() - t0
    want = sent_before + 2 * N  # an overdue card and a digest per request
    while len(sim.messages()) < want:
        time.sleep(0.05)
    delivered_s = time.monotonic() - t0
    rss_after = rss_kib(d.proc.pid)
    print(f"setup: {N} requests taken to execution and one update each by {5 * N} commands in {setup_s:.1f} s")
    print(f"17:00 cut-off of {N} requests ({2 * N} department-days): decided, {2 * N} cards committed and the "
          f"next day set in {decided_s:.2f} s; all delivered to the simulator in {delivered_s:.2f} s")
    print(f"daemon RSS: {rss_before} KiB before the cut-off, {rss_after} KiB after")
    d.stop()
    sim.stop()


if __name__ == "__main__":
    main()
