#!/usr/bin/python3
"""Writes the seed corpora for the libFuzzer targets in tests/fuzz/.

Run from anywhere:  /usr/bin/python3 tests/fuzz/make_seeds.py [OUTDIR]
OUTDIR defaults to tests/fuzz/corpus; one subdirectory per target is
(re)written.  The output is deterministic, so re-running it changes nothing
unless the generators change.

- pbbp2:   the byte vectors of tests/unit/gen_pbbp2_vectors.py (encoded by
           python3-protobuf, i.e. a real protobuf implementation).
- event:   im.message.receive_v1 and card.action.trigger documents built by
           tests/sim/sim_events.py, with ids and times pinned.
- command: a few slash-command lines in the shapes users type.
- config:  deploy/collabd.example.json and some minimal configurations.
- dingtalk: robot-message data built by tests/sim/dt_control.py (text in a
           group, one-to-one, an external sender, another msgtype) and card
           callbacks in the shape the DingTalk simulator sends, times and
           random tokens pinned.
- wsframe: WebSocket streams as a server sends them (unmasked frames of all
           three length forms, fragments with control frames between them, a
           close, a message over the limit, protocol errors), each behind the
           two config bytes and piece sizes fuzz_wsframe.c reads; and response
           heads (a good 101, a refusal with the Feishu gateway's headers).
"""

import json
import os
import shutil
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "unit"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))

import gen_pbbp2_vectors  # noqa: E402
import pbbp2  # noqa: E402
import sim_events  # noqa: E402
import dt_control  # noqa: E402


def pbbp2_seeds():
    out = [(name + ".bin", data) for name, data in gen_pbbp2_vectors.vectors()]
    # Just over the decoder's limits (PBBP2_MAX_HEADERS, PBBP2_MAX_STRING), so
    # the fuzzer starts near the ELIMIT paths; valid protobuf all the same.
    many = pbbp2.make_frame(seq_id=1, log_id=2, service=3, method=pbbp2.METHOD_DATA,
                            headers=[("h%d" % i, "v") for i in range(65)])
    out.append(("limit_headers.bin", pbbp2.encode(many)))
    long_str = pbbp2.make_frame(seq_id=1, log_id=2, service=3, method=pbbp2.METHOD_DATA)
    long_str.payload_type = "j" * 4097
    out.append(("limit_string.bin", pbbp2.encode(long_str)))
    return out


def _pin(doc, create_time):
    """Replace the wall-clock times and random tokens by fixed values."""
    doc["header"]["create_time"] = create_time
    msg = doc["event"].get("message")
    if msg:
        msg["create_time"] = msg["update_time"] = create_time
    if "token" in doc["event"]:
        doc["event"]["token"] = "c-0123456789abcdef0123456789abcdef"
    return doc


def _dump(doc):
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def event_seeds():
    store = types.SimpleNamespace(verification_token="v-sim-verification-token",
                                  app_id="cli_a1b2c3d4e5f60708", tenant_key="sim_tenant_key")
    chat = "oc_5ad11d72b830411d72b836c20"
    out = []
    plain = sim_events.message_event(
        store, chat_id=chat, sender_open_id="ou_alice", text="/需求 新建\n名称：x\n背景: y",
        message_id="om_0001", event_id="e0000000000000000000000000000001")
    out.append(("message_text.json", _dump(_pin(plain, "1767225600000"))))
    mention = sim_events.message_event(
        store, chat_id=chat, sender_open_id="ou_alice", text="@_user_1 @_user_12 /帮助 需求",
        mentions=[{"key": "@_user_1", "open_id": "ou_bot", "name": "collabd"},
                  {"key": "@_user_12", "open_id": "ou_bob", "name": ""}],
        message_id="om_0002", event_id="e0000000000000000000000000000002")
    out.append(("message_mentions.json", _dump(_pin(mention, "1767225601000"))))
    p2p = sim_events.message_event(
        store, chat_id="oc_p2p", sender_open_id="ou_alice", chat_type="p2p", message_type="post",
        content={"title": "t", "content": [[{"tag": "text", "text": "hi"}]]},
        message_id="om_0003", event_id="e0000000000000000000000000000003")
    out.append(("message_post.json", _dump(_pin(p2p, "1767225602000"))))
    crowd = sim_events.message_event(
        store, chat_id=chat, sender_open_id="ou_alice",
        text=" ".join("@_user_%d" % i for i in range(1, 53)),
        mentions=[{"key": "@_user_%d" % i, "open_id": "ou_%d" % i, "name": "n%d" % i}
                  for i in range(1, 53)],
        message_id="om_0005", event_id="e0000000000000000000000000000005")
    for m in crowd["event"]["message"]["mentions"]:  # keep the seed small
        m["id"] = {"open_id": m["id"]["open_id"]}
        del m["tenant_key"]
    out.append(("message_52_mentions.json", json.dumps(_pin(crowd, "1767225605000")).encode()))
    card = sim_events.card_action_event(
        store, chat_id=chat, operator_open_id="ou_alice", open_message_id="om_card1",
        value={"action": "confirm", "id": "2026-Q4-JSB-003"},
        form_value={"reason": "ok"}, name="confirm",
        event_id="e0000000000000000000000000000004")
    out.append(("card_action.json", _dump(_pin(card, "1767225603000000"))))
    other = {"schema": "2.0",
             "header": {"event_id": "e5", "event_type": "im.chat.member.bot.added_v1",
                        "create_time": "1767225604000"},
             "event": {"chat_id": chat}}
    out.append(("other.json", _dump(other)))
    return out


