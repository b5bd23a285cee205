"""The 进度看板 web board in a real browser (Debian's headless Chromium) against a
daemon driven through a scripted workflow: requests in each state, an overdue
approval highlighted, departments' answers, a request named with a <script>
tag shown as text, the request page and the archive; screenshots are kept as
test artefacts.  Then the HTTP side: the strict Content-Security-Policy and the
token beyond loopback."""

import http.client
import re
import subprocess
import urllib.error
import urllib.request

import pytest

import browser
from daemonctl import COLLABD_BIN, free_port
from helpers import DIRECTORY, FORM, at, import_directory, replies_to

HOUR = 3_600_000
EVIL = '<script>alert("x")</script>'
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
TOKEN = "board-token-0123456789abcdef"
ISSUE = ("/问题\n关联需求：2026-Q4-JSB-003\n问题类型：技术\n严重程度：紧急\n影响范围：直播线路\n"
         "问题描述：直播推流中断 <b>x</b>\n发生时间：2026-12-01 11:55\n预计解决时间：2026-12-02 18:00\n接收部门：财务部")

needs_browser = pytest.mark.skipif(browser.chromium() is None,
                                   reason="Debian's chromium is not installed (make deps installs it)")


def say(sim, user, text):
    r = sim.inject_message("oc_board", user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)[0]["content"]["text"]


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8")


def card(dom, request_id):
    """The <article> of one request on the board, as serialised by the browser."""
    m = re.search(r'<article class="([^"]*)" id="req-' + re.escape(request_id) + r'">(.*?)</article>', dom, re.S)
    assert m, f"no card for {request_id}"
    return m.group(1), m.group(2)


@pytest.fixture
def workflow(sim, make_daemon, tmp_path):
    """A daemon with the board on, after this script (ids in order of submission):
    001  named with a <script> tag, submitted Monday 10:00, never approved: overdue
    002  approved Tuesday 12:00, 市场部 confirmed, 财务部 not yet (due Wednesday 12:00)
    003  approved and confirmed by both: in progress, with an urgent issue reported at 12:00
    004  withdrawn: not on the board, in the archive page's closed list"""
    port = free_port()
    d = make_daemon(clock_control=True, extra={"board": {"listen": "127.0.0.1", "port": port}})
    assert import_directory(d, DIRECTORY, tmp_path).returncode == 0
    d.admin("/debug/clock", {"set_ms": at(2026, 11, 30, 10)})
    assert "2026-Q4-JSB-001" in say(sim, "ou_init", FORM.replace("新品发布会", EVIL))
    d.admin("/debug/clock", {"advance_ms": 26 * HOUR})
    say(sim, "ou_init", FORM)
    say(sim, "ou_head", "/需求 批准 2026-Q4-JSB-002")
    say(sim, "ou_mkt", "/确认 2026-Q4-JSB-002")
    say(sim, "ou_init", FORM.replace("新品发布会", "年终晚会"))
    say(sim, "ou_head", "/需求 批准 2026-Q4-JSB-003")
    say(sim, "ou_mkt", "/确认 2026-Q4-JSB-003")
    say(sim, "ou_fin", "/确认 2026-Q4-JSB-003 财务部")
    sim.wait_for(lambda: d.sql("SELECT state FROM requests WHERE id = '2026-Q4-JSB-003'") == [("in_progress",)])
    sim.inject_message("oc_board", "ou_init", ISSUE)
    sim.wait_for(lambda: d.sql("SELECT id FROM issues") == [("2026-Q4-JSB-003-P01",)], timeout=10)
    say(sim, "ou_init", FORM.replace("新品发布会", "取消的活动"))
    say(sim, "ou_init", "/需求 撤回 2026-Q4-JSB-004")
    d.board = f"http://127.0.0.1:{port}"
    return d


