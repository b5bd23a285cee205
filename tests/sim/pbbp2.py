"""pbbp2 frame codec for the Feishu simulator (PLATFORMS.md §1.3–1.4).

The message classes are built at import time from a hand-written
FileDescriptorProto, so there is no protoc step and no generated file.  This
codec is deliberately independent of the C daemon's hand-rolled one: python
protobuf enforces proto2 `required` fields on both encode and decode, so a
daemon frame that omits SeqID/LogID/service/method fails to decode here
exactly as it would in the official Node SDK.
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto

# (name, number, type, label) for each message, mirroring the Go struct tags.
_HEADER_FIELDS = [
    ("key", 1, _F.TYPE_STRING, _F.LABEL_REQUIRED),
    ("value", 2, _F.TYPE_STRING, _F.LABEL_REQUIRED),
]
_FRAME_FIELDS = [
    ("SeqID", 1, _F.TYPE_UINT64, _F.LABEL_REQUIRED),
    ("LogID", 2, _F.TYPE_UINT64, _F.LABEL_REQUIRED),
    ("service", 3, _F.TYPE_INT32, _F.LABEL_REQUIRED),
    ("method", 4, _F.TYPE_INT32, _F.LABEL_REQUIRED),
    ("headers", 5, _F.TYPE_MESSAGE, _F.LABEL_REPEATED),
    ("payload_encoding", 6, _F.TYPE_STRING, _F.LABEL_OPTIONAL),
    ("payload_type", 7, _F.TYPE_STRING, _F.LABEL_OPTIONAL),
    ("payload", 8, _F.TYPE_BYTES, _F.LABEL_OPTIONAL),
    ("LogIDNew", 9, _F.TYPE_STRING, _F.LABEL_OPTIONAL),
]

METHOD_CONTROL = 0  # ping / pong
METHOD_DATA = 1  # event / card


def _build_file() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="sim_pbbp2.proto", package="pbbp2", syntax="proto2")
    for msg_name, fields in (("Header", _HEADER_FIELDS), ("Frame", _FRAME_FIELDS)):
        msg = fdp.message_type.add(name=msg_name)
        for name, number, ftype, label in fields:
            field = msg.field.add(name=name, number=number, type=ftype, label=label)
            if ftype == _F.TYPE_MESSAGE:
                field.type_name = ".pbbp2.Header"
    return fdp


def _message_class(descriptor):
    # protobuf >= 4.22 has GetMessageClass; Debian's 3.21/4.21 only has the factory.
    get_class = getattr(message_factory, "GetMessageClass", None)
    if get_class is not None:
        return get_class(descriptor)
    return message_factory.MessageFactory(_POOL).GetPrototype(descriptor)


# A private pool keeps these names from clashing with anything else loaded.
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_build_file())
Header = _message_class(_POOL.FindMessageTypeByName("pbbp2.Header"))
Frame = _message_class(_POOL.FindMessageTypeByName("pbbp2.Frame"))


def make_frame(seq_id=0, log_id=0, service=0, method=METHOD_DATA,
               headers=(), payload=None, log_id_new=None) -> "Frame":
    """Build a Frame; the four required fields are always set (even to 0)."""
    frame = Frame()
    # Assigning explicitly sets proto2 presence, so 0 values are still emitted.
    frame.SeqID = seq_id
    frame.LogID = log_id
    frame.service = service
    frame.method = method
    set_headers(frame, headers)
    if payload is not None:
        frame.payload = payload
    if log_id_new is not None:
        frame.LogIDNew = log_id_new
    return frame


def encode(frame) -> bytes:
    """Serialize; raises google.protobuf.message.EncodeError if a required field is unset."""
    return frame.SerializeToString()


def decode(data: bytes):
    """Parse; raises google.protobuf.message.DecodeError on garbage or missing required fields."""
    return Frame.FromString(data)


def set_headers(frame, headers) -> None:
    """Append headers given as a dict or as (key, value) pairs; values become strings."""
    items = headers.items() if isinstance(headers, dict) else headers
    for key, value in items:
        frame.headers.add(key=str(key), value=str(value))


def header_list(frame) -> list:
    """Headers in wire order, duplicates kept (the ack check needs to see them)."""
    return [(h.key, h.value) for h in frame.headers]


def header_dict(frame) -> dict:
    """Headers as a dict; with duplicate keys the first one wins."""
    out = {}
    for key, value in header_list(frame):
        out.setdefault(key, value)
    return out


def describe(frame) -> dict:
    """A JSON-friendly view of a frame for logs and the control API."""
    out = {
        "seq_id": frame.SeqID,
        "log_id": frame.LogID,
        "service": frame.service,
        "method": frame.method,
        "headers": header_dict(frame),
    }
    for name in ("payload_encoding", "payload_type", "LogIDNew"):
        if frame.HasField(name):
            out[name] = getattr(frame, name)
    if frame.HasField("payload"):
        out["payload"] = frame.payload.decode("utf-8", "replace")
    return out
