#!/usr/bin/python3
"""make demo: collabd against the local Feishu simulator, with a scripted group chat.

Starts the simulator and the real daemon, plays a short conversation in one
group, then one cross-department request through all five steps -- intake,
approval, confirmation, a week of progress with a late department, an issue,
completion and the retrospective -- moving the daemon's test clock through the
days, and prints what the bot posted.  Everything runs on 127.0.0.1 in a
temporary directory that is removed afterwards.
"""

import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "sim"))
sys.path.insert(0, os.path.join(HERE, "e2e"))

from simctl import Sim  # noqa: E402
from daemonctl import Daemon  # noqa: E402

import datetime
import subprocess

from daemonctl import COLLABD_BIN  # noqa: E402

CHAT = "oc_demo_group"
PEOPLE = {"ou_zhangsan": "张三（市场部）", "ou_lisi": "李四（技术部）", "ou_wangwu": "王五（技术部负责人）",
          "ou_zhaoliu": "赵六（财务部）", "ou_sunqi": "孙七（财务部负责人）", "ou_zhou": "周总（总经理）"}
DIRECTORY = {
    "users": [{"id": k, "name": v.split("（")[0]} for k, v in PEOPLE.items()],
    "departments": [
        {"code": "JSB", "name": "技术部", "head": "ou_wangwu", "contacts": ["ou_lisi"], "superior": "ou_zhou"},
        {"code": "SCB", "name": "市场部", "head": "ou_zhangsan", "contacts": ["ou_zhangsan"], "superior": "ou_zhou"},
        {"code": "CWB", "name": "财务部", "head": "ou_sunqi", "contacts": ["ou_zhaoliu"], "superior": "ou_zhou"},
    ],
}
SH = datetime.timezone(datetime.timedelta(hours=8))


def show_user(who, text):
    print(f"\n{PEOPLE[who]}：{text}")


def show_bot(msg):
    content = msg["content"]
    if msg["msg_type"] == "text":
        body = content["text"]
    else:  # an interactive card: its title and markdown
        title = content["header"]["title"]["content"]
        parts = [e.get("content", "") for e in content["body"]["elements"] if e["tag"] == "markdown"]
        buttons = [e["text"]["content"] for e in content["body"]["elements"] if e["tag"] == "button"]
        body = f"【卡片】{title}\n" + "\n".join(parts) + "".join(f"\n[{b}]" for b in buttons)
    print("collabd：" + body.replace("\n", "\n         "))


class Chat:
    """Plays the workflow and prints every message the bot posts, in order."""

    def __init__(self, sim, daemon):
        self.sim, self.daemon, self.shown = sim, daemon, len(sim.messages())

    def show_new(self, settle=0.6):
        time.sleep(settle)
        msgs = self.sim.messages()
        for m in msgs[self.shown:]:
            show_bot(m)
        self.shown = len(msgs)

    def say(self, who, text):
        show_user(who, text)
        r = self.sim.inject_message(CHAT, who, text)
        self.sim.wait_for(lambda: [m for m in self.sim.messages() if m["reply_to"] == r["message_id"]]
                          or None, timeout=10, message=f"no answer to {text!r}")
        self.show_new()

    def clock(self, *when, note):
        print(f"\n—— {note} ——")
        self.daemon.admin("/debug/clock", {"set_ms": int(datetime.datetime(*when, tzinfo=SH).timestamp() * 1000)})
        self.show_new(1.0)


