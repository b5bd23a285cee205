#!/usr/bin/python3
"""bench_timers: the real daemon over 1,000,000 pending timers.

Builds the database with build/bench/bench_timers (1,000,000 future timers and
10,000 timers due at one moment), starts the daemon on it with the test clock,
and prints: RSS at idle with and without the million timers, and how long the
daemon takes to fire the 10,000 due timers (notices committed to the outbox).
Prints figures; it is not a test.
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import Daemon  # noqa: E402
from bench_e2e import rss_kib  # noqa: E402

BENCH_BIN = os.path.join(os.path.dirname(os.environ.get("COLLABD_BIN", "build/collabd")), "bench", "bench_timers")
DUE_AT = 1796634000000  # 2026-12-07 17:00 +08:00


def idle_rss(sim, workdir, db=None):
    d = Daemon(sim, workdir, clock_control=True, extra={"log_level": "warn"})
    if db:
        os.replace(db, d.db)
    d.start()
    sim.wait_connected()
    time.sleep(1.0)
    rss = rss_kib(d.proc.pid)
    return d, rss


def main():
    sim = Sim.start()
    sim.set_config(ping_interval=30, reconnect_interval=1, reconnect_nonce=1)
    empty_dir, full_dir = tempfile.mkdtemp(prefix="collabd-bt-"), tempfile.mkdtemp(prefix="collabd-bt-")
    d, rss_empty = idle_rss(sim, empty_dir)
    d.stop()
    db = os.path.join(full_dir, "prepared.db")
    subprocess.run([BENCH_BIN, db], check=True, stdout=subprocess.DEVNULL)
    d, rss_full = idle_rss(sim, full_dir, db)
    t0 = time.monotonic()
    d.admin("/debug/clock", {"set_ms": DUE_AT + 1000})
    while d.stats()["timers"]["fired"] < 10000:
        time.sleep(0.01)
    fire_s = time.monotonic() - t0
    stats = d.stats()
    rss_after = rss_kib(d.proc.pid)
    print(f"daemon RSS at idle: {rss_empty} KiB with no timers, {rss_full} KiB with 1,010,000 pending")
    print(f"firing 10,000 timers due at one moment: {fire_s:.2f} s until all were committed "
          f"({stats['timers']['messages']} coalesced messages in the outbox, "
          f"{stats['timers']['batches']} transactions); RSS then {rss_after} KiB")
    d.stop()
    sim.stop()


if __name__ == "__main__":
    main()
