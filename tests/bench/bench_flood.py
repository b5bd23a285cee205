#!/usr/bin/python3
"""bench_flood: durable acks per second, ack latency and memory, collabd beside the
platforms' official SDK clients, both against the same C gateway (flood_gateway).

Prints figures; it is not a test.  Run: make bench-flood  (make bench-deps installs
the official clients once: @larksuiteoapi/node-sdk WSClient and dingtalk-stream
DWClient, with handlers that only acknowledge).

For each platform and each client:
  - flood: FLOOD_EVENTS chat messages pushed as fast as the client's socket takes
    them; acks per second from the first push to the last ack, and the client's
    peak RSS (VmHWM) over the whole run;
  - paced: PACED_RATE messages per second for PACED_SECONDS; ack latency p50/p99
    as the gateway sees it (frame written -> ack read).
Each client runs FLOOD_ROUNDS times (default 3), the order flipped every round;
the table shows medians (peak RSS: the highest), the disk's own fsync latency
beside them, and whether each target of issue 14 is met.
collabd applies each message in a transaction that is on disk (synchronous=FULL in
WAL mode, as configured) before its ack leaves; the SDK clients do nothing but ack.
The gateway's own push rate and CPU per frame are printed too, to show it is not
the bottleneck.

bench_flood.py --engines (make bench-engines) compares the stores instead, collabd
only, Feishu framing: SQLite, and PostgreSQL (a throwaway server started here,
fsync and synchronous_commit on) with one instance and with three instances
sharing the database, the gateway giving each event to one of their connections.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from daemonctl import Daemon  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests", "pg"))
import pgcluster  # noqa: E402

COLLABD_BIN = os.environ.get("COLLABD_BIN", os.path.join(REPO, "build", "collabd"))
GATEWAY = os.environ.get("FLOOD_GATEWAY", os.path.join(os.path.dirname(COLLABD_BIN), "bench", "flood_gateway"))
SDK_DIR = os.environ.get("BENCH_SDK_DIR", os.path.join(REPO, "build", "bench-sdk"))
# 100,000: at 100,000+ acks/s a 20,000-event flood is over in 0.2 s, within the
# noise of a process starting and a JIT warming up.
FLOOD_EVENTS = int(os.environ.get("FLOOD_EVENTS", "100000"))
PACED_RATE = int(os.environ.get("PACED_RATE", "1000"))
PACED_SECONDS = int(os.environ.get("PACED_SECONDS", "5"))
ROUNDS = int(os.environ.get("FLOOD_ROUNDS", "3"))
# Subsets while working on one part: FLOOD_PLATFORMS=dingtalk, FLOOD_CLIENTS=collabd.
PLATFORMS = [p for p in os.environ.get("FLOOD_PLATFORMS", "feishu,dingtalk").split(",") if p]
CLIENTS = [c for c in os.environ.get("FLOOD_CLIENTS", "collabd,sdk").split(",") if c]
TARGET_RATIO = 2.0      # issue 14: at least twice the official SDK's ack rate
TARGET_RSS_MIB = 16e6 / 2**20  # peak RSS during the flood: the issue says 16 MB, i.e. 15.26 MiB
TARGET_P99_MS = 10.0    # ack latency p99 at PACED_RATE
APP_ID = "cli_0123456789abcdef"
SECRET = "flood-secret"


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid):
    """utime + stime of a process so far (the steadier figure on a shared machine:
    what a run costs, not how long the neighbours let it take)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def start_gateway(platform, events, rate, clients=1):
    gw = subprocess.Popen([GATEWAY, "--platform", platform, "--events", str(events), "--rate", str(rate),
                           "--warmup-ms", "700", "--timeout-s", "180", "--clients", str(clients)],
                          stdout=subprocess.PIPE, text=True)
    port = json.loads(gw.stdout.readline())["port"]
    return gw, port


def finish_gateway(gw):
    out, _ = gw.communicate(timeout=240)
    return json.loads(out.strip().splitlines()[-1])


def start_daemon(port, platform, database=None):
    """A collabd on the gateway at port, started as deploy/collabd.service and
    the Containerfile start it: GnuTLS (loaded by libcurl's librtmp and libpq's
    libldap, never called) does not initialise itself at load time, ~0.7 MiB
    less resident."""
    shim = types.SimpleNamespace(base_url=f"http://127.0.0.1:{port}", app_id=APP_ID, client_id="dingflood",
                                 app_secret=SECRET)
    d = Daemon(shim, tempfile.mkdtemp(prefix="collabd-flood-"), platform=platform, database=database,
               extra={"log_level": "warn"})
    base_env = d.env
    d.env = lambda: dict(base_env(), GNUTLS_NO_IMPLICIT_INIT="1")
    return d.start(wait=False)


class Collabd:
    name = "collabd"

    def __init__(self, platform, port):
        self.d = start_daemon(port, platform)
        self.pid = self.d.proc.pid

    def stop(self):
        self.d.stop()


