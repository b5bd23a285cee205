#!/usr/bin/python3
"""bench_e2e: the real daemon against the simulator -- ack latency, throughput, memory.

Prints figures; it is not a test.  Run: make bench
  - ack latency: daemon-side (frame in -> event committed -> ack queued) from the
    daemon's own counters, and round trip as the simulator sees it (frame sent ->
    ack received), for commands sent one at a time;
  - throughput: N commands injected back to back, time until all are acked and
    all replies are sent;
  - memory: the daemon's RSS at idle after start, and after the load.
"""

import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import Daemon  # noqa: E402

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "200"))
BURST = int(os.environ.get("BENCH_BURST", "1000"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    sim = Sim.start()
    sim.set_config(ping_interval=30, reconnect_interval=1, reconnect_nonce=1)
    d = Daemon(sim, tempfile.mkdtemp(prefix="collabd-bench-"), extra={"log_level": "warn"})
    d.start()
    sim.wait_connected()
    time.sleep(1.0)
    idle_rss = rss_kib(d.proc.pid)

    # Sequential: one command at a time, wait for its ack.
    round_trips = []
    for _ in range(SEQUENTIAL):
        r = sim.inject_message("oc_bench", "ou_bench", "/帮助")
        ack = sim.wait_acked(r["event_id"], timeout=10)
        round_trips.append(ack["latency_ms"])
    s = d.stats()["feishu_ws"]
    mean_us = s["ack_latency_us_total"] / max(s["acks"], 1)

    # Burst: BURST commands back to back.
    sim.wait_for(lambda: d.stats()["outbox"]["pending"] == 0, timeout=60)
    sent_before = d.stats()["outbox"]["sent"]
    t0 = time.monotonic()
    ids = [sim.inject_message("oc_burst_%d" % (i % 20), "ou_bench", "/帮助")["event_id"] for i in range(BURST)]
    sim.wait_for(lambda: d.stats()["inbox"]["applied"] >= SEQUENTIAL + BURST, timeout=120, interval=0.2)
    t_acked = time.monotonic() - t0
    sim.wait_for(lambda: d.stats()["outbox"]["sent"] - sent_before >= BURST, timeout=120, interval=0.2)
    t_sent = time.monotonic() - t0
    load_rss = rss_kib(d.proc.pid)
    del ids

    rt = sorted(round_trips)
    print(f"ack latency, daemon-side (decode+commit+ack), {s['acks']} events: "
          f"mean {mean_us / 1000:.2f} ms, max {s['ack_latency_us_max'] / 1000:.2f} ms")
    print(f"ack round trip seen by the simulator, {SEQUENTIAL} sequential commands: "
          f"median {statistics.median(rt):.1f} ms, p95 {rt[int(len(rt) * 0.95) - 1]:.1f} ms")
    print(f"burst of {BURST} commands: all applied and acked in {t_acked:.2f} s "
          f"({BURST / t_acked:.0f} events/s, simulator-bound), all replies sent in {t_sent:.2f} s")
    print(f"daemon RSS: {idle_rss} KiB at idle, {load_rss} KiB after the burst")
    d.stop()
    sim.stop()


if __name__ == "__main__":
    main()