@needs_browser
def test_board_shows_the_workflow_in_a_browser(workflow):
    d = workflow
    dom = browser.dump_dom(d.board + "/board")
    browser.screenshot(d.board + "/board", "board.png")
    browser.screenshot(d.board + "/board", "board-phone.png", width=390, height=1800)

    # The malicious name is text, never markup: no script element anywhere.
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in dom
    # States in workflow order; the withdrawn request is not on the board.
    sections = re.findall(r"<h2>([^<]+) <span class=\"count\">(\d+)</span></h2>", dom)
    assert sections[:3] == [("待审批", "1"), ("待各部门确认", "1"), ("执行中", "1")]
    assert "2026-Q4-JSB-004" not in dom
    # The approval due Tuesday 10:00 is overdue at 12:00 and highlighted.
    cls, body = card(dom, "2026-Q4-JSB-001")
    assert cls == "card overdue" and "超时" in body and "已超时 2小时" in body
    cls, body = card(dom, "2026-Q4-JSB-002")
    assert cls == "card"
    assert re.search(r"<td>市场部</td><td class=\"s-ok\">已确认<small>市场王</small>", body)
    assert re.search(r"<td>财务部</td><td class=\"s-waiting\">待确认<span class=\"due\">剩余 1天</span>", body)
    cls, body = card(dom, "2026-Q4-JSB-003")
    assert cls == "card" and "今日进度" in body
    assert "进行中的需求 <b>3</b> 项" in dom and "1 项超时" in dom
    # The urgent issue, not yet answered, with its 30-minute response countdown.
    issues = dom.split("未解决的问题")[1]
    row = re.search(r"<tr>(<td>2026-Q4-JSB-003-P01.*?)</tr>", issues, re.S).group(1)
    assert '<td class="sev-urgent">紧急</td>' in row and "待响应" in row
    assert "直播推流中断 &lt;b&gt;x&lt;/b&gt;" in row and '<span class="due">剩余 30分</span>' in row


@needs_browser
def test_request_page_and_archive_in_a_browser(workflow):
    d = workflow
    url = d.board + "/board/req/2026-Q4-JSB-002"
    dom = browser.dump_dom(url)
    browser.screenshot(url, "request.png", height=2400)
    assert "跨部门协作需求信息表" in dom and "<dd>新品发布会</dd>" in dom
    assert "<dd>市场部、财务部</dd>" in dom
    hash_ = d.sql("SELECT hash FROM request_depts WHERE request_id = '2026-Q4-JSB-002' AND dept = 'SCB'")[0][0]
    assert re.search(r"<td>市场部</td><td>已确认</td><td>市场王</td><td>2026-12-01 12:00</td><td>第 1 版</td>"
                     r"<td><code>" + hash_ + "</code></td>", dom)
    assert "第 1 版" in dom and "待办时限" in dom and "财务部确认" in dom
    issue_page = browser.dump_dom(d.board + "/board/req/2026-Q4-JSB-003")
    assert "问题反馈与解决" in issue_page and "2026-Q4-JSB-003-P01" in issue_page
    assert "<b>x</b>" not in issue_page and "反馈问题" in issue_page.split("完整时间线")[1]
    timeline = dom.split("完整时间线")[1]
    for word in ("提交需求", "批准", "确认"):
        assert word in timeline
    assert timeline.index("提交需求") < timeline.index("批准") < timeline.index("确认")

    evil = browser.dump_dom(d.board + "/board/req/2026-Q4-JSB-001")
    assert "<script" not in evil.lower() and "&lt;script&gt;" in evil
    assert re.search(r"<title>2026-Q4-JSB-001 &lt;script&gt;alert\(\"x\"\)&lt;/script&gt; · 跨部门协作看板</title>", evil)

    archive = browser.dump_dom(d.board + "/board/archive")
    browser.screenshot(d.board + "/board/archive", "archive.png")
    assert "协作项目库" in archive and "未执行而关闭的需求" in archive
    assert re.search(r"2026-Q4-JSB-004</a></td><td>取消的活动</td><td>已撤回</td>", archive)


def test_every_answer_carries_the_security_headers(workflow):
    d = workflow
    for path, status in (("/board", 200), ("/board/req/2026-Q4-JSB-001", 200), ("/board/archive", 200),
                         ("/board/req/2026-Q4-JSB-999", 404), ("/nowhere", 404)):
        code, headers, body = get(d.board + path)
        assert code == status, path
        assert headers["Content-Security-Policy"] == CSP
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<script" not in body.lower()
        assert 'style="' not in body                                 # no inline style for the CSP to refuse
    code, headers, css = get(d.board + "/board/style.css")
    assert code == 200 and headers["Content-Type"].startswith("text/css") and ".card.overdue" in css
    code, _, body = get(d.board + "/board")
    assert '<meta http-equiv="refresh" content="60">' in body        # countdowns stay current without script


def test_a_token_is_required_when_configured(sim, make_daemon):
    port = free_port()
    d = make_daemon(extra={"board": {"listen": "127.0.0.1", "port": port, "token": TOKEN}})
    base = f"http://127.0.0.1:{port}"
    code, headers, body = get(base + "/board")
    assert code == 401 and "需要访问令牌" in body and headers["WWW-Authenticate"].startswith("Bearer")
    assert get(base + "/board?token=wrong-token-0123456789")[0] == 401
    assert get(base + "/board", {"Authorization": "Bearer " + TOKEN[:-1] + "x"})[0] == 401
    assert get(base + "/board", {"Authorization": "Bearer " + TOKEN})[0] == 200
    # The ?token= login answers 303 without the token (test_37 looks closer).
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/board?token=" + TOKEN)
    r = c.getresponse()
    headers, code = r.headers, r.status
    c.close()
    assert code == 303 and headers["Set-Cookie"].startswith("collabd_board=" + TOKEN)
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    assert get(base + "/board/archive", {"Cookie": "collabd_board=" + TOKEN})[0] == 200
    assert get(base + "/board/style.css")[0] == 200                  # nothing secret in the stylesheet
    assert "board listening" in d.log() and "token=required" in d.log()
    assert TOKEN not in d.log()
    if browser.chromium():
        assert "进度看板" in browser.dump_dom(base + "/board?token=" + TOKEN)


