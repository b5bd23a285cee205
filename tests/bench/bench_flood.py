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
collabd applies each message in a transaction that is on disk (synchronous=FULL in
WAL mode, as configured) before its ack leaves; the SDK clients do nothing but ack.
The gateway's own push rate is printed too, to show it is not the bottleneck.
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

COLLABD_BIN = os.environ.get("COLLABD_BIN", os.path.join(REPO, "build", "collabd"))
GATEWAY = os.environ.get("FLOOD_GATEWAY", os.path.join(os.path.dirname(COLLABD_BIN), "bench", "flood_gateway"))
SDK_DIR = os.environ.get("BENCH_SDK_DIR", os.path.join(REPO, "build", "bench-sdk"))
FLOOD_EVENTS = int(os.environ.get("FLOOD_EVENTS", "20000"))
PACED_RATE = int(os.environ.get("PACED_RATE", "1000"))
PACED_SECONDS = int(os.environ.get("PACED_SECONDS", "5"))
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


def start_gateway(platform, events, rate):
    gw = subprocess.Popen([GATEWAY, "--platform", platform, "--events", str(events), "--rate", str(rate),
                           "--warmup-ms", "700", "--timeout-s", "180"],
                          stdout=subprocess.PIPE, text=True)
    port = json.loads(gw.stdout.readline())["port"]
    return gw, port


def finish_gateway(gw):
    out, _ = gw.communicate(timeout=240)
    return json.loads(out.strip().splitlines()[-1])


class Collabd:
    name = "collabd"

    def __init__(self, platform, port):
        shim = types.SimpleNamespace(base_url=f"http://127.0.0.1:{port}", app_id=APP_ID, client_id="dingflood",
                                     app_secret=SECRET)
        self.d = Daemon(shim, tempfile.mkdtemp(prefix="collabd-flood-"), platform=platform,
                        extra={"log_level": "warn"})
        self.d.start(wait=False)
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
    finally:
        client.stop()
    result["client"] = client.name
    return result


def main():
    if not os.path.isdir(os.path.join(SDK_DIR, "node_modules")):
        sys.exit(f"bench_flood: the official SDK clients are not installed in {SDK_DIR}: run `make bench-deps`")
    rows = []
    for platform in ("feishu", "dingtalk"):
        for cls in (Collabd, Sdk):
            flood = run(platform, cls, FLOOD_EVENTS, 0)
            paced = run(platform, cls, PACED_RATE * PACED_SECONDS, PACED_RATE)
            rows.append((platform, flood, paced))
            print(json.dumps({"flood": flood, "paced": paced}), file=sys.stderr)
    print(f"flood: {FLOOD_EVENTS} chat messages pushed as fast as the socket takes them; "
          f"paced: {PACED_RATE}/s for {PACED_SECONDS} s")
    print(f"{'platform':9} {'client':18} {'acked/s':>9} {'pushed/s':>9} {'peak RSS':>9} "
          f"{'p50 @' + str(PACED_RATE) + '/s':>12} {'p99':>8} {'acked':>7}")
    for platform, flood, paced in rows:
        print(f"{platform:9} {flood['client']:18} {flood['acked_per_s']:9.0f} {flood['pushed_per_s']:9.0f} "
              f"{flood['peak_rss_mib']:7.1f} M {paced['p50_ms']:9.2f} ms {paced['p99_ms']:5.2f} ms "
              f"{flood['acked'] + paced['acked']:7d}")
    for platform in ("feishu", "dingtalk"):
        ours = next(f for p, f, _ in rows if p == platform and f["client"] == "collabd")
        sdk = next(f for p, f, _ in rows if p == platform and f["client"] != "collabd")
        ratio = ours["acked_per_s"] / sdk["acked_per_s"] if sdk["acked_per_s"] else float("nan")
        print(f"{platform}: collabd acks {ratio:.2f}x the official SDK's rate "
              f"({ours['acked_per_s']:.0f}/s vs {sdk['acked_per_s']:.0f}/s)")


if __name__ == "__main__":
    main()
