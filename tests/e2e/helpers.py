"""Helpers and the standard cast shared by the end-to-end tests.

Test modules import from here (or get fixtures from conftest.py), never from
one another.
"""

import datetime
import json
import subprocess

from daemonctl import COLLABD_BIN

# The workflow's clock: China Standard Time, as the calendar and deadlines use.
SH = datetime.timezone(datetime.timedelta(hours=8))

# The standard cast for a request: JSB asks, marketing and finance are involved.
# Tests that need other people or departments define their own directory.
DIRECTORY = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_fin", "name": "财务钱"},
              {"id": "ou_finboss", "name": "财务总"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"]},
    ],
}
# A valid /需求 from ou_init (JSB) involving 市场部 and 财务部, and the id the
# first request of 2026-Q4 gets.
FORM = ("/需求\n需求名称：新品发布会\n联系方式：1380000\n需求背景：新品上市\n具体任务：场地、直播\n"
        "涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
ID = "2026-Q4-JSB-001"


def at(*a):
    """Milliseconds since the epoch of a wall-clock time in China, for the test clock:
    at(2026, 11, 30, 10) is 10:00 on 30 November 2026."""
    return int(datetime.datetime(*a, tzinfo=SH).timestamp() * 1000)


def import_directory(d, doc, tmp_path):
    """Runs `collabd import-directory` on doc (a dict) against daemon d's database;
    returns the CompletedProcess (check returncode, stdout, stderr)."""
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return subprocess.run([COLLABD_BIN, "--config", d.config_path, "import-directory", str(path)],
                          capture_output=True, text=True, env=d.env(), timeout=20)


def reply_texts(sim):
    """The text of every text message the bot posted, in order."""
    return [m["content"]["text"] for m in sim.messages() if m["msg_type"] == "text"]


def replies_to(sim, message_id):
    return [m for m in sim.messages() if m["reply_to"] == message_id]


def acks_for(sim, event_id):
    return [a for a in sim.acks() if a["event_id"] == event_id and a["code"] == 200]


def max_in_window(times, window=1000):
    """The most of these times that fall within any one window.  The
    simulators stamp requests in milliseconds (now_ms), so the window is in
    milliseconds too: one second by default."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def edit_json(path, change):
    """Rewrites the JSON file at path after change(doc) edited it in place."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    change(doc)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