def test_beyond_loopback_the_board_refuses_to_start_without_a_token(sim, make_daemon):
    d = make_daemon(start=False, extra={"board": {"listen": "0.0.0.0", "port": free_port()}})
    p = subprocess.run([COLLABD_BIN, "--check-config", d.config_path], capture_output=True, text=True,
                       env=d.env(), timeout=20)
    assert p.returncode == 1
    assert "board.token: required when board.listen (0.0.0.0) is not a loopback address" in p.stderr


def test_archive_page_lists_a_completed_request_and_its_report(workflow, sim):
    """Step 5's data on the board: 003 is completed (its open issue with a
    reason), every department answers the retrospective, and the archive page
    and the request page show the archive, the deliverables and the report."""
    d = workflow
    say(sim, "ou_init", "/需求 完成 2026-Q4-JSB-003\n交付物：总结 <i>.pptx\n原因：问题转运维跟进")
    sim.wait_for(lambda: d.sql("SELECT name FROM archives") == [("2026-Q4-XMB-001",)], timeout=10)
    answer = "\n流程：顺畅\n同步：及时\n解决：及时\n经验：站会\n不足：{}"
    for user, dept in (("ou_init", "技术部"), ("ou_mkt", "市场部"), ("ou_fin", "财务部")):
        say(sim, user, "/复盘 2026-Q4-JSB-003" + answer.format(dept + "的不足"))
    sim.wait_for(lambda: d.sql("SELECT state FROM requests WHERE id = '2026-Q4-JSB-003'") == [("archived",)],
                 timeout=10)
    status, _, archive = get(d.board + "/board/archive")
    assert status == 200 and "2026-Q4-XMB-001" in archive and "年终晚会" in archive
    status, _, page = get(d.board + "/board/req/2026-Q4-JSB-003")
    assert status == 200 and "2026-Q4-XMB-001" in page
    assert "总结 &lt;i&gt;.pptx" in page and "<i>" not in page
    assert "财务部的不足" in page


def test_archive_list_is_paged_newest_first(sim, make_daemon):
    """The 协作项目库 is read a page at a time (BOARD_ARCHIVE_PAGE rows, newest
    first, by an index), with links to the neighbouring pages; a page past the
    end shows the last one.  Rows are written as archiving would leave them."""
    port = free_port()
    d = make_daemon(extra={"board": {"listen": "127.0.0.1", "port": port}})
    ids = [f"2026-Q4-JSB-{n:03d}" for n in range(1, 251)]
    d.execute_many("INSERT INTO requests (id, dept, initiator, platform, chat_id, state, version, form, "
                   "created_at, updated_at) VALUES (?, 'JSB', 'ou_init', 'feishu', 'oc_x', 'archived', 1, "
                   "?, ?, ?)", [(rid, f'{{"需求名称": "项目{n}"}}', n * 1000, n * 1000)
                                for n, rid in enumerate(ids, 1)])
    d.execute_many("INSERT INTO archives (name, request_id, dir, created_at, written_at) "
                   "VALUES (?, ?, '2026/Q4', ?, ?)", [(f"2026-Q4-XMB-{n:03d}", rid, n * 1000, n * 1000)
                                                      for n, rid in enumerate(ids, 1)])
    base = f"http://127.0.0.1:{port}/board/archive"

    def names(html):
        return re.findall(r"<td>(2026-Q4-XMB-\d+)</td>", html)

    status, _, first = get(base)
    assert status == 200
    assert names(first) == [f"2026-Q4-XMB-{n:03d}" for n in range(250, 150, -1)]
    assert "第 1 / 3 页" in first and 'href="/board/archive?page=2"' in first and "page=0" not in first
    assert '<span class="count">250</span>' in first
    status, _, second = get(base + "?page=2")
    assert names(second) == [f"2026-Q4-XMB-{n:03d}" for n in range(150, 50, -1)]
    assert 'href="/board/archive?page=1"' in second and 'href="/board/archive?page=3"' in second
    status, _, past = get(base + "?page=99")
    assert status == 200 and "第 3 / 3 页" in past
    assert names(past) == [f"2026-Q4-XMB-{n:03d}" for n in range(50, 0, -1)]
