"""Operating collabd: SIGHUP reloads the calendar and log level (a broken file
changes nothing), SIGTERM in the middle of a flood loses no event and repeats
no reply, and an online backup restores to a database the daemon runs on."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess

import pytest

import pgcluster
from daemonctl import COLLABD_BIN
from helpers import DIRECTORY, FORM, ID, at, import_directory, replies_to
from prom import scrape



def say(sim, user, text, chat="oc_ops"):
    r = sim.inject_message(chat, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def edit_config(d, change):
    with open(d.config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    change(cfg)
    with open(d.config_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False)


def reload(sim, d, n):
    d.proc.send_signal(signal.SIGHUP)
    sim.wait_for(lambda: d.log().count("msg=\"configuration reloaded\"") == n
                 or "reload refused" in d.log(), timeout=5)


def approval_due(d, request_id):
    return d.sql("SELECT due_at FROM deadlines WHERE key LIKE ? AND policy = 'approval'", f"req:{request_id}%")[0][0]


def test_sighup_reloads_the_calendar_and_log_level(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True)
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})       # Monday
    say(sim, "ou_init", FORM)
    assert approval_due(d, ID) == at(2026, 12, 1, 10)                # one working day

    # The company takes Tuesday off: new deadlines skip it after SIGHUP.
    edit_config(d, lambda c: (c["calendar"].update(extra_days_off=["2026-12-01"]), c.update(log_level="warn")))
    reload(sim, d, 1)
    assert "reload refused" not in d.log()
    assert scrape(d).get("collabd_reloads_total") == 1
    say(sim, "ou_init", FORM.replace("新品发布会", "年会"))
    assert approval_due(d, "2026-Q4-JSB-002") == at(2026, 12, 2, 10)
    assert approval_due(d, ID) == at(2026, 12, 1, 10)                # set deadlines keep their time
    debug_lines = d.log().count("level=debug")
    say(sim, "ou_init", "/帮助")
    assert d.log().count("level=debug") == debug_lines               # warn and above only now

    # A broken file is refused whole; the daemon keeps running as it was.
    with open(d.config_path, "w", encoding="utf-8") as f:
        f.write('{"calendar": {"work_start": "25:00"}, "nonsense": 1}')
    d.proc.send_signal(signal.SIGHUP)
    sim.wait_for(lambda: "reload refused" in d.log(), timeout=5)
    assert "nonsense: unknown option" in d.log()
    assert d.admin("/healthz")[0] == 200
    assert scrape(d).get("collabd_reloads_total") == 1
    assert say(sim, "ou_init", "/帮助")                              # still answering


def test_sigterm_during_a_flood_loses_nothing(sim, make_daemon):
    d = make_daemon()
    events = []
    for i in range(240):
        events.append(sim.inject_message(f"oc_flood{i % 6}", "ou_alice", "/帮助"))
        if i == 100:
            assert d.stop() == 0                                     # graceful: exit code 0
            assert "msg=\"stopping\" signal=15" in d.log() and "msg=\"stopped\" exit_code=0" in d.log()
            d.start(wait=False)
    d.wait_ready(timeout=15)
    sim.wait_connected()
    for r in events:                                                 # unacked ones are redelivered
        sim.wait_acked(r["event_id"], timeout=30)
    sim.wait_for(lambda: d.sql("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")[0][0] == 240, timeout=60)
    for r in events:
        assert len(replies_to(sim, r["message_id"])) == 1, r
    assert d.sql("SELECT COUNT(*) FROM inbox")[0][0] == 240
    assert len(sim.messages()) == 240


@pytest.mark.skipif(pgcluster.server_url() is not None,
                    reason="SQLite's online backup; PostgreSQL is backed up with its own tools (tests/pg)")
def test_backup_restores_to_a_working_database(sim, make_daemon, tmp_path):
    d = make_daemon(clock_control=True)
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", f"/需求 批准 {ID}")
    before = d.sql("SELECT id, state, version, form FROM requests")
    assert before and before[0][1] == "syncing"

    dest = tmp_path / "backup" / "collabd-backup.db"
    dest.parent.mkdir()
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "backup", str(dest)],
                       capture_output=True, text=True, env=d.env(), timeout=30)
    assert p.returncode == 0, p.stderr
    say(sim, "ou_mkt", f"/确认 {ID}")                               # after the backup: not in it

    # Restore as the README says: stop, put the copy in place, start.
    assert d.stop() == 0
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(d.db + suffix):
            os.remove(d.db + suffix)
    shutil.copy(dest, d.db)
    con = sqlite3.connect(d.db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    d.start()
    sim.wait_connected()
    assert d.sql("SELECT id, state, version, form FROM requests") == before
    assert d.sql("SELECT state FROM request_depts WHERE dept = 'SCB'") == [("pending",)]
    # The restored daemon works: the confirmation made after the backup is made again.
    assert "市场部 已确认需求" in say(sim, "ou_mkt", f"/确认 {ID}", chat="oc_ops2")
    assert d.admin("/healthz")[0] == 200
