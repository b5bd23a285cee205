"""A throwaway PostgreSQL server for the tests: initdb in a temporary
directory, its own port on 127.0.0.1, no system service.

PostgreSQL refuses to run as root, so when the tests run as root the server
runs as an unprivileged user (COLLABD_PG_USER, default "nobody") through
runuser.  Trust authentication on 127.0.0.1 only: it is a test server that
lives as long as the run.

Also the tests' client side: fresh_database() makes an empty database per
test, query() reads one with psql (no Python driver needed).
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid


def _bindir():
    """Where initdb and pg_ctl are: PATH, then pg_config, then Debian's layout."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return os.path.dirname(shutil.which("initdb"))
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed: `make deps`")
    return os.path.dirname(found[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """start() -> a running server; url(db) names a database on it."""

    def __init__(self, user="collabd", durable=False):
        # Not durable (the default): commits return before the WAL reaches the
        # disk and nothing is fsynced, which is fine for a server that dies
        # with the run -- but a crash-stop of it would lose the last commits,
        # so the tests that restart the server, and the benchmark, ask for
        # durable commits.
        self.durable = durable
        self.bin = _bindir()
        self.user = user
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="collabd-pg-")
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = os.environ.get("COLLABD_PG_USER", "nobody")
            import pwd
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)

    def _cmd(self, args):
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--"] + args
        return args

    def start(self):
        if not os.path.exists(self.data):
            subprocess.run(self._cmd([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", self.user,
                                      "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]),
                           check=True, capture_output=True, cwd=self.dir)
        self._ctl("start", "-w", "-l", self.logfile, "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync={'on' if self.durable else 'off'} "
                  f"-c synchronous_commit={'on' if self.durable else 'off'} -c max_connections=300")
        return self

    def _ctl(self, *args):
        subprocess.run(self._cmd([os.path.join(self.bin, "pg_ctl"), "-D", self.data] + list(args)),
                       check=True, capture_output=True, cwd=self.dir)

    def stop(self, mode="fast"):
        self._ctl("stop", "-w", "-m", mode)

    def restart(self):
        """Stops the server (cutting every connection) and starts it again."""
        self.stop("immediate")
        self._ctl("start", "-w", "-l", self.logfile, "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync={'on' if self.durable else 'off'} "
                  f"-c synchronous_commit={'on' if self.durable else 'off'} -c max_connections=300")

    def destroy(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db="postgres"):
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"


def server_url():
    """The test server named by COLLABD_TEST_PG (make test-pg sets it), or None."""
    return os.environ.get("COLLABD_TEST_PG") or None


def _with_db(url, db):
    base, _, _ = url.rpartition("/")
    return f"{base}/{db}"


def psql(url, sql):
    # The statement on stdin: it may be larger than a command line may be.
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"],
                         input=sql, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"psql: {out.stderr.strip()}")
    return out.stdout


def fresh_database(url=None):
    """Creates an empty database on the test server; returns its URI."""
    url = url or server_url()
    name = "cd_" + uuid.uuid4().hex[:16]
    psql(_with_db(url, "postgres"), f'CREATE DATABASE "{name}"')
    return _with_db(url, name)


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _bind(query, args):
    """?N and ? placeholders as SQL literals (psql has no parameters)."""
    out, i, n, quote = [], 0, 0, None
    while i < len(query):
        c = query[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "?":
            j = i + 1
            while j < len(query) and query[j].isdigit():
                j += 1
            idx = int(query[i + 1:j]) - 1 if j > i + 1 else n
            n += 1
            out.append(_literal(args[idx]))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def execute_many(url, sql, rows):
    """sql once per row of parameters, in one transaction (one psql call)."""
    psql(url, "BEGIN;" + ";".join(_bind(sql, row) for row in rows) + ";COMMIT;")


def query(url, sql, args=()):
    """Rows of sql as tuples, typed as PostgreSQL returns them through JSON
    (integers as int, text as str, NULL as None, booleans as 0/1)."""
    sql = _bind(sql.strip().rstrip(";"), args)
    if not sql.lstrip().upper().startswith(("SELECT", "WITH", "VALUES")):
        psql(url, sql)
        return []
    text = psql(url, f"SELECT row_to_json(q) FROM ({sql}) AS q")
    rows = []
    for line in text.splitlines():
        if line:
            pairs = json.loads(line, object_pairs_hook=list)
            rows.append(tuple(int(v) if isinstance(v, bool) else v for _, v in pairs))
    return rows


class TableLock:
    """Holds a write lock on a table from another session (like another
    writer holding SQLite's lock) until release()."""

    def __init__(self, url, table):
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-At", "-d", url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(f"BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE; SELECT 'locked';\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "locked":
            raise RuntimeError("could not lock " + table)

    def release(self):
        self.proc.stdin.write("ROLLBACK;\n")
        self.proc.stdin.close()
        self.proc.wait(10)


class PgProxy:
    """A TCP relay in front of the server that can be cut like a network
    partition or a frozen host: cut() stops moving bytes on every connection
    and accepts new ones without ever answering them (what a client sees when
    packets to the server vanish); heal() closes what it held and relays
    again.  url(db) names a database through it."""

    def __init__(self, server_port):
        import threading
        self.server_port = server_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cut_now = False
        self.generation = 0
        self.held = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, db="postgres"):
        return f"postgresql://collabd@127.0.0.1:{self.port}/{db}"

    def _accept(self):
        import threading
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.held.append(client)
                if self.cut_now:
                    continue            # accepted, never answered
                gen = self.generation
            try:
                server = socket.create_connection(("127.0.0.1", self.server_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.held.append(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b, gen), daemon=True).start()

    def _pump(self, src, dst, gen):
        import select
        while True:
            if self.cut_now or gen != self.generation:
                if gen != self.generation:
                    return
                time.sleep(0.02)        # partitioned: bytes stay where they are
                continue
            try:
                ready, _, _ = select.select([src], [], [], 0.05)
                if not ready:
                    continue
                data = src.recv(65536)
                if not data or self.cut_now:
                    if not data:
                        dst.close()
                        return
                    # Read during the cut: swallowed, as a lost packet would be.
                    continue
                dst.sendall(data)
            except (OSError, ValueError):
                return

    def cut(self):
        self.cut_now = True

    def heal(self):
        """Drops every connection made so far and relays new ones."""
        with self.lock:
            self.generation += 1
            held, self.held = self.held, []
            self.cut_now = False
        for s in held:
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.listener.close()
        self.heal()


if __name__ == "__main__":
    # python3 pgcluster.py CMD...: runs CMD with a server up and COLLABD_TEST_PG naming it.
    import sys
    c = PgCluster().start()
    try:
        env = dict(os.environ, COLLABD_TEST_PG=c.url())
        rc = subprocess.call(sys.argv[1:], env=env)
    finally:
        c.destroy()
    sys.exit(rc)
