"""The binary's configuration handling: --check-config, refusal to start, warnings."""

import json
import os
import sqlite3
import subprocess

import pytest

import pgcluster
from daemonctl import CALENDAR_DIR, COLLABD_BIN


def run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABD_")}
    env["COLLABD_CALENDAR_DIR"] = CALENDAR_DIR
    env.update(env_extra or {})
    return subprocess.run([COLLABD_BIN, *args], capture_output=True, text=True, env=env, timeout=20)


def write(tmp_path, cfg, mode=0o600):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg, ensure_ascii=False) if not isinstance(cfg, str) else cfg)
    os.chmod(path, mode)
    return str(path)


def test_check_config_lists_every_problem_at_once(tmp_path):
    path = write(tmp_path, {
        "databse": "/tmp/x.db",                       # typo: unknown option
        "log_level": "loud",                          # bad value
        "admin": {"port": 70000},                     # out of range
        "feishu": {"base_url": "ftp://x", "app_id": 5},
        "outbox": {"max_attempts": "ten"},
    })
    p = run(["--check-config", path])
    assert p.returncode == 1
    err = p.stderr
    for needle in ("databse: unknown option", "log_level", "admin.port: 70000 is outside",
                   "feishu.base_url: must be an http", "feishu.app_id: expected a string",
                   "outbox.max_attempts: expected a whole number", "feishu.app_secret: required"):
        assert needle in err, (needle, err)
    assert "7 problems" in err


def test_check_config_ok_and_secret_from_environment(tmp_path):
    path = write(tmp_path, {"database": str(tmp_path / "db"), "feishu": {"app_id": "cli_0123456789abcdef"}})
    p = run(["--check-config", path], {"COLLABD_FEISHU_APP_SECRET": "s3cr3t-value"})
    assert p.returncode == 0, p.stderr
    assert "configuration ok" in p.stdout
    assert "s3cr3t-value" not in p.stdout + p.stderr
    assert "feishu.app_secret = (set, hidden)" in p.stdout


def test_postgresql_timeouts_are_checked(tmp_path):
    """A lock wait the statement timeout would cut short is refused; the
    bounds of the loop's waits on PostgreSQL are checked like any option."""
    path = write(tmp_path, {"database": str(tmp_path / "db"), "feishu": {"app_id": "cli_0123456789abcdef"},
                            "postgresql": {"statement_timeout_ms": 1000, "lock_timeout_ms": 1000,
                                           "connect_timeout_ms": 50}})
    p = run(["--check-config", path], {"COLLABD_FEISHU_APP_SECRET": "s3cr3t-value"})
    assert p.returncode == 1
    assert "postgresql.lock_timeout_ms: must be less than postgresql.statement_timeout_ms (1000)" in p.stderr
    assert "postgresql.connect_timeout_ms: 50 is outside" in p.stderr
    assert "2 problems" in p.stderr
    path = write(tmp_path, {"database": str(tmp_path / "db"), "feishu": {"app_id": "cli_0123456789abcdef"},
                            "postgresql": {"statement_timeout_ms": 5000, "lock_timeout_ms": 2000}})
    p = run(["--check-config", path], {"COLLABD_FEISHU_APP_SECRET": "s3cr3t-value"})
    assert p.returncode == 0, p.stderr


def test_invalid_json_is_reported_with_its_position(tmp_path):
    path = write(tmp_path, '{"database": "/tmp/x",\n  "feishu": {,}}')
    p = run(["--check-config", path])
    assert p.returncode == 1 and "line 2" in p.stderr


def test_daemon_refuses_to_start_on_bad_config_with_the_same_messages(tmp_path):
    path = write(tmp_path, {"feishu": {"app_id": "nope"}})
    p = run(["--config", path])
    assert p.returncode == 78
    assert "feishu.app_id" in p.stderr and "feishu.app_secret: required" in p.stderr


def test_secret_in_a_world_readable_file_is_warned_about(tmp_path, sim):
    path = write(tmp_path, {"database": str(tmp_path / "db"),
                            "feishu": {"app_id": "cli_0123456789abcdef", "app_secret": "x"}}, mode=0o644)
    p = run(["--check-config", path])
    assert p.returncode == 0
    assert "readable by group or others" in p.stderr and "x" not in p.stdout.split("app_secret = ")[1][:12]


def test_database_from_a_newer_collabd_is_refused(tmp_path, sim):
    db = tmp_path / "new.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    con.commit()
    con.close()
    path = write(tmp_path, {"database": str(db), "feishu": {"base_url": sim.base_url,
                                                             "app_id": "cli_0123456789abcdef"}})
    p = run(["--config", path], {"COLLABD_FEISHU_APP_SECRET": sim.app_secret})
    assert p.returncode == 1
    assert "newer than this collabd" in p.stderr


def test_help_and_version(tmp_path):
    assert run(["--version"]).stdout.startswith("collabd ")
    h = run(["--help"])
    assert h.returncode == 0 and "--check-config" in h.stdout
    assert run(["--bogus"]).returncode == 2


def test_make_install_honours_prefix_and_destdir(tmp_path):
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    dest = tmp_path / "root"
    p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/collabd"], cwd=repo,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert os.access(dest / "opt/collabd/bin/collabd", os.X_OK)
    assert (dest / "opt/collabd/share/collabd/collabd.example.json").is_file()
    assert (dest / "opt/collabd/share/collabd/calendar/2026.json").is_file()
    assert (dest / "opt/collabd/share/man/man8/collabd.8").is_file()
    unit = (dest / "opt/collabd/lib/systemd/system/collabd.service").read_text()
    assert "ExecStart=/opt/collabd/bin/collabd --config" in unit and "RestartPreventExitStatus=78" in unit


@pytest.mark.skipif(pgcluster.server_url() is not None,
                    reason="SQLite's online backup; PostgreSQL is backed up with its own tools (tests/pg)")
def test_online_backup_while_the_daemon_runs(sim, daemon, tmp_path):
    import sqlite3
    r = sim.inject_message("oc_g", "ou_alice", "/帮助")
    sim.wait_acked(r["event_id"])
    dest = tmp_path / "backup.db"
    p = subprocess.run([COLLABD_BIN, "--config", daemon.config_path, "backup", str(dest)],
                       capture_output=True, text=True, env=daemon.env(), timeout=30)
    assert p.returncode == 0, p.stderr
    assert "backed up" in p.stdout
    con = sqlite3.connect(dest)
    assert con.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 1
    assert con.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] >= 8
    con.close()
    assert daemon.admin("/healthz")[0] == 200      # the daemon did not notice


def test_failed_start_frees_everything_and_says_why(tmp_path):
    """The admin port is taken: the daemon says so and exits 1 having closed
    everything it opened (the calendar, the SLA policies, the event loop) --
    checked by valgrind's leak check, or by LeakSanitizer in the ASan run."""
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    path = write(tmp_path, {"database": str(tmp_path / "db"), "admin": {"port": port, "listen": "127.0.0.1"},
                            "feishu": {"enabled": False},
                            "dingtalk": {"enabled": True, "client_id": "dingabc", "client_secret": "x",
                                         "base_url": "http://127.0.0.1:1"}})
    wrapper = [] if os.environ.get("COLLABD_SANITIZED") == "1" else [
        "valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
        "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABD_")}
    env["COLLABD_CALENDAR_DIR"] = CALENDAR_DIR
    p = subprocess.run([*wrapper, COLLABD_BIN, "--config", path], capture_output=True, text=True, env=env,
                       timeout=60)
    busy.close()
    assert "cannot listen for the admin interface" in p.stderr
    assert p.returncode == 1, p.stderr[-3000:]
