#!/usr/bin/python3
"""Local DingTalk (钉钉) Stream-mode simulator for collabd tests.

Runs two listeners on 127.0.0.1: an HTTP port with the platform calls the
daemon makes (Stream registration, access token, sessionWebhook, robot group
send, card instances) plus the /_sim/ control API, and a WebSocket port with
the Stream gateway (/connect?ticket=…, JSON text frames).  Behaviour follows
the project brief's PLATFORMS.md Part 2.  Once both listen it prints exactly one
line, {"http_port": N, "ws_port": M}, to stdout; all logging goes to stderr.

    /usr/bin/python3 tests/sim/dingtalk_sim.py --port 0 --ws-port 0 \
        --client-id dingsimclientid --client-secret simsecret
"""

import argparse
import asyncio
import json
import logging
import signal
import ssl
import sys

import websockets

import sim_http
from dt_control import DtControl
from dt_openapi import DtApi
from dt_state import DtStore
from dt_ws import DtHub

HOST = "127.0.0.1"  # never reachable from outside the machine
log = logging.getLogger("dtsim")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="HTTP port (0 = pick a free one)")
    p.add_argument("--ws-port", type=int, default=0, help="WebSocket port (0 = free one)")
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--tls-cert", help="serve the WebSocket over TLS (wss://) with this PEM certificate")
    p.add_argument("--tls-key", help="the certificate's PEM private key")
    p.add_argument("--ws-keepalive", type=float, default=20,
                   help="seconds between RFC 6455 pings from the server; the client must "
                        "answer within the same time (0 = off)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


async def run(args) -> None:
    store = DtStore(args.client_id, args.client_secret)
    hub = DtHub(store)
    api = DtApi(store)
    control = DtControl(store, hub)

    async def route(req):
        if req.path.startswith("/_sim/"):
            return await control.handle(req)
        return await api.handle(req)

    keepalive = args.ws_keepalive or None
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        store.ws_scheme = "wss"
    ws_server = await websockets.serve(
        hub.handler, HOST, args.ws_port, process_request=hub.process_request, ssl=tls,
        ping_interval=keepalive, ping_timeout=keepalive, close_timeout=2,
        max_size=4 * 1024 * 1024)
    store.ws_port = ws_server.sockets[0].getsockname()[1]
    http_server = await sim_http.serve(route, HOST, args.port)
    store.http_port = http_server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    sys.stdout.write(json.dumps({"http_port": store.http_port, "ws_port": store.ws_port}) + "\n")
    sys.stdout.flush()
    log.info("listening: http %s:%d ws %s:%d client_id=%s", HOST, store.http_port, HOST,
             store.ws_port, store.client_id)

    background = asyncio.create_task(hub.background_loop())
    await stop.wait()
    log.info("shutting down")
    background.cancel()
    http_server.close()
    ws_server.close()
    try:
        await asyncio.wait_for(asyncio.gather(ws_server.wait_closed(),
                                              http_server.wait_closed()), 5)
    except asyncio.TimeoutError:
        log.warning("shutdown timed out; exiting anyway")


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
