#!/usr/bin/python3
"""make demo: collabd against the local Feishu simulator, with a scripted group chat.

Starts the simulator and the real daemon, plays a short conversation in one
group, and prints what the bot answered.  Everything runs on 127.0.0.1 in a
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

CHAT = "oc_demo_group"
PEOPLE = {"ou_zhangsan": "张三（市场部）", "ou_lisi": "李四（技术部）"}


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
        print(f"collabd：（提示）{ack['data']['toast']['content']}；卡片已原地更新 "
              f"{len(sim.wait_for(lambda: sim.messages()[-1]['patches'] or None))} 次")
        say(sim, "ou_lisi", "/报表")
        time.sleep(0.2)
        stats = daemon.stats()
        print("\n—— 运行数据 ——")
        print(json.dumps({"events_applied": stats["inbox"]["applied"],
                          "messages_sent": stats["outbox"]["sent"],
                          "acks": stats["feishu_ws"]["acks"]}, ensure_ascii=False))
        print(f"daemon log: {daemon.log_path} (removed at exit; set KEEP=1 to keep)")
    finally:
        if daemon:
            daemon.stop()
        sim.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