def dingtalk_seeds():
    pinned = 1767225600000
    dt_control.now_ms = lambda: pinned
    dt_control._lwcp = lambda: "$:LWCP_v1:$0123456789abcdef0123456789abcdef"
    store = types.SimpleNamespace(
        chatbot_user_id="$:LWCP_v1:$botbotbotbotbotbotbotbotbot", corp_id="ding0123456789abcdef",
        client_id="dingsimclientid0001", new_session=lambda conv, msg, expires: "s0001",
        session_url=lambda session: "http://127.0.0.1:9/robot/sendBySession?session=" + session)

    def message(name, **kw):
        args = dict(conversation_id="cid_group1", sender_staff_id="staff_alice", text="/帮助",
                    sender_nick="爱丽丝", at_bot=True, conversation_type="2", msg_id="msg0001==",
                    webhook_valid_s=3600, conversation_title="项目群", raw_text=False, at_users=[],
                    sender_id=None)
        args.update(kw)
        return (name, _dump(dt_control.robot_message(store, **args)))

    out = [
        message("text_group.json", text="/需求\n需求名称：新品发布会\n涉及部门：市场部、财务部"),
        message("text_p2p.json", conversation_type="1", at_bot=False, msg_id="msg0002==", text="/进度"),
        message("text_mentions.json", msg_id="msg0003==", text="/进度 负责人 @王五 @李四",
                at_users=["staff_wang", "staff_li"]),
        message("text_external.json", sender_staff_id="", sender_id="$:LWCP_v1:$external0001",
                msg_id="msg0004==", raw_text=True, text="\t /帮助 \r\n"),
    ]
    picture = json.loads(message("x", msg_id="msg0005==")[1])
    picture["msgtype"] = "picture"
    picture["content"] = {"downloadCode": "dc0001", "pictureDownloadCode": "pdc0001"}
    del picture["text"]
    out.append(("picture.json", _dump(picture)))
    content = {"cardPrivateData": {"actionIds": ["req_confirm"],
                                   "params": {"action": "req.confirm", "id": "2026-Q4-JSB-001"}}}
    card = {"type": "actionCallback", "outTrackId": "collabd-card-0001", "corpId": store.corp_id,
            "userId": "staff_alice", "userIdType": 1, "spaceType": "IM_GROUP", "spaceId": "cid_group1",
            "extension": "{}", "content": json.dumps(content, ensure_ascii=False)}
    out.append(("card_callback.json", _dump(card)))
    # Clicks on the generic card template: a button's value and the input's
    # text, as a form field (_input) or as the typed command (typed).
    for name, params in (
            ("card_generic_input.json",
             {"value": json.dumps({"action": "req.reject", "id": "2026-Q4-JSB-001", "_input": "reason"},
                                  ensure_ascii=False), "input": "预算不足"}),
            ("card_generic_typed.json",
             {"value": json.dumps({"typed": "/进度 2026-Q4-JSB-001"}, ensure_ascii=False),
              "input": "已完成任务：场地已定\n下一步计划：彩排"})):
        generic = dict(card, content=json.dumps({"cardPrivateData": {"actionIds": ["node_collabd_input"],
                                                                     "params": params}}, ensure_ascii=False))
        out.append((name, _dump(generic)))
    return out


