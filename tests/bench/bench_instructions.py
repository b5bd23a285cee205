#!/usr/bin/python3
"""bench_instructions: instructions per event under a flood, counted by callgrind.

Wall-clock figures move with a shared machine's load; instruction counts do not.
Runs collabd under `valgrind --tool=callgrind` against flood_gateway twice --
INSTR_EVENTS chat messages (20,000 by default) and 1,000 -- and prints
(instructions of the long run - those of the short one) / the difference in
events: the whole daemon's work per event, start-up cancelled out.  Also the
store's part as the README counted it before (the inclusive cost of
inbox_batch_flush and inbox_batch_add per event in the long run), and the
heaviest functions.  Prints figures; it is not a test.

  make bench-instructions [INSTR_PLATFORM=dingtalk|feishu] [INSTR_EVENTS=20000]

The callgrind files stay in the printed directory (callgrind_annotate reads them).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from daemonctl import COLLABD_BIN, Daemon  # noqa: E402

GATEWAY = os.environ.get("FLOOD_GATEWAY", os.path.join(os.path.dirname(COLLABD_BIN), "bench", "flood_gateway"))
PLATFORM = os.environ.get("INSTR_PLATFORM", "dingtalk")
EVENTS = int(os.environ.get("INSTR_EVENTS", "20000"))
SHORT = 1000


def run(events, out_dir):
    """Instructions of one daemon run under callgrind over `events` flooded events; its output file."""
    out = os.path.join(out_dir, f"callgrind.{PLATFORM}.{events}")
    gw = subprocess.Popen([GATEWAY, "--platform", PLATFORM, "--events", str(events), "--rate", "0",
                           "--warmup-ms", "3000", "--timeout-s", "900"], stdout=subprocess.PIPE, text=True)
    port = json.loads(gw.stdout.readline())["port"]
    shim = types.SimpleNamespace(base_url=f"http://127.0.0.1:{port}", app_id="cli_0123456789abcdef",
                                 client_id="dingflood", app_secret="flood-secret")
    os.environ["COLLABD_WRAPPER"] = f"valgrind --tool=callgrind --dump-instr=no --callgrind-out-file={out}"
    d = Daemon(shim, tempfile.mkdtemp(prefix="collabd-instr-"), platform=PLATFORM, extra={"log_level": "warn"})
    d.start(wait=False)
    try:
        result = json.loads(gw.communicate(timeout=1000)[0].strip().splitlines()[-1])
    finally:
        d.stop(timeout=120)
    if result["acked"] != events:
        sys.exit(f"bench_instructions: {result['acked']} of {events} events acked")
    with open(out) as f:
        total = next(int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:")))
    return total, out


def inclusive(path, names):
    """Inclusive instructions of each function named (callgrind_annotate --inclusive=yes)."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True,
                          text=True, check=True).stdout
    got = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*?:(\w+)(?:\.part\.\d+)?\s", line)
        if m and m.group(2) in names and m.group(2) not in got:
            got[m.group(2)] = int(m.group(1).replace(",", ""))
    return got


def main():
    out_dir = tempfile.mkdtemp(prefix="collabd-callgrind-")
    long_total, long_out = run(EVENTS, out_dir)
    short_total, _ = run(SHORT, out_dir)
    per_event = (long_total - short_total) / (EVENTS - SHORT)
    store = inclusive(long_out, {"inbox_batch_flush", "inbox_batch_add"})
    print(f"{PLATFORM}: {per_event:,.0f} instructions per event "
          f"(({long_total:,} - {short_total:,}) / {EVENTS - SHORT:,}); "
          f"inbox_batch_flush + inbox_batch_add: {sum(store.values()) / EVENTS:,.0f} per event")
    print(f"callgrind files in {out_dir}")
    top = subprocess.run(["callgrind_annotate", long_out], capture_output=True, text=True, check=True).stdout
    rows = [line for line in top.splitlines() if re.match(r"\s*[\d,]+\s+\(", line)][1:16]
    print("heaviest functions (self, the long run):")
    for line in rows:
        print("  " + line.strip())


if __name__ == "__main__":
    main()
