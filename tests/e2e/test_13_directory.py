"""The department directory: the import tool (all or nothing) and /部门 in chat."""

from helpers import import_directory, replies_to

DIRECTORY = {
    "users": [{"id": "ou_zhang", "name": "张三"}, {"id": "ou_li", "name": "李四"},
              {"id": "ou_wang", "name": "王五"}, {"id": "ou_zhao", "name": "赵总"}],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_zhang", "contacts": ["ou_li", "ou_wang"],
         "superior": "ou_zhao"},
        {"code": "SCB", "name": "市场部", "head": "ou_wang", "contacts": ["ou_wang"]},
    ],
    "deputies": [{"user": "ou_zhang", "deputy": "ou_li", "from": "2026-12-01", "to": "2026-12-10"}],
}


def text_of(sim, r):
    return sim.wait_for(lambda: replies_to(sim, r["message_id"]))[0]["content"]["text"]


def test_import_then_list_and_show(sim, daemon, tmp_path):
    p = import_directory(daemon, DIRECTORY, tmp_path)
    assert p.returncode == 0, p.stderr
    assert "imported 2 departments, 4 people" in p.stdout
    listing = text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门 列表"))
    assert "JSB 技术部 · 负责人 张三 · 接口人 李四、王五 · 上级 赵总" in listing
    assert "SCB 市场部" in listing
    assert "没有部门 XYZ" in text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门 查看 XYZ"))


def test_bad_import_lists_every_problem_and_changes_nothing(sim, daemon, tmp_path):
    assert import_directory(daemon, DIRECTORY, tmp_path).returncode == 0
    bad = {"users": [{"id": "ou_zhang", "name": "张三"}],
           "departments": [{"code": "jsb", "name": "", "head": "ou_ghost", "contacts": []},
                           {"code": "SCB", "name": "市场部", "head": "ou_zhang", "contacts": ["ou_nobody"]}],
           "deputies": [{"user": "ou_zhang", "deputy": "ou_zhang", "from": "2026-12-10", "to": "2026-12-01"}]}
    p = import_directory(daemon, bad, tmp_path)
    assert p.returncode == 1
    for needle in ("departments[0].code", "departments[0].name", "departments[0].head",
                   "departments[0].contacts", "departments[1].contacts[0]", "deputies[0]", "nothing was changed"):
        assert needle in p.stderr, (needle, p.stderr)
    assert daemon.sql("SELECT code FROM departments ORDER BY code") == [("JSB",), ("SCB",)]


def test_only_admins_edit_and_mentions_name_people(sim, make_daemon):
    d = make_daemon(extra={"admins": ["ou_admin"]})
    zhang = [{"key": "@_user_1", "open_id": "ou_zhang", "name": "张三"}]
    refused = sim.inject_message("oc_g", "ou_someone", "/部门 添加 JSB 技术部 @_user_1", mentions=zhang)
    assert "只有管理员" in text_of(sim, refused)
    assert d.sql("SELECT COUNT(*) FROM departments")[0][0] == 0
    added = sim.inject_message("oc_g", "ou_admin", "/部门 添加 JSB 技术部 @_user_1", mentions=zhang)
    assert "JSB 技术部 · 负责人 张三 · 接口人 张三" in text_of(sim, added)
    two = [{"key": "@_user_1", "open_id": "ou_li", "name": "李四"},
           {"key": "@_user_2", "open_id": "ou_wang", "name": "王五"}]
    r = sim.inject_message("oc_g", "ou_admin", "/部门 设置 JSB 接口人 @_user_1 @_user_2", mentions=two)
    assert "接口人 李四、王五" in text_of(sim, r)
    r = sim.inject_message("oc_g", "ou_admin", "/部门 设置 JSB 本群")
    assert "已绑定部门群" in text_of(sim, r)
    assert d.sql("SELECT chat_id FROM departments") == [("oc_g",)]
    r = sim.inject_message("oc_g", "ou_admin", "/部门 添加 jsb 技术部 @_user_1", mentions=zhang)
    assert "大写字母" in text_of(sim, r)
    r = sim.inject_message("oc_g", "ou_admin", "/部门 设置 JSB 负责人 @没有这个人")
    assert "不是本条消息里 @ 的人" in text_of(sim, r)


def test_a_person_on_leave_names_a_deputy(sim, daemon):
    li = [{"key": "@_user_1", "open_id": "ou_li", "name": "李四"}]
    r = sim.inject_message("oc_g", "ou_zhang", "/部门 代理 @_user_1 2026-12-01 2026-12-10", mentions=li)
    assert "代理人 李四" in text_of(sim, r)
    assert daemon.sql("SELECT user_id, deputy_id, from_day, to_day FROM deputies") == [
        ("ou_zhang", "ou_li", "2026-12-01", "2026-12-10")]
    r = sim.inject_message("oc_g", "ou_zhang", "/部门 代理 @_user_1 2026-12-10 2026-12-01", mentions=li)
    assert "用法" in text_of(sim, r)


def test_the_example_directory_in_deploy_imports_as_it_is(sim, daemon):
    import os
    import subprocess

    from daemonctl import COLLABD_BIN, REPO
    example = os.path.join(REPO, "deploy", "directory.example.json")
    p = subprocess.run([COLLABD_BIN, "--config", daemon.config_path, "import-directory", example],
                       capture_output=True, text=True, env=daemon.env(), timeout=20)
    assert p.returncode == 0, p.stderr
    assert "imported 4 departments, 9 people" in p.stdout
    listing = text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门 列表"))
    assert "CWB 财务部 · 负责人 赵磊 · 接口人 王芳" in listing and "QGB 企业管理部" in listing


def test_subcommands_answer_with_their_own_usage_and_admins_come_first(sim, make_daemon):
    make_daemon(extra={"admins": ["ou_admin"]})
    assert "部门目录还是空的" in text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门"))
    assert "部门目录还是空的" in text_of(sim, sim.inject_message("oc_g", "ou_any", "/DEPT List"))
    shown = text_of(sim, sim.inject_message("oc_g", "ou_any", "/dept SHOW"))
    assert "用法：/部门 查看 代码\n" in shown, shown
    deputy = text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门 代理 @某人"))
    assert "用法：/部门 代理 @代理人 开始日期 结束日期\n" in deputy, deputy
    # Editing is for admins: a non-admin is told so whatever the arguments.
    for text in ("/部门 添加", "/部门 设置 JSB", "/dept add JSB 技术部 @张三"):
        assert "只有管理员" in text_of(sim, sim.inject_message("oc_g", "ou_any", text)), text
    adding = text_of(sim, sim.inject_message("oc_g", "ou_admin", "/部门 添加 JSB"))
    assert "用法：/部门 添加 代码 名称 @负责人\n" in adding, adding
    unknown = text_of(sim, sim.inject_message("oc_g", "ou_any", "/部门 乱写"))
    assert "用法：/部门 列表 | 查看 代码 |" in unknown, unknown
