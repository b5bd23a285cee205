#!/usr/bin/python3
"""bench_scale: collabd with a large store -- start-up time, memory and the web board.

Prints figures; it is not a test.  Run: make bench-scale

The store is filled directly (SQL, after the daemon has created the schema) with
SCALE_ARCHIVED archived requests (each with its versions, departments,
completion, archive entry and a short timeline) and SCALE_ACTIVE requests in
execution (departments, progress owners, today's updates, an open issue each).
Then the daemon is started on it and the figures are:
  - start-up: process start until /healthz answers 200;
  - RSS after start, and after serving the pages;
  - each board page (overview, one request, the archive list and a later page of
    it): median time of BOARD_REPEAT fetches, and its size.
"""

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import Daemon, free_port  # noqa: E402

ARCHIVED = int(os.environ.get("SCALE_ARCHIVED", "100000"))
ACTIVE = int(os.environ.get("SCALE_ACTIVE", "1000"))
REPEAT = int(os.environ.get("BOARD_REPEAT", "5"))
DEPTS = [("JSB", "技术部"), ("SCB", "市场部"), ("CWB", "财务部"), ("RSB", "人事部"), ("FWB", "法务部")]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fill(db):
    """The archived and active requests, as the workflow would have left them."""
    con = sqlite3.connect(db)
    now = int(time.time() * 1000)
    day = time.strftime("%Y-%m-%d")
    con.execute("BEGIN")
    for i, (code, name) in enumerate(DEPTS):
        con.execute("INSERT OR REPLACE INTO users (user_id, name) VALUES (?, ?)", (f"ou_head_{code}", f"{name}负责人"))
        con.execute("INSERT OR REPLACE INTO departments (code, name, head, superior, superior2, chat_id) "
                    "VALUES (?, ?, ?, NULL, NULL, NULL)", (code, name, f"ou_head_{code}"))
        con.execute("INSERT OR REPLACE INTO dept_contacts (code, user_id, pos) VALUES (?, ?, 0)",
                    (code, f"ou_head_{code}"))

    def request(n, state, created):
        code = DEPTS[n % len(DEPTS)][0]
        other = DEPTS[(n + 1) % len(DEPTS)][0]
        year = time.gmtime(created / 1000).tm_year
        rid = f"{year}-Q{n % 4 + 1}-{code}-{n:06d}"
        form = json.dumps({"需求名称": f"第 {n} 号需求", "需求背景": "背景" * 20, "具体任务": "任务" * 20,
                           "发起部门": code, "涉及部门": [other], "期望完成时间": "2026-12-31",
                           "联系方式": "1380000"}, ensure_ascii=False)
        con.execute("INSERT INTO requests (id, dept, initiator, platform, chat_id, state, version, form, reason, "
                    "created_at, updated_at) VALUES (?, ?, ?, 'feishu', ?, ?, 1, ?, NULL, ?, ?)",
                    (rid, code, f"ou_head_{code}", f"oc_{n % 300}", state, form, created, created + 3600_000))
        con.execute("INSERT INTO request_versions (request_id, version, form, hash, created_at) VALUES (?, 1, ?, ?, ?)",
                    (rid, form, f"h{n}", created))
        con.execute("INSERT INTO request_depts (request_id, dept, state, signed_by, signed_at, version, hash) "
                    "VALUES (?, ?, 'confirmed', ?, ?, 1, ?)", (rid, other, f"ou_head_{other}", created, f"h{n}"))
        for k, kind in enumerate(("request.submitted", "request.approved", "request.confirmed")):
            con.execute("INSERT INTO timeline (at, actor, kind, subject, detail) VALUES (?, ?, ?, ?, '{}')",
                        (created + k * 60_000, f"ou_head_{code}", kind, rid))
        return rid, code, other

    for n in range(ARCHIVED):
        created = now - (ARCHIVED - n) * 600_000
        rid, code, _ = request(n, "archived", created)
        con.execute("INSERT INTO completions (request_id, completed_by, completed_at, deliverables, retro_due) "
                    "VALUES (?, ?, ?, '[]', ?)", (rid, f"ou_head_{code}", created + 7200_000, created + 9000_000))
        year = time.gmtime(created / 1000).tm_year
        con.execute("INSERT INTO archives (name, request_id, dir, created_at, written_at) VALUES (?, ?, ?, ?, ?)",
                    (f"{year}-Q{n % 4 + 1}-XMB-{n:06d}", rid, f"{year}/Q{n % 4 + 1}", created + 7200_000,
                     created + 7200_000))
    active_ids = []
    for n in range(ARCHIVED, ARCHIVED + ACTIVE):
        rid, code, other = request(n, "in_progress", now - 86400_000)
        active_ids.append(rid)
        con.execute("INSERT INTO progress_owners (request_id, dept, user_id, set_by, set_at) VALUES (?, ?, ?, NULL, ?)",
                    (rid, other, f"ou_head_{other}", now))
        con.execute("INSERT INTO progress_updates (request_id, dept, day, revision, author, done, undone, next, "
                    "late, submitted_at) VALUES (?, ?, ?, 1, ?, '完成', '无', '继续', 0, ?)",
                    (rid, other, day, f"ou_head_{other}", now))
    con.execute("COMMIT")
    con.close()
    return active_ids


def fetch(url):
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read()
        assert r.status == 200
    return time.monotonic() - t0, len(body)


def main():
    work = tempfile.mkdtemp(prefix="collabd-scale-")
    sim = Sim.start()
    port = free_port()
    d = Daemon(sim, work, extra={"log_level": "warn", "board": {"listen": "127.0.0.1", "port": port}})
    d.start()                      # creates the schema
    d.stop()
    t0 = time.monotonic()
    active = fill(d.db)
    fill_s = time.monotonic() - t0
    size_mib = os.path.getsize(d.db) / 2**20

    t0 = time.monotonic()
    d.start()
    start_s = time.monotonic() - t0
    rss_start = rss_mib(d.proc.pid)
    base = f"http://127.0.0.1:{port}"
    pages = [("overview", "/board"), ("one request", f"/board/req/{active[len(active) // 2]}"),
             ("archive list", "/board/archive"), ("archive, page 50", "/board/archive?page=50")]
    rows = []
    for name, path in pages:
        try:
            times, size = [], 0
            for _ in range(REPEAT):
                t, size = fetch(base + path)
                times.append(t)
            rows.append((name, path, statistics.median(times) * 1000, size))
        except Exception as e:  # a page that fails is a figure too
            rows.append((name, path, float("nan"), str(e)[:40]))
    rss_after = rss_mib(d.proc.pid)
    d.stop()
    sim.stop()

    print(f"store: {ARCHIVED} archived + {ACTIVE} active requests, {size_mib:.0f} MiB "
          f"(filled in {fill_s:.1f} s)")
    print(f"start-up until /healthz is 200: {start_s * 1000:.0f} ms; RSS {rss_start:.1f} MiB after start, "
          f"{rss_after:.1f} MiB after the pages")
    for name, path, ms, size in rows:
        print(f"  {name:17} {path:42} {ms:8.1f} ms  {size if isinstance(size, str) else f'{size / 1024:.0f} KiB'}")


if __name__ == "__main__":
    main()
