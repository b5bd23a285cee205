"""Data at rest (issue 16, item 8): the daemon works under umask 027, its
database and WAL files are created 0600, a database readable by others is
warned about at start, and /归档 names the archive and its board link --
never a path on the server."""

import os
import stat

import pytest

import pgcluster

from helpers import DIRECTORY, FORM, ID, at, import_directory, replies_to

CHAT = "oc_arc"


def say(sim, user, text):
    r = sim.inject_message(CHAT, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def in_progress(sim, d):
    assert d.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 9, 30)})[0] == 200     # Monday
    for user, line in (("ou_init", FORM), ("ou_head", f"/需求 批准 {ID}"), ("ou_mkt", f"/确认 {ID}"),
                       ("ou_fin", f"/确认 {ID}")):
        say(sim, user, line)
    sim.wait_for(lambda: d.sql("SELECT state FROM requests") == [("in_progress",)])


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(pgcluster.server_url() is not None,
                    reason="the SQLite file's mode; PostgreSQL keeps its files itself")
def test_database_files_are_private(sim, make_daemon):
    old = os.umask(0o022)          # what a careless service manager might leave
    try:
        d = make_daemon()
    finally:
        os.umask(old)
    r = sim.inject_message("oc_g", "ou_a", "/帮助")
    sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)
    for suffix in ("", "-wal", "-shm"):
        path = d.db + suffix
        assert os.path.exists(path), path
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    assert "readable by other users" not in d.log()


@pytest.mark.skipif(pgcluster.server_url() is not None,
                    reason="the SQLite file's mode; PostgreSQL keeps its files itself")
def test_a_database_readable_by_others_is_warned_about(sim, make_daemon):
    d = make_daemon()
    d.stop()
    os.chmod(d.db, 0o644)
    d.start()
    log = d.log()
    assert "the database is readable by other users of this machine" in log and "mode=644" in log


def test_archive_reply_names_no_server_path(sim, make_daemon, tmp_path):
    library = tmp_path / "库"
    d = make_daemon(clock_control=True, extra={"archive": {"dir": str(library)},
                                               "board": {"public_url": "https://board.example.com"}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    in_progress(sim, d)
    assert d.admin("/debug/clock", {"set_ms": at(2026, 12, 9, 10)})[0] == 200
    done = say(sim, "ou_init", f"/需求 完成 {ID}\n交付物：发布会总结.pptx")
    assert "2026-Q4-XMB-001" in done and str(tmp_path) not in done
    reply = say(sim, "ou_mkt", f"/归档 {ID}")
    assert "归档 2026-Q4-XMB-001" in reply and "2026-Q4-XMB-001.json" in reply
    assert f"https://board.example.com/board/req/{ID}" in reply
    assert str(tmp_path) not in reply and "/库" not in reply and not any(
        line.strip().startswith("/") for line in reply.splitlines()), reply
    # The archive's files were written under the daemon's umask too.
    files = [os.path.join(root, f) for root, _, fs in os.walk(library) for f in fs]
    assert files and all(mode(f) & 0o007 == 0 for f in files), [(f, oct(mode(f))) for f in files]
