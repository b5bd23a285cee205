"""The calendar and admins kept in the database as the shared settings, on a
single instance: SIGHUP with an edited holiday file still changes the next
deadline at once (and records a new generation; an unchanged file records
none), and a restart with edited files follows the engine's precedence rule
-- SQLite, the files win (the operator edits them, as before); PostgreSQL,
the database's copy wins with a warning naming what differs (see
tests/pg/test_shared_settings.py for two instances)."""

import os
import shutil
import signal
import subprocess

from daemonctl import CALENDAR_DIR, COLLABD_BIN
from helpers import DIRECTORY, FORM, ID, at, edit_json, import_directory, replies_to


def say(sim, text):
    r = sim.inject_message("oc_ops", "ou_init", text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]


def approval_due(d, request_id):
    return d.sql("SELECT due_at FROM deadlines WHERE key LIKE ? AND policy = 'approval'", f"req:{request_id}%")[0][0]


def reload(sim, d, n):
    d.proc.send_signal(signal.SIGHUP)
    sim.wait_for(lambda: d.log().count("msg=\"configuration reloaded\"") == n or "reload refused" in d.log(),
                 timeout=10)
    assert "reload refused" not in d.log()
    return d.log().split("msg=\"configuration reloaded\"")[n].split("\n")[0]


def own_calendar(tmp_path):
    cal = tmp_path / "calendar"
    shutil.copytree(CALENDAR_DIR, cal)
    return str(cal)


def tool(d, sim, *args):
    env = dict(os.environ, COLLABD_FEISHU_APP_SECRET=sim.app_secret)
    return subprocess.run([COLLABD_BIN, "--config", d.config_path, "calendar"] + list(args),
                          capture_output=True, text=True, env=env)


def test_sighup_publishes_an_edited_holiday_file_and_applies_it(sim, make_daemon, tmp_path):
    cal = own_calendar(tmp_path)
    d = make_daemon(clock_control=True, extra={"calendar": {"dir": cal}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})       # Monday
    say(sim, FORM)
    assert approval_due(d, ID) == at(2026, 12, 1, 10)

    # Tuesday becomes a company holiday in the data file itself.
    edit_json(os.path.join(cal, "2026.json"),
              lambda c: c["holidays"].append({"name": "公司庆典", "off": ["2026-12-01"], "worked": []}))
    line = reload(sim, d, 1)
    assert 'generation=2 published=1 differs="calendar.years.2026"' in line, line
    say(sim, FORM.replace("新品发布会", "年会"))
    assert approval_due(d, "2026-Q4-JSB-002") == at(2026, 12, 2, 10)
    assert approval_due(d, ID) == at(2026, 12, 1, 10)                # set deadlines keep their time

    # The same files again: nothing new to publish, the generation stays.
    line = reload(sim, d, 2)
    assert 'generation=2 published=0 differs=""' in line, line
    assert d.sql("SELECT generation FROM shared_settings") == [(2,)]
    # An admin added: published too.
    edit_json(d.config_path, lambda c: c.update(admins=["ou_admin"]))
    assert 'generation=3 published=1 differs="admins"' in reload(sim, d, 3)
    # No other instance: the poll finds its own generation and applies nothing.
    assert "msg=\"shared settings applied\"" not in d.log()

    out = tool(d, sim, "shared")
    assert out.returncode == 0, out
    assert "generation 3" in out.stdout and "this host's files are the same" in out.stdout


def test_a_restart_with_edited_files_follows_the_precedence_rule(sim, make_daemon, tmp_path):
    cal = own_calendar(tmp_path)
    d = make_daemon(clock_control=True, extra={"calendar": {"dir": cal}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    assert d.sql("SELECT generation FROM shared_settings") == [(1,)]  # seeded from the files at start
    d.stop()
    edit_json(d.config_path, lambda c: c["calendar"].update(work_end="17:00"))
    d.start()
    sim.wait_connected()
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 17, 30)})   # Monday, after 17:00
    say(sim, FORM)
    if d.pg:
        # A shared store: starting does not change the cluster's copy.
        assert "differ from the cluster's shared copy" in d.log()
        assert 'differs="calendar.work_end"' in d.log()
        assert d.sql("SELECT generation FROM shared_settings") == [(1,)]
        assert approval_due(d, ID) == at(2026, 12, 1, 17, 30)        # still 09:00-18:00
    else:
        # SQLite: the files this one process runs from win, as before.
        assert "msg=\"shared settings published from this host's files\" generation=2" in d.log()
        assert d.sql("SELECT generation FROM shared_settings") == [(2,)]
        assert approval_due(d, ID) == at(2026, 12, 1, 17)           # Tuesday 09:00 + 8 hours