def workflow(sim, workdir):
    """One request through the five steps, on the test clock."""
    print("\n\n========== 一个跨部门需求的五个步骤（测试时钟，2026 年 12 月） ==========")
    os.makedirs(os.path.join(workdir, "wf"))
    daemon = Daemon(sim, os.path.join(workdir, "wf"), clock_control=True)
    daemon.start()
    path = os.path.join(workdir, "directory.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(DIRECTORY, f, ensure_ascii=False)
    subprocess.run([COLLABD_BIN, "--config", daemon.config_path, "import-directory", path], check=True,
                   env=daemon.env(), capture_output=True)
    chat = Chat(sim, daemon)
    chat.clock(2026, 12, 7, 9, 30, note="周一 09:30")
    chat.say("ou_lisi", "/需求\n需求名称：新版官网上线\n联系方式：13800000000\n需求背景：品牌升级，官网需改版\n"
                        "具体任务：市场部出文案，财务部走采购付款\n涉及部门：市场部、财务部\n期望完成时间：2026-12-31")
    rid = daemon.sql("SELECT id FROM requests")[0][0]
    chat.say("ou_wangwu", f"/需求 批准 {rid}")
    chat.say("ou_zhangsan", f"/确认 {rid}")
    chat.say("ou_zhaoliu", f"/确认 {rid}")
    chat.clock(2026, 12, 7, 11, 0, note="周一 11:00")
    chat.say("ou_zhangsan", f"/进度 {rid}\n已完成任务：首页文案初稿\n下一步计划：评审文案")
    chat.clock(2026, 12, 7, 16, 0, 30, note="周一 16:00：提醒还没交进度的人")
    chat.clock(2026, 12, 7, 17, 0, 30, note="周一 17:00：截止，逾期提醒和进度看板")
    chat.clock(2026, 12, 8, 10, 0, note="周二 10:00")
    chat.say("ou_zhaoliu", f"/问题\n关联需求：{rid}\n问题类型：流程\n严重程度：重要\n影响范围：采购付款\n"
                           "问题描述：供应商资质待审核\n发生时间：2026-12-08 09:40\n接收部门：技术部")
    iid = daemon.sql("SELECT id FROM issues")[0][0]
    chat.say("ou_lisi", f"/问题 响应 {iid}\n解决责任人：李四\n会议时间：2026-12-08 11:00\n会议形式：线上\n"
                        "会议地点：视频会议")
    chat.say("ou_lisi", f"/问题 方案 {iid}\n问题原因：资质文件过期\n解决措施：供应商补交\n责任人：李四\n"
                        "完成时间：2026-12-09 18:00")
    chat.say("ou_lisi", f"/问题 解决 {iid}\n解决结果：资质已审核通过")
    chat.say("ou_zhaoliu", f"/看板 {rid}")
    chat.clock(2026, 12, 11, 10, 0, note="周五 10:00")
    chat.say("ou_lisi", f"/需求 完成 {rid}\n交付物：https://www.example.com、上线总结.pptx")
    answer = "\n流程：顺畅\n同步：及时\n解决：问题当天解决\n经验：每日进度同步\n不足：{}"
    chat.say("ou_lisi", f"/复盘 {rid}" + answer.format("需求描述可更具体"))
    chat.say("ou_zhangsan", f"/复盘 {rid}" + answer.format("文案评审提前"))
    chat.say("ou_zhaoliu", f"/复盘 {rid}" + answer.format("每天按时交进度"))
    chat.show_new(1.0)
    archive = daemon.sql("SELECT dir FROM archives")
    print(f"\n协作项目库：{archive[0][0] if archive else '（未生成）'}")
    daemon.stop()


def say(sim, who, text, mention_bot=False):
    show_user(who, text)
    mentions = [{"key": "@_user_1", "open_id": sim.bot_open_id, "name": "collabd"}] if mention_bot else None
    if mention_bot:
        text = "@_user_1 " + text
    r = sim.inject_message(CHAT, who, text, mentions=mentions)
    reply = sim.wait_for(lambda: [m for m in sim.messages() if m["reply_to"] == r["message_id"]],
                         timeout=10, message=f"no answer to {text!r}")[0]
    show_bot(reply)
    return reply


def main():
    workdir = tempfile.mkdtemp(prefix="collabd-demo-")
    sim = Sim.start()
    daemon = None
    try:
        sim.set_config(ping_interval=5, reconnect_interval=1, reconnect_nonce=1)
        daemon = Daemon(sim, workdir)
        daemon.start()
        sim.wait_connected()
        print("collabd 已连接到本地飞书模拟器（长连接）。群聊脚本开始：")
        say(sim, "ou_zhangsan", "你好", mention_bot=True)
        say(sim, "ou_zhangsan", "/帮助")
        say(sim, "ou_lisi", "/帮助 状态")
        card = say(sim, "ou_lisi", "/状态")
        print(f"\n{PEOPLE['ou_zhangsan']}：（点击卡片上的「刷新」按钮）")
        click = sim.card_action(CHAT, "ou_zhangsan", card["message_id"], {"action": "status.refresh"})
        ack = sim.wait_acked(click["event_id"])
        # The clicked card is redrawn in the click's own answer (Feishu locks a
        # card while its click is handled), not by a PATCH.
        redrawn = ack["data"].get("card", {}).get("data")
        if not redrawn:
            raise SystemExit("demo: the refresh click did not redraw the card")
        print(f"collabd：（提示）{ack['data']['toast']['content']}；卡片已原地更新："
              f"{redrawn['header']['title']['content']}")
        say(sim, "ou_lisi", "/报表")
        time.sleep(0.2)
        stats = daemon.stats()
        print("\n—— 运行数据 ——")
        print(json.dumps({"events_applied": stats["inbox"]["applied"],
                          "messages_sent": stats["outbox"]["sent"],
                          "acks": stats["feishu_ws"]["acks"]}, ensure_ascii=False))
        print(f"daemon log: {daemon.log_path} (removed at exit; set KEEP=1 to keep)")
        daemon.stop()
        daemon = None
        workflow(sim, workdir)
    finally:
        if daemon:
            daemon.stop()
        sim.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