def command_seeds():
    lines = [
        "/需求 新建\n名称：x\n背景: y",
        "/需求 查看 2026-Q4-JSB-003",
        "@_user_1 /帮助 需求",
        "／状态",
        "  /need new\u3000urgent\nname: 接口改造\nbackground：见 https://example.com/a:b\n自由文本\n\n优先级 ：高\u3000",
        "/snooze 2h\r\n名称:\r\n",
        "not a command: just text",
    ]
    return [("cmd%d.txt" % i, s.encode("utf-8")) for i, s in enumerate(lines)]


def config_seeds():
    with open(os.path.join(REPO, "deploy", "collabd.example.json"), "rb") as f:
        example = f.read()
    minimal = {"feishu": {"app_id": "cli_a1b2c3", "app_secret": "s3cret-value"}}
    full = {
        "database": "/tmp/collabd.db", "timezone": "Asia/Shanghai", "log_level": "debug",
        "admin": {"listen": "127.0.0.1", "port": 8931},
        "testing": {"clock_control": True},
        "feishu": {"enabled": True, "base_url": "http://127.0.0.1:9000//", "app_id": "cli_a1b2c3",
                   "app_secret": "s", "bot_open_id": "ou_bot"},
        "outbox": {"max_attempts": 3, "backoff_base_ms": 10, "backoff_max_ms": 20,
                   "max_inflight": 1, "rate_per_app": 50, "rate_per_chat": 5},
        "calendar": {"work_start": "09:30", "work_end": "18:30", "lunch_start": "12:00",
                     "lunch_end": "13:00", "extra_days_off": ["2026-12-24", "2026-12-31"]},
        "sla": {"dept_confirm": {"duration": "2wd", "escalation": [
            {"after": "0", "notify": ["owner"]},
            {"after": "1h30m", "notify": ["head", "superior2"]}]},
            "_comment": "ignored"},
    }
    bad = {"timezone": "../etc", "feishu": {"enabled": False}, "outbox": {"max_attempts": 0},
           "calendar": {"work_start": "25:00", "extra_days_off": "soon"},
           "sla": {"no_such": {}, "approval": {"duration": "soon", "clock": "moon"}}, "bogus": 1}
    return [
        ("example.json", example),
        ("minimal.json", json.dumps(minimal).encode()),
        ("full.json", json.dumps(full, ensure_ascii=False, indent=1).encode("utf-8")),
        ("problems.json", json.dumps(bad).encode()),
        ("syntax.json", b'{\n  "timezone": "UTC",\n  oops\n}\n'),
        ("empty_values.json", json.dumps({"database": "", "timezone": "", "admin": {"listen": "", "port": 1},
                                          "feishu": {"app_id": "x", "base_url": "ftp://h"}}).encode()),
        ("not_object.json", b"[1, 2]"),
    ]


def json_scan_seeds():
    """The documents jscan reads in the daemon (Feishu events, DingTalk data,
    a DingTalk stream frame around one), and small ones on the edges of
    jansson's rules: escapes, surrogates, duplicate keys, numbers at the
    limits, nesting, trailing text."""
    out = [("event-" + n, d) for n, d in event_seeds()] + [("dingtalk-" + n, d) for n, d in dingtalk_seeds()]
    data = dingtalk_seeds()[0][1].decode()
    frame = {"specVersion": "1.0", "type": "CALLBACK",
             "headers": {"messageId": "m1", "topic": "/v1.0/im/bot/messages/get", "time": "1"}, "data": data}
    out.append(("frame.json", json.dumps(frame, ensure_ascii=False).encode()))
    edges = [
        b'{"a":{"b":{"c":{"d":"\\u00e9\\ud83d\\ude00\\n"}}}}', b'{"a":1,"a":{"b":2}}', b'{"a":{"b":1},"a":3}',
        b'{"a":9223372036854775807,"b":-9223372036854775808}', b'{"a":9223372036854775808}',
        b'{"a":1e309}', b'{"a":-0.5e-400,"b":[1,2.5,true,false,null,{"a":"x"}]}', b'[[[[[[[[]]]]]]]]',
        b'{"a":"\\u0000"}', b'{"a":"\\ud800"}', b'{"a":"\\udc00"}', b'{"\\u0061":"k"}', b'{"a":01}',
        b'{"a":"\xc0\x80"}', b'{"a":"\xed\xa0\x80"}', b'{"a":"\xf4\x90\x80\x80"}', b'{} x', b'{"a":1,}',
        b' {"": true} ', b'{"type":"EVENT","text":{"content":"\xe9\x83\xa8"}}',
    ]
    out += [("edge-%02d.json" % i, e.replace(b"\\\\", b"\\")) for i, e in enumerate(edges)]
    return out


