"""Operating collabd on PostgreSQL: moving an installation over from its
SQLite file (collabd migrate-db) and backups (the server's own tools)."""

import subprocess
import time

import pgcluster
from daemonctl import COLLABD_BIN, Daemon
from helpers import DIRECTORY, FORM, at, import_directory, replies_to

TABLES = ["inbox", "outbox", "timeline", "deadlines", "timers", "users", "departments", "dept_contacts",
          "id_sequences", "requests", "request_versions", "request_depts"]


def migrate(src, dst):
    return subprocess.run([COLLABD_BIN, "migrate-db", src, dst], capture_output=True, text=True, timeout=60)


def test_migrate_db_moves_everything_and_numbering_continues(sim, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = Daemon(sim, tmp_path / "a", clock_control=True, database=str(tmp_path / "a" / "collabd.db"))
    assert import_directory(old, DIRECTORY, tmp_path).returncode == 0
    old.start()
    sim.wait_connected()
    old.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    r = sim.inject_message("oc_m", "ou_init", FORM)
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    sim.wait_for(lambda: old.sql("SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == [(0,)])
    assert old.stop() == 0
    before = {t: old.sql(f"SELECT COUNT(*) FROM {t}")[0][0] for t in TABLES}
    assert before["requests"] == 1 and before["outbox"] >= 2

    url = pgcluster.fresh_database()
    p = migrate(old.db, url)
    assert p.returncode == 0, p.stderr
    assert "requests             1 rows" in p.stdout
    new = Daemon(sim, tmp_path / "b", clock_control=True, database=url)
    after = {t: new.sql(f"SELECT COUNT(*) FROM {t}")[0][0] for t in TABLES}
    assert after == before
    assert new.sql("SELECT id, state, form FROM requests") == old.sql("SELECT id, state, form FROM requests")
    # The departments' answers keep the order they were asked in.
    assert new.sql("SELECT dept FROM request_depts ORDER BY rowid") == \
        old.sql("SELECT dept FROM request_depts ORDER BY rowid")

    # The daemon runs on the moved records: the event seen before is a
    # duplicate, the next request's number follows, new outbox ids follow.
    new.start()
    sim.wait_connected()
    new.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 11)})
    last_id = new.sql("SELECT MAX(id) FROM outbox")[0][0]
    r2 = sim.inject_message("oc_m", "ou_init", FORM.replace("新品发布会", "第二场"))
    sim.wait_for(lambda: replies_to(sim, r2["message_id"]), timeout=10)
    assert [x[0] for x in new.sql("SELECT id FROM requests ORDER BY id")] == ["2026-Q4-JSB-001", "2026-Q4-JSB-002"]
    assert new.sql("SELECT MIN(id) FROM outbox WHERE id > ?1", last_id)[0][0] == last_id + 1
    answered = len(replies_to(sim, r["message_id"]))
    sim.redeliver(r["event_id"], force=True)
    sim.wait_for(lambda: len([a for a in sim.acks() if a["event_id"] == r["event_id"]]) >= 2, timeout=10)
    time.sleep(0.5)
    assert len(replies_to(sim, r["message_id"])) == answered   # seen before the move: not applied again
    assert new.sql("SELECT COUNT(*) FROM requests") == [(2,)]
    assert new.stop() == 0

    # A target that already holds records is refused, and nothing is written.
    again = migrate(old.db, url)
    assert again.returncode == 1 and "already holds records" in again.stderr
    assert new.sql("SELECT COUNT(*) FROM requests") == [(2,)]


def test_backup_on_postgresql_points_to_its_own_tools(sim, tmp_path):
    d = Daemon(sim, tmp_path)
    p = subprocess.run([COLLABD_BIN, "--config", d.config_path, "backup", str(tmp_path / "x.db")],
                       capture_output=True, text=True, env=d.env(), timeout=20)
    assert p.returncode != 0 and "pg_dump" in p.stderr
