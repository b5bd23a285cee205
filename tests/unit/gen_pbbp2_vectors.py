#!/usr/bin/python3
"""Regenerates the pbbp2 byte vectors pasted into tests/unit/test_pbbp2.c.

Run from the repository root:  /usr/bin/python3 tests/unit/gen_pbbp2_vectors.py
The frames are encoded by python3-protobuf (Debian package) from the proto2
schema that tests/sim/pbbp2.py builds at runtime from descriptor_pb2, so the C
codec is checked against a real protobuf implementation, not against itself.
The output is C; paste it over the generated block in test_pbbp2.c.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
import pbbp2  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool  # noqa: E402

_F = descriptor_pb2.FieldDescriptorProto


def _ext_classes():
    """Frame/Header plus fields the daemon does not know (12-15 and header 3)."""
    fdp = descriptor_pb2.FileDescriptorProto(name="ext_pbbp2.proto", package="pbbp2ext",
                                             syntax="proto2")
    hdr = fdp.message_type.add(name="Header")
    for name, num, ftype in (("key", 1, _F.TYPE_STRING), ("value", 2, _F.TYPE_STRING),
                             ("extra", 3, _F.TYPE_UINT32)):
        hdr.field.add(name=name, number=num, type=ftype, label=_F.LABEL_OPTIONAL)
    frm = fdp.message_type.add(name="Frame")
    for name, num, ftype in (
            ("SeqID", 1, _F.TYPE_UINT64), ("LogID", 2, _F.TYPE_UINT64),
            ("service", 3, _F.TYPE_INT32), ("method", 4, _F.TYPE_INT32),
            ("headers", 5, _F.TYPE_MESSAGE), ("payload", 8, _F.TYPE_BYTES),
            ("u12", 12, _F.TYPE_UINT64), ("f13", 13, _F.TYPE_FIXED32),
            ("f14", 14, _F.TYPE_FIXED64), ("s15", 15, _F.TYPE_STRING)):
        label = _F.LABEL_REPEATED if num == 5 else _F.LABEL_OPTIONAL
        f = frm.field.add(name=name, number=num, type=ftype, label=label)
        if ftype == _F.TYPE_MESSAGE:
            f.type_name = ".pbbp2ext.Header"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return pbbp2._message_class(pool.FindMessageTypeByName("pbbp2ext.Frame"))


def vectors():
    out = []
    # 1. a ping: control frame, service id, method 0, header type=ping
    ping = pbbp2.make_frame(seq_id=0, log_id=0, service=33554678, method=pbbp2.METHOD_CONTROL,
                            headers=[("type", "ping")])
    out.append(("v_ping", pbbp2.encode(ping)))
    # 2. a data frame: event headers, JSON payload, LogID near 2^64-1, LogIDNew
    data = pbbp2.make_frame(
        seq_id=1234567, log_id=2**64 - 2, service=33554678, method=pbbp2.METHOD_DATA,
        headers=[("type", "event"), ("message_id", "msg-7f3a"), ("sum", "1"), ("seq", "0"),
                 ("trace_id", "trace-9b1c")],
        payload='{"schema":"2.0","header":{"event_type":"im.message.receive_v1"},"text":"你好"}'
        .encode("utf-8"),
        log_id_new="log-new-Ω-1")
    out.append(("v_data", pbbp2.encode(data)))
    # 3. negative service (int32 -> 10-byte sign-extended varint), empty strings/payload
    neg = pbbp2.make_frame(seq_id=2**63 + 5, log_id=1, service=-2, method=-1,
                           headers=[("type", "pong"), ("type", "dup")], payload=b"")
    neg.payload_encoding = ""
    neg.payload_type = "json"
    out.append(("v_negative", pbbp2.encode(neg)))
    # 4. unknown fields: 12 varint, 13 fixed32, 14 fixed64, 15 string, header field 3
    Ext = _ext_classes()
    ext = Ext(SeqID=9, LogID=10, service=11, method=1, payload=b"ok",
              u12=2**64 - 1, f13=0xDEADBEEF, f14=0x0102030405060708, s15="skip me")
    ext.headers.add(key="type", value="event", extra=300)
    raw = ext.SerializeToString()
    assert (15 << 3 | 2) in raw  # the field-15 tag is really there
    out.append(("v_unknown", raw))
    parsed = pbbp2.decode(raw)  # the real proto2 parser must accept it too
    parsed.DiscardUnknownFields()
    out.append(("v_unknown_clean", pbbp2.encode(parsed)))
    # 5. the zero frame: required fields present even when 0
    out.append(("v_zero", pbbp2.encode(pbbp2.make_frame(method=0))))
    return out


def c_array(name, data):
    lines = ["static const unsigned char %s[%d] = {" % (name, len(data))]
    for i in range(0, len(data), 12):
        lines.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
    lines.append("};")
    return "\n".join(lines)


if __name__ == "__main__":
    for name, data in vectors():
        assert pbbp2.decode(data) is not None
        print(c_array(name, data))