def _ws_frame(op, payload, fin=True, force_len=None):
    """One server frame (unmasked); force_len 126/127 picks a longer length form."""
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if force_len == 127 or n > 0xFFFF:
        head = bytes([b0, 127]) + n.to_bytes(8, "big")
    elif force_len == 126 or n > 125:
        head = bytes([b0, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, n])
    return head + payload


def wsframe_seeds():
    """fuzz_wsframe.c reads byte 0 (max_message: (b & 0x7f) * 4, or 1 MiB with
    the top bit), byte 1 % 8 = k piece sizes (each byte + 1), then the stream."""
    TEXT, BIN, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10

    def cfg(limit_byte, *sizes):
        return bytes([limit_byte, len(sizes)]) + bytes(sizes)

    event = json.dumps({"schema": "2.0", "header": {"event_type": "im.message.receive_v1"},
                        "event": {"message": {"content": "{\"text\":\"/需求\"}"}}},
                       ensure_ascii=False).encode("utf-8")
    big = bytes(range(256)) * 300
    head_ok = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    head_refused = ("HTTP/1.1 403 Forbidden\r\nhandshake-status: 514\r\nhandshake-msg: 鉴权失败\r\n"
                    "handshake-autherrcode: 1000040350\r\nContent-Length: 0\r\n\r\n").encode("utf-8")
    return [
        ("text_whole.bin", cfg(0x80) + _ws_frame(TEXT, event) + _ws_frame(PING, b"hb")),
        ("text_pieces.bin", cfg(0x80, 0, 6, 200) + _ws_frame(TEXT, event) + _ws_frame(BIN, b"\x00\x01")),
        ("lengths.bin", cfg(0x80, 9, 1) + _ws_frame(BIN, b"abc", force_len=126) +
         _ws_frame(BIN, b"defg", force_len=127) + _ws_frame(BIN, big)),
        ("fragments.bin", cfg(0x80, 2, 0) + _ws_frame(TEXT, b"Hel", fin=False) + _ws_frame(PING, b"p") +
         _ws_frame(CONT, b"lo ", fin=False) + _ws_frame(PONG, b"") + _ws_frame(CONT, b"world") +
         _ws_frame(CLOSE, b"\x03\xe8bye")),
        ("too_big.bin", cfg(3, 4) + _ws_frame(TEXT, b"0123456789ABCDEF") +
         _ws_frame(BIN, b"0123456", fin=False) + _ws_frame(PING, b"x") + _ws_frame(CONT, b"789ABCDEF") +
         _ws_frame(TEXT, b"ok")),
        ("close_empty.bin", cfg(0x80) + _ws_frame(CLOSE, b"")),
        ("error_masked.bin", cfg(0x80) + bytes([0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6b])),
        ("error_rsv.bin", cfg(0x80, 0) + _ws_frame(TEXT, b"a") + bytes([0xc1, 0x00])),
        ("error_close1.bin", cfg(0x80) + _ws_frame(CLOSE, b"\x03")),
        ("error_top_bit.bin", cfg(0x80) + bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1])),
        ("head_ok.bin", head_ok + _ws_frame(TEXT, event)),
        ("head_refused.bin", head_refused),
    ]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    for target, seeds in (("pbbp2", pbbp2_seeds()), ("event", event_seeds()),
                          ("command", command_seeds()), ("config", config_seeds()),
                          ("dingtalk", dingtalk_seeds()), ("json_scan", json_scan_seeds()),
                          ("wsframe", wsframe_seeds())):
        d = os.path.join(outdir, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in seeds:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (d, len(seeds)))


if __name__ == "__main__":
    main()
