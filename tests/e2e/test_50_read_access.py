"""Who may see a request, and who may raise an issue against it (issue 16,
items 1 and 2): one rule (daemon/domain/access.c) behind /需求 查看|列表,
/看板, /问题 查看|列表, /进度, /复盘 查看 and /归档.  A stranger -- in the
directory or not, in an unrelated chat -- gets a refusal that says who may
and nothing of the content."""

import pytest

from helpers import at, import_directory, replies_to

# 技术部 asks; 市场部 and 财务部 take part.  财务部 has a superior and a
# superior's superior; 财务总 (its head) is away and 代理人 stands in.
# 企业管理部 is the management department; 行政部 has nothing to do with it.
PEOPLE = {
    "users": [{"id": "ou_init", "name": "发起人甲"}, {"id": "ou_head", "name": "技术主管"},
              {"id": "ou_mkt", "name": "市场王"}, {"id": "ou_fin", "name": "财务钱"},
              {"id": "ou_finboss", "name": "财务总"}, {"id": "ou_cfo", "name": "CFO"},
              {"id": "ou_ceo", "name": "CEO"}, {"id": "ou_guan", "name": "管理部长"},
              {"id": "ou_clerk", "name": "路人丙"}, {"id": "ou_admin", "name": "管理员"},
              {"id": "ou_dep", "name": "代理人"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_head", "contacts": ["ou_init"]},
        {"code": "SCB", "name": "市场部", "head": "ou_mkt", "contacts": ["ou_mkt"]},
        {"code": "CWB", "name": "财务部", "head": "ou_finboss", "contacts": ["ou_fin"], "superior": "ou_cfo",
         "superior2": "ou_ceo", "chat_id": "oc_finance"},
        {"code": "GLB", "name": "企业管理部", "head": "ou_guan", "contacts": ["ou_guan"]},
        {"code": "XZB", "name": "行政部", "head": "ou_clerk", "contacts": ["ou_clerk"]},
    ],
    "deputies": [{"user": "ou_finboss", "deputy": "ou_dep", "from": "2026-12-01", "to": "2026-12-31"}],
}
CHAT = "oc_iss"
REQ = "2026-Q4-JSB-001"
ISSUE = f"{REQ}-P01"


def report(severity="重要", occurred="2026-12-07 09:50"):
    return (f"/问题\n关联需求：{REQ}\n问题类型：技术\n严重程度：{severity}\n影响范围：结算接口不可用\n"
            f"问题描述：财务系统接口返回 500\n发生时间：{occurred}\n预计解决时间：2026-12-09 18:00\n接收部门：财务部")


def alerts(sim):
    return [m for m in sim.messages() if m["msg_type"] == "interactive"
            and "问题预警" in m["content"]["header"]["title"]["content"]]


ELSEWHERE = "oc_unrelated"
SECRET_NAME = "年终结算系统"      # the request's name: it must never reach a stranger
SECRET_ISSUE = "财务系统接口返回 500"


def ask(sim, user, text, chat=ELSEWHERE):
    r = sim.inject_message(chat, user, text)
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]), timeout=10)


def text(sim, user, line, chat=ELSEWHERE):
    return "\n".join(m["content"]["text"] if m["msg_type"] == "text" else str(m["content"])
                     for m in ask(sim, user, line, chat))


@pytest.fixture
def d(sim, make_daemon, tmp_path):
    daemon = make_daemon(clock_control=True, extra={"admins": ["ou_admin"], "management": {"dept": "GLB"}})
    assert import_directory(daemon, PEOPLE, tmp_path).returncode == 0
    assert daemon.admin("/debug/clock", {"set_ms": at(2026, 12, 7, 10, 0)})[0] == 200     # Monday
    for user, line in (("ou_init", "/需求\n需求名称：年终结算系统\n联系方式：1380000\n需求背景：年终结算\n"
                                   "具体任务：接口改造\n涉及部门：市场部、财务部\n期望完成时间：2026-12-31"),
                       ("ou_head", f"/需求 批准 {REQ}"), ("ou_mkt", f"/确认 {REQ}"), ("ou_fin", f"/确认 {REQ}")):
        text(sim, user, line, chat=CHAT)
    sim.wait_for(lambda: daemon.sql("SELECT state FROM requests") == [("in_progress",)])
    assert "已提交问题" in text(sim, "ou_init", report(), chat=CHAT)
    return daemon


def refused(reply):
    return "你无权查看需求" in reply and "负责人、接口人、上级" in reply and SECRET_NAME not in reply \
        and SECRET_ISSUE not in reply and "接口改造" not in reply


@pytest.mark.parametrize("who", ["ou_stranger", "ou_clerk"])   # not in the directory / another department
def test_strangers_in_another_chat_see_nothing(sim, d, who):
    for line in (f"/需求 查看 {REQ}", f"/看板 {REQ}", f"/问题 查看 {ISSUE}", f"/问题 列表 {REQ}",
                 f"/进度 {REQ}", f"/复盘 查看 {REQ}"):
        reply = text(sim, who, line)
        assert refused(reply), (line, reply)
    for line in ("/需求 列表", "/看板", "/问题"):
        reply = text(sim, who, line)
        assert SECRET_NAME not in reply and REQ not in reply, (line, reply)


@pytest.mark.parametrize("who", [
    "ou_init",      # the initiator (a contact of 技术部 too)
    "ou_head",      # the approver: 技术部's head
    "ou_fin",       # an involved department's contact
    "ou_cfo",       # its superior
    "ou_ceo",       # the superior's superior
    "ou_dep",       # deputy of 财务部's head this week
    "ou_guan",      # the management department
    "ou_admin",     # a configured admin
])
def test_the_requests_people_see_it_from_anywhere(sim, d, who):
    view = text(sim, who, f"/需求 查看 {REQ}")
    assert SECRET_NAME in view and "接口改造" in view, view
    assert SECRET_ISSUE in text(sim, who, f"/问题 查看 {ISSUE}")
    board = ask(sim, who, f"/看板 {REQ}")
    assert board[0]["msg_type"] == "interactive" and REQ in board[0]["content"]["header"]["title"]["content"]
    assert REQ in text(sim, who, "/需求 列表")


def test_anyone_asking_in_the_requests_own_chat_sees_it(sim, d):
    assert SECRET_NAME in text(sim, "ou_stranger", f"/需求 查看 {REQ}", chat=CHAT)
    assert SECRET_ISSUE in text(sim, "ou_stranger", f"/问题 查看 {ISSUE}", chat=CHAT)
    # An involved department's own chat gets its alerts, so it may look too.
    assert SECRET_NAME in text(sim, "ou_stranger", f"/需求 查看 {REQ}", chat="oc_finance")


def test_a_stranger_cannot_raise_an_issue(sim, d):
    before = len(alerts(sim))
    for who, chat in (("ou_stranger", ELSEWHERE), ("ou_clerk", ELSEWHERE)):
        reply = text(sim, who, report("紧急", "2026-12-07 09:50"), chat=chat)
        assert "你不能对需求" in reply and "仅该需求相关部门" in reply, reply
    assert len(alerts(sim)) == before
    assert d.sql("SELECT count(*) FROM issues") == [(1,)]
    # In the request's own chat anyone there may report (they are its members).
    assert "已提交问题" in text(sim, "ou_stranger", report("一般", "2026-12-07 09:50"), chat=CHAT)
    # And a department's person may report from anywhere.
    assert "已提交问题" in text(sim, "ou_mkt", report("一般", "2026-12-07 09:50"))
    assert d.sql("SELECT count(*) FROM issues") == [(3,)]
