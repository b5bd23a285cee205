"""The calendar and admins are the cluster's: a change published by one
instance (SIGHUP with its new files) is applied by every other instance on
the same PostgreSQL store within cluster.settings_poll_ms, and an instance
started with other files keeps the cluster's copy and says what differs.

Two instances with calendar files of their own: instance A's copy gains a
company holiday and its working day ends an hour earlier; only A is sent
SIGHUP.  Instance B must then compute a new request's approval deadline
with A's calendar -- seen on B's board page, the user-visible due time.

Run by `make test-pg` (COLLABD_TEST_PG names the throwaway server)."""

import os
import shutil
import signal
import subprocess
import time
import urllib.request

import pgcluster
from daemonctl import CALENDAR_DIR, COLLABD_BIN, Daemon, free_port
from helpers import DIRECTORY, FORM, at, edit_json, import_directory, replies_to
from prom import scrape

POLL_MS = 500
MONDAY_1730 = at(2026, 11, 30, 17, 30)


def instance(sim, tmp_path, db, name):
    """A daemon with a calendar directory of its own (a copy of the shipped one)."""
    work = tmp_path / name
    work.mkdir()
    cal = work / "calendar"
    shutil.copytree(CALENDAR_DIR, cal)
    board = free_port()
    d = Daemon(sim, work, clock_control=True, database=db,
               extra={"board": {"listen": "127.0.0.1", "port": board}, "calendar": {"dir": str(cal)},
                      "cluster": {"settings_poll_ms": POLL_MS}})
    d.board_port, d.calendar_dir = board, str(cal)
    return d


def company_holiday(d):
    """A company holiday on Tuesday 2026-12-01 in d's own 2026 data file."""
    edit_json(os.path.join(d.calendar_dir, "2026.json"),
              lambda c: c["holidays"].append({"name": "公司庆典", "off": ["2026-12-01"], "worked": []}))


def request(sim, text):
    """Sends a request form; returns its id once its approval deadline exists."""
    r = sim.inject_message("oc_ops", "ou_init", text)
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=15)
    return r


def board_due(d, request_id):
    """The approval deadline as B's board shows it ("截止 YYYY-MM-DD HH:MM")."""
    with urllib.request.urlopen(f"http://127.0.0.1:{d.board_port}/board/req/{request_id}", timeout=5) as r:
        page = r.read().decode()
    i = page.index(" · 截止 ")
    return page[i + len(" · 截止 "):i + len(" · 截止 ") + 16]


def approval_due(d, request_id):
    return d.sql("SELECT due_at FROM deadlines WHERE key LIKE ? AND policy = 'approval'", f"req:{request_id}%")[0][0]


def test_sighup_on_one_instance_changes_the_calendar_of_every_instance(sim, tmp_path):
    db = pgcluster.fresh_database()
    a, b = instance(sim, tmp_path, db, "a"), instance(sim, tmp_path, db, "b")
    a2 = None
    assert import_directory(a, DIRECTORY, tmp_path).returncode == 0
    for d in (a, b):
        d.start_at(MONDAY_1730)
    try:
        # Before: Monday 17:30 + one working day (09:00-18:00) = Tuesday 17:30.
        request(sim, FORM)
        assert approval_due(b, "2026-Q4-JSB-001") == at(2026, 12, 1, 17, 30)
        assert board_due(b, "2026-Q4-JSB-001") == "2026-12-01 17:30"

        # A's files only: Tuesday becomes a company holiday, the day ends at 17:00.
        company_holiday(a)
        edit_json(a.config_path, lambda c: c["calendar"].update(work_end="17:00"))
        sighup_at = time.monotonic()
        a.proc.send_signal(signal.SIGHUP)
        sim.wait_for(lambda: "msg=\"configuration reloaded\"" in a.log() or "reload refused" in a.log(), timeout=10)
        assert "reload refused" not in a.log()
        assert 'published=1 differs="calendar.work_end calendar.years.2026"' in a.log()
        sim.wait_for(lambda: "msg=\"shared settings applied\"" in b.log(), timeout=10)
        took = time.monotonic() - sighup_at
        assert took < POLL_MS / 1000 + 2.0, took
        assert 'differs="calendar.work_end calendar.years.2026"' in b.log()
        assert "msg=\"shared settings applied\"" not in a.log()      # A applied its own at once
        for d, applied in ((a, 0), (b, 1)):                          # each instance says where it is
            m = scrape(d)
            assert (m.get("collabd_settings_generation"), m.get("collabd_settings_applied_total")) == (2, applied)

        # Only B answers now: its deadline follows A's calendar.  Monday
        # 17:30 is after the new 17:00 end; Tuesday is off; Wednesday 09:00
        # + 8 working hours = Wednesday 17:00.
        assert a.stop() == 0
        request(sim, FORM.replace("新品发布会", "年会"))
        assert approval_due(b, "2026-Q4-JSB-002") == at(2026, 12, 2, 17)
        assert board_due(b, "2026-Q4-JSB-002") == "2026-12-02 17:00"
        assert approval_due(b, "2026-Q4-JSB-001") == at(2026, 12, 1, 17, 30)   # set deadlines keep their time
        assert pgcluster.query(db, "SELECT generation FROM shared_settings") == [(2,)]

        # A restarted with its old files would not undo it: the cluster's copy
        # wins, and the warning names what differs.
        assert b.stop() == 0
        a2 = instance(sim, tmp_path, db, "a2")                            # shipped files, default hours
        a2.start_at(MONDAY_1730)
        assert "differ from the cluster's shared copy" in a2.log()
        assert 'differs="calendar.work_end calendar.years.2026"' in a2.log()
        request(sim, FORM.replace("新品发布会", "团建"))
        assert approval_due(a2, "2026-Q4-JSB-003") == at(2026, 12, 2, 17)
        assert pgcluster.query(db, "SELECT generation FROM shared_settings") == [(2,)]

        # The command-line tool says so, and publishes this host's files on purpose.
        env = dict(os.environ, COLLABD_FEISHU_APP_SECRET=sim.app_secret)
        tool = [COLLABD_BIN, "--config", a2.config_path, "calendar"]
        shared = subprocess.run(tool + ["shared"], capture_output=True, text=True, env=env)
        assert shared.returncode == 1, shared
        assert "differ: calendar.work_end calendar.years.2026" in shared.stdout
        pub = subprocess.run(tool + ["publish"], capture_output=True, text=True, env=env)
        assert pub.returncode == 0, pub
        assert "published generation 3" in pub.stdout
        sim.wait_for(lambda: "generation=3 previous=2" in a2.log(), timeout=10)
        request(sim, FORM.replace("新品发布会", "路演"))
        assert approval_due(a2, "2026-Q4-JSB-004") == at(2026, 12, 1, 17, 30)
        assert a2.stop() == 0
    finally:
        for d in (a, b, a2):
            if d and d.proc and d.proc.poll() is None:
                d.stop()
