#!/usr/bin/python3
"""bench_ack: durable ack throughput and ack latency of the real daemon.

Prints figures; it is not a test.  Run: make bench-ack (or this file with
COLLABD_BIN set).  Two measurements on Feishu framing:

  - drain: BENCH_EVENTS chat messages wait in the simulator while the daemon is
    down; it starts, and the simulator pushes them all at once.  Events acked
    per second = events / (last ack - first ack), by the simulator's clock.
    Queued first so the injector (Python, one HTTP call per event) is not what
    is measured; the simulator's own push loop still is a limit.
  - latency: BENCH_RATE events/s for BENCH_SECONDS, paced; the round trip the
    simulator sees (frame sent -> ack received), p50 and p99.

BENCH_SYNC_NORMAL=1 runs the daemon with testing.synchronous_normal (commits
not synced) to show what the sync costs; BENCH_BATCH=1 commits (and syncs)
each event alone; pointing COLLABD_BIN at a build from before group commit
measures the old per-event NORMAL commit.
"""

import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import Daemon  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
RATE = int(os.environ.get("BENCH_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SYNC_NORMAL = os.environ.get("BENCH_SYNC_NORMAL") == "1"
BATCH = os.environ.get("BENCH_BATCH")  # inbox.batch_max_events; 1 = a synced commit per event
INJECTORS = 4


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def inject_all(sim, n, prefix):
    """n chat messages (no reply: the ingest path alone), from INJECTORS threads."""
    def run(k):
        for i in range(k, n, INJECTORS):
            sim.inject_message(f"oc_{prefix}_{i % 50}", f"ou_{i % 97}", f"普通聊天 {i}")
    threads = [threading.Thread(target=run, args=(k,)) for k in range(INJECTORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    sim = Sim.start()
    sim.set_config(ping_interval=30, reconnect_interval=1, reconnect_nonce=0, redeliver_after=60)
    extra = {"log_level": "warn"}
    if SYNC_NORMAL:
        extra["testing"] = {"synchronous_normal": True}
    if BATCH:
        extra["inbox"] = {"batch_max_events": int(BATCH)}
    d = Daemon(sim, tempfile.mkdtemp(prefix="collabd-bench-ack-"), extra=extra)

    # Drain: the backlog waits in the simulator, then the daemon connects.
    inject_all(sim, EVENTS, "drain")
    d.start()
    sim.wait_for(lambda: len([a for a in sim.acks() if a["code"] == 200]) >= EVENTS, timeout=300, interval=0.5)
    times = [a["time"] for a in sim.acks() if a["code"] == 200]
    span_s = max((max(times) - min(times)) / 1000.0, 0.001)
    drain_rate = EVENTS / span_s

    # Latency at a modest, paced rate.
    before = len(sim.acks())
    t0 = time.monotonic()
    sent = 0
    while time.monotonic() - t0 < SECONDS:
        due = int((time.monotonic() - t0) * RATE)
        while sent < due:
            sim.inject_message(f"oc_lat_{sent % 50}", f"ou_{sent % 97}", f"普通聊天 {sent}")
            sent += 1
        time.sleep(0.001)
    sim.wait_for(lambda: len(sim.acks()) - before >= sent, timeout=60, interval=0.2)
    lat = [a["latency_ms"] for a in sim.acks()[before:] if a["code"] == 200]
    stats = d.stats()["inbox"]
    rss = 0
    with open(f"/proc/{d.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    mode = "NORMAL" if SYNC_NORMAL else "default"
    print(f"bench_ack: binary={os.environ.get('COLLABD_BIN', 'build/collabd')} sync={mode} "
          f"batch_max_events={BATCH or 'default'}")
    print(f"  drain of {EVENTS} queued events: {drain_rate:.0f} events/s acked "
          f"(commits={stats.get('commits', '-')}, largest batch={stats.get('batch_events_max', '-')})")
    print(f"  paced {sent / SECONDS:.0f} events/s for {SECONDS} s: ack round trip p50 {percentile(lat, 0.5)} ms, "
          f"p99 {percentile(lat, 0.99)} ms, max {max(lat)} ms")
    print(f"  peak RSS {rss} KiB")
    d.stop()
    sim.stop()


if __name__ == "__main__":
    main()