class Sdk:
    def __init__(self, platform, port):
        self.name = "Lark WSClient" if platform == "feishu" else "DingTalk DWClient"
        script = os.path.join(HERE, "sdk", f"{platform}_client.js")
        env = dict(os.environ, NODE_PATH=os.path.join(SDK_DIR, "node_modules"))
        self.proc = subprocess.Popen(["node", script, f"http://127.0.0.1:{port}", SECRET], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run(platform, client_cls, events, rate):
    print(f"bench_flood: {platform} {client_cls.__name__} events={events} rate={rate}", file=sys.stderr)
    gw, port = start_gateway(platform, events, rate)
    client = client_cls(platform, port)
    try:
        result = finish_gateway(gw)
        result["peak_rss_mib"] = peak_rss_mib(client.pid)
        result["cpu_us_per_event"] = cpu_seconds(client.pid) * 1e6 / max(1, result["acked"])
    finally:
        client.stop()
    result["client"] = client.name
    return result


def disk_sync_latency(rate, seconds):
    """The disk's own fsync latency: append a 4 KiB page and fdatasync it,
    `rate` times a second, in the directory the daemons' databases live in.
    A commit with synchronous=FULL cannot be faster than this."""
    d = tempfile.mkdtemp(prefix="collabd-fsync-")
    path = os.path.join(d, "probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    lat = []
    page = b"x" * 4096
    try:
        for _ in range(rate * seconds):
            t = time.perf_counter()
            os.write(fd, page)
            os.fdatasync(fd)
            done = time.perf_counter()
            lat.append((done - t) * 1000)
            time.sleep(max(0.0, 1.0 / rate - (done - t)))
    finally:
        os.close(fd)
        os.unlink(path)
        os.rmdir(d)
    lat.sort()
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def sqlite_commit_latency(rate, seconds):
    """One small INSERT committed per event in WAL mode with synchronous=FULL,
    `rate` times a second, by Python's sqlite3: the floor of a durable
    commit per event on this disk, without any daemon around it."""
    import sqlite3
    d = tempfile.mkdtemp(prefix="collabd-commit-")
    path = os.path.join(d, "probe.db")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
    lat = []
    try:
        for i in range(rate * seconds):
            t = time.perf_counter()
            con.execute("BEGIN")
            con.execute("INSERT INTO t VALUES (?, ?)", (f"ev_{i}", "今天的进展正常" * 8))
            con.execute("COMMIT")
            done = time.perf_counter()
            lat.append((done - t) * 1000)
            time.sleep(max(0.0, 1.0 / rate - (done - t)))
    finally:
        con.close()
        for name in os.listdir(d):
            os.unlink(os.path.join(d, name))
        os.rmdir(d)
    lat.sort()
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def median(values):
    v = sorted(values)
    return v[len(v) // 2]


def main():
    if not os.path.isdir(os.path.join(SDK_DIR, "node_modules")):
        sys.exit(f"bench_flood: the official SDK clients are not installed in {SDK_DIR}: run `make bench-deps`")
    # Each client ROUNDS times, the order flipped every round, so that a
    # neighbour's burst on the shared machine does not land on one client only.
    runs = {}  # (platform, client name) -> [(flood, paced)]
    for rnd in range(ROUNDS):
        for platform in PLATFORMS:
            order = [c for c in (Collabd, Sdk) if c.__name__.lower() in CLIENTS]
            if rnd % 2:
                order.reverse()
            for cls in order:
                flood = run(platform, cls, FLOOD_EVENTS, 0)
                paced = run(platform, cls, PACED_RATE * PACED_SECONDS, PACED_RATE)
                runs.setdefault((platform, flood["client"]), []).append((flood, paced))
                print(json.dumps({"round": rnd, "flood": flood, "paced": paced}), file=sys.stderr)
    sync_p50, sync_p99 = disk_sync_latency(PACED_RATE, 2)
    commit_p50, commit_p99 = sqlite_commit_latency(PACED_RATE, 3)
    print(f"flood: {FLOOD_EVENTS} chat messages pushed as fast as the socket takes them; "
          f"paced: {PACED_RATE}/s for {PACED_SECONDS} s; median of {ROUNDS} interleaved runs "
          f"(peak RSS: the highest of the runs)")
    print("pushed/s and gw CPU/ev are the gateway's (its CPU per frame over the flood: the injector's share "
          "of the shared cores); CPU/event is the client's")
    print(f"{'platform':9} {'client':18} {'acked/s':>9} {'pushed/s':>9} {'gw CPU/ev':>10} {'CPU/event':>10} "
          f"{'peak RSS':>10} {'p50 @' + str(PACED_RATE) + '/s':>12} {'p99':>9} {'lost':>5}")
    summary = {}
    for (platform, client), rs in runs.items():
        acked = median([f["acked_per_s"] for f, _ in rs])
        pushed = median([f["pushed_per_s"] for f, _ in rs])
        cpu = median([f["cpu_us_per_event"] for f, _ in rs])
        gw_cpu = median([f.get("gateway_cpu_us_per_event", float("nan")) for f, _ in rs])
        rss = max(max(f["peak_rss_mib"], p["peak_rss_mib"]) for f, p in rs)
        p50 = median([p["p50_ms"] for _, p in rs])
        p99 = median([p["p99_ms"] for _, p in rs])
        lost = sum(f["pushed"] - f["acked"] + p["pushed"] - p["acked"] for f, p in rs)
        summary[(platform, client)] = (acked, rss, p99, lost)
        print(f"{platform:9} {client:18} {acked:9.0f} {pushed:9.0f} {gw_cpu:7.2f} µs {cpu:7.1f} µs {rss:6.1f} MiB {p50:9.2f} ms "
              f"{p99:6.2f} ms {lost:5d}")
    print(f"disk: append 4 KiB + fdatasync at {PACED_RATE}/s: p50 {sync_p50:.2f} ms, p99 {sync_p99:.2f} ms "
          f"(a durable commit cannot beat this)")
    print(f"disk: one SQLite commit (WAL, synchronous=FULL) per event at {PACED_RATE}/s: p50 {commit_p50:.2f} ms, "
          f"p99 {commit_p99:.2f} ms")
    print(f"targets (issue 14): acks >= {TARGET_RATIO:g}x the official SDK's, peak RSS <= {TARGET_RSS_MIB:.2f} MiB (16 MB), "
          f"p99 <= {TARGET_P99_MS:g} ms at {PACED_RATE}/s")
    for platform in PLATFORMS:
        ours = summary.get((platform, "collabd"))
        sdk = next((v for (p, c), v in summary.items() if p == platform and c != "collabd"), None)
        if ours is None or sdk is None:
            continue
        ratio = ours[0] / sdk[0] if sdk[0] else float("nan")
        checks = (("throughput", ratio >= TARGET_RATIO, f"{ratio:.2f}x ({ours[0]:.0f}/s vs {sdk[0]:.0f}/s)"),
                  ("peak RSS", ours[1] <= TARGET_RSS_MIB, f"{ours[1]:.2f} MiB"),
                  ("p99 @" + str(PACED_RATE) + "/s", ours[2] <= TARGET_P99_MS,
                   f"{ours[2]:.2f} ms (disk fsync p99 {sync_p99:.2f} ms, bare SQLite commit p99 {commit_p99:.2f} ms)"),
                  ("nothing lost", ours[3] == 0, f"{ours[3]} unacked"))
        for name, ok, detail in checks:
            print(f"{platform}: {name:14} {'met    ' if ok else 'NOT met'} {detail}")


class Instances:
    """n collabd instances on one database (a SQLite file when n is 1 and
    database is None)."""

    def __init__(self, platform, port, n, database):
        self.ds = [start_daemon(port, platform, database) for _ in range(n)]

    def peak_rss_mib(self):
        return sum(peak_rss_mib(d.proc.pid) for d in self.ds)

    def stop(self):
        for d in self.ds:
            d.stop()


def engines():
    server = pgcluster.PgCluster(durable=True).start()
    rows = []
    try:
        for label, n, pg in (("SQLite, 1 instance", 1, False), ("PostgreSQL, 1 instance", 1, True),
                             ("PostgreSQL, 3 instances", 3, True)):
            result = {}
            for mode, events, rate in (("flood", FLOOD_EVENTS, 0), ("paced", PACED_RATE * PACED_SECONDS, PACED_RATE)):
                db = pgcluster.fresh_database(server.url()) if pg else None
                print(f"bench_flood: {label} {mode}", file=sys.stderr)
                gw, port = start_gateway("feishu", events, rate, clients=n)
                inst = Instances("feishu", port, n, db)
                try:
                    result[mode] = finish_gateway(gw)
                    result[mode]["peak_rss_mib"] = inst.peak_rss_mib()
                finally:
                    inst.stop()
            rows.append((label, result))
            print(json.dumps({label: result}), file=sys.stderr)
    finally:
        server.destroy()
    print(f"durable events: {FLOOD_EVENTS} chat messages as fast as they are taken; "
          f"ack latency at {PACED_RATE}/s for {PACED_SECONDS} s (Feishu framing)")
    print(f"{'store':26} {'acked/s':>9} {'p50 @' + str(PACED_RATE) + '/s':>12} {'p99':>9} {'peak RSS':>10}")
    for label, r in rows:
        print(f"{label:26} {r['flood']['acked_per_s']:9.0f} {r['paced']['p50_ms']:9.2f} ms "
              f"{r['paced']['p99_ms']:6.2f} ms {r['flood']['peak_rss_mib']:8.1f} M")


if __name__ == "__main__":
    if "--engines" in sys.argv[1:]:
        engines()
        sys.exit(0)
    main()
