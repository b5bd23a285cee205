"""A minimal asyncio HTTP/1.1 server for the Feishu simulator.

The daemon talks to the OpenAPI with libcurl, so this covers what libcurl
sends: Content-Length or chunked bodies, `Expect: 100-continue`, keep-alive
and `Connection: close`.  Every response carries Content-Length.  It is not a
general-purpose server (no pipelining guarantees beyond sequential handling,
no TLS) and binds wherever the caller says (the simulator uses 127.0.0.1).
"""

import asyncio
import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus

log = logging.getLogger("sim.http")

MAX_HEADERS = 100
MAX_BODY = 16 * 1024 * 1024  # far above Feishu's 150 KB text limit


class BadRequest(Exception):
    """The bytes on the socket are not an HTTP/1.x request we can parse."""


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict  # lower-cased names; repeated headers joined with ", "
    body: bytes = b""
    path: str = ""
    query: dict = field(default_factory=dict)  # first value of each parameter

    def __post_init__(self):
        parts = urllib.parse.urlsplit(self.target)
        self.path = parts.path
        self.query = {k: v[0] for k, v in
                      urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}

    def json(self):
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def json_response(status: int, obj, headers=None) -> Response:
    hdrs = {"Content-Type": "application/json; charset=utf-8"}
    hdrs.update(headers or {})
    return Response(status, json.dumps(obj).encode("utf-8"), hdrs)


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"),
                    {"Content-Type": "text/plain; charset=utf-8"})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # e.g. 514, which Feishu uses but http.HTTPStatus lacks
        return "Unknown"


async def _read_headers(reader) -> dict:
    headers = {}
    for _ in range(MAX_HEADERS + 1):
        line = await reader.readline()
        if not line:
            raise BadRequest("connection closed inside headers")
        if line in (b"\r\n", b"\n"):
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name.strip():
            raise BadRequest(f"bad header line {line!r}")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raise BadRequest("too many headers")


async def _read_chunked(reader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest(f"bad chunk size {size_line!r}") from exc
        if size == 0:
            await _read_headers(reader)  # trailers, discarded
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise BadRequest("body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)  # CRLF after each chunk


async def _read_request(reader, writer):
    """Read one request; returns None on a clean EOF between requests."""
    line = await reader.readline()
    if not line:
        return None
    if line in (b"\r\n", b"\n"):  # tolerated stray CRLF between requests (RFC 9112 §2.2)
        line = await reader.readline()
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"bad request line {line!r}")
    method, target, version = parts
    headers = await _read_headers(reader)
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise BadRequest("bad Content-Length") from exc
        if length < 0 or length > MAX_BODY:
            raise BadRequest("bad Content-Length")
        body = await reader.readexactly(length) if length else b""
    return Request(method, target, version, headers, body)


def _wants_keep_alive(req: Request) -> bool:
    conn = req.headers.get("connection", "").lower()
    if req.version == "HTTP/1.0":
        return "keep-alive" in conn
    return "close" not in conn


def _serialize(resp: Response, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {resp.status} {_reason(resp.status)}"]
    for name, value in resp.headers.items():
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(resp.body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


async def serve(handler, host: str, port: int) -> asyncio.AbstractServer:
    """Start serving; `handler(Request) -> Response` is awaited for every request."""

    async def on_connection(reader, writer):
        try:
            while True:
                try:
                    req = await _read_request(reader, writer)
                except BadRequest as exc:
                    log.warning("bad request: %s", exc)
                    writer.write(_serialize(text_response(400, "400 bad request"), False))
                    await writer.drain()
                    return
                if req is None:
                    return
                try:
                    resp = await handler(req)
                except Exception:  # a simulator bug must not hang the daemon's curl call
                    log.exception("handler failed for %s %s", req.method, req.path)
                    resp = text_response(500, "500 simulator error")
                keep_alive = _wants_keep_alive(req)
                writer.write(_serialize(resp, keep_alive))
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request; nothing to answer
        except ValueError:  # StreamReader line limit (64 KiB) exceeded
            log.warning("request line or header too long; closing")
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, host, port)
