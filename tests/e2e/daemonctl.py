"""Test-side control of the real collabd binary: config, start, stop, kill, restart.

The daemon runs as a subprocess with a config written into a temporary
directory, talking only to the simulator on 127.0.0.1.  Its log goes to a file
so a failing test can show it.
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import time
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg"))
import pgcluster  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CALENDAR_DIR = os.path.join(REPO, "deploy", "calendar")
COLLABD_BIN = os.environ.get(
    "COLLABD_BIN",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "collabd"))


# The platforms' send limits (Feishu 5 a second per chat and 50 per app, DingTalk 20
# a minute per group and 20 a second per app) are the daemon's defaults: a scenario
# whose dozen replies go to one chat, or whose flood is answered, then spends seconds
# waiting for the pace, whatever it is about.  The e2e and PostgreSQL suites (their
# conftest.py sets FAST_PACE) lift the pace to its maximum, except for a Daemon made
# with production_pace=True (the tests about pacing) or whose extra sets a rate
# itself.  Benchmarks, chaos and the demo keep the defaults.
FAST_PACE = False
FAST_PACE_CONFIG = {"feishu": {"outbox": {"rate_per_chat": 100, "rate_per_app": 1000}},
                    "dingtalk": {"dingtalk": {"rate_per_chat_per_minute": 600, "rate_per_app": 1000}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One collabd process (restartable) over one database and config."""

    def __init__(self, sim, workdir, clock_control=False, extra=None, secret_in_env=True,
                 platform="feishu", nofile=None, database=None, production_pace=False):
        self.sim = sim
        self.platform = platform  # "feishu" (sim is a Sim) or "dingtalk" (sim is a DingSim)
        self.workdir = str(workdir)
        # On a PostgreSQL test run (make test-pg) each daemon gets an empty
        # database of its own; self.db is then its postgresql:// URI.
        # database= shares one (several instances on one PostgreSQL store).
        self.pg = (database or "").startswith("postgresql://") if database else pgcluster.server_url() is not None
        if database:
            self.db = database
        else:
            self.db = pgcluster.fresh_database() if self.pg else os.path.join(self.workdir, "collabd.db")
        self.admin_port = free_port()
        self.log_path = os.path.join(self.workdir, "collabd.log")
        self.config_path = os.path.join(self.workdir, "collabd.json")
        self.secret_in_env = secret_in_env
        self.nofile = nofile  # RLIMIT_NOFILE for the daemon (hostile-client tests), or None
        cfg = {
            "database": self.db,
            "log_level": "debug",
            "admin": {"listen": "127.0.0.1", "port": self.admin_port},
            "testing": {"clock_control": clock_control},
            "feishu": {"base_url": sim.base_url, "app_id": sim.app_id},
            "outbox": {"backoff_base_ms": 200, "backoff_max_ms": 2000},
            "calendar": {"dir": CALENDAR_DIR},
            # Tests send many commands from one user; the flood guard has its own test.
            "commands": {"per_user_per_minute": 10000, "per_user_burst": 10000},
        }
        if self.pg:
            # Instances on one PostgreSQL store share an archive directory.
            cfg["archive"] = {"dir": os.path.join(self.workdir, "archive")}
        if platform == "dingtalk":
            cfg["feishu"] = {"enabled": False}
            cfg["dingtalk"] = {"enabled": True, "base_url": sim.base_url, "client_id": sim.client_id}
        if FAST_PACE and not production_pace:
            for section, values in FAST_PACE_CONFIG[platform].items():
                cfg.setdefault(section, {}).update(values)
        if not secret_in_env:
            cfg[platform]["app_secret" if platform == "feishu" else "client_secret"] = sim.app_secret
        for section, values in (extra or {}).items():
            if isinstance(values, dict):
                cfg.setdefault(section, {}).update(values)
            else:
                cfg[section] = values
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, ensure_ascii=False, indent=2)
        os.chmod(self.config_path, 0o600)
        self.instance_id = f"test-{os.path.basename(self.workdir)}-{self.admin_port}"
        self.proc = None
        self._log = None
        self.admin_token = cfg.get("admin", {}).get("token")
        self.allowed_exit = set()  # exit codes a test expects (e.g. 78 for a fatal refusal)

    def env(self):
        env = dict(os.environ)
        # One name per Daemon, kept across its restarts, as one unit per host
        # would (README: COLLABD_INSTANCE_ID=%H): a restarted instance takes
        # back its own outbox claims at once.
        env.setdefault("COLLABD_INSTANCE_ID", self.instance_id)
        if self.secret_in_env:
            name = "COLLABD_FEISHU_APP_SECRET" if self.platform == "feishu" else "COLLABD_DINGTALK_CLIENT_SECRET"
            env[name] = self.sim.app_secret
        return env

    def start(self, wait=True):
        self._log = open(self.log_path, "ab")
        # COLLABD_WRAPPER runs the daemon under a tool, e.g. valgrind (make valgrind).
        wrapper = shlex.split(os.environ.get("COLLABD_WRAPPER", ""))
        self.proc = subprocess.Popen(wrapper + [COLLABD_BIN, "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, env=self.env(),
                                     preexec_fn=self._limit_descriptors if self.nofile else None)
        if wait:
            self.wait_ready()
        return self

    def start_at(self, clock_ms, timeout=20):
        """Starts the daemon and sets its test clock as soon as its admin port
        answers, before it is ready (several instances starting on one store
        must not run timers on the real clock first)."""
        self.start(wait=False)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.admin("/debug/clock", {"set_ms": clock_ms})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(self.log()[-3000:])
            time.sleep(0.02)
        self.wait_ready(timeout=timeout)
        return self

    def _limit_descriptors(self):
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def wait_ready(self, timeout=None):
        if timeout is None:
            timeout = 40.0 if os.environ.get("COLLABD_WRAPPER") else 10.0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collabd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.admin("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"collabd did not become healthy:\n{self.log()}")

    def admin(self, path, body=None):
        """Calls the admin interface; returns (status, parsed JSON)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stats(self):
        return self.admin("/debug/stats")[1]

    def stop(self, timeout=30.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode if self.proc else None

    def kill(self):
        """SIGKILL: no chance to flush or say goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def execute_many(self, query, rows):
        """Writes: query once per row of parameters, in one transaction."""
        if self.pg:
            return pgcluster.execute_many(self.db, query, rows)
        import sqlite3
        con = sqlite3.connect(self.db, timeout=5)
        try:
            with con:
                con.executemany(query, rows)
        finally:
            con.close()

    def sql(self, query, *args):
        """Reads the daemon's database: Python's own sqlite3 (WAL allows it), or
        psql on PostgreSQL (the query in the common dialect, ?N placeholders)."""
        if self.pg:
            return pgcluster.query(self.db, query, args)
        import sqlite3
        con = sqlite3.connect(self.db, timeout=5)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()
