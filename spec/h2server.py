#!/usr/bin/python3
"""A small HTTP/2 server for the specs (spec/h2server.lua starts it).

TLS with ALPN h2 on 127.0.0.1, one thread, plain sockets and python3-h2.
Every request is numbered in the order it arrives (1, 2, ...), whatever
its connection; the plan given on the command line (JSON) says what to do
with some of them:

  refuse: [n, ...]   answer RST_STREAM(REFUSED_STREAM): not processed
  goaway: [n, ...]   not processed: GOAWAY with a last stream id below its
                     stream (the streams up to there are still answered);
                     the client closes the connection
  die:    [n, ...]   processed, then the connection is reset (TCP RST)
                     without an answer: the client cannot know that it was
  hold:   [n, ...]   processed only when request n + 1 has arrived, or
                     after 2 s (so that two requests share a connection)
  slow:   [n, ...]   processed after 0.5 s, whatever arrives meanwhile

Any other request is processed: answered 200 with {"n": <its number>,
"path": <its path>}.  Each event is one JSON line on stdout:
{"event": "processed"|"refused"|"goaway"|"died", "n", "method", "path",
"stream", "connection"} and {"event": "connection", "connection"} when one
is accepted, so the spec counts what the server did.
"""
import json
import select
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import hyperframe.frame


def log(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Conn:
    def __init__(self, sock, number):
        self.sock = sock
        self.number = number
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        self.h2.initiate_connection()
        self.requests = {}         # stream id -> (method, path)
        self.pending = []          # (n, stream) held until later
        self.going_away = None     # last stream id of our GOAWAY
        self.closed = False

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.close()

    def reset(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


class Server:
    def __init__(self, plan, certfile, keyfile):
        self.plan = {k: set(v) for k, v in plan.items()}
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.ctx.set_alpn_protocols(["h2"])
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self.conns = []
        self.count = 0
        self.connections = 0
        self.held = []             # (deadline, conn, n, stream, answered on the next request)

    def accept(self):
        raw, _ = self.listener.accept()
        try:
            raw.settimeout(5)
            sock = self.ctx.wrap_socket(raw, server_side=True)
            sock.setblocking(False)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.connections += 1
        conn = Conn(sock, self.connections)
        log(event="connection", connection=conn.number)
        conn.flush()
        self.conns.append(conn)

    def answer(self, conn, n, stream):
        method, path = conn.requests.pop(stream)
        log(event="processed", n=n, method=method, path=path, stream=stream, connection=conn.number)
        body = json.dumps({"n": n, "path": path}).encode()
        try:
            conn.h2.send_headers(stream, [(":status", "200"), ("content-type", "application/json"),
                                          ("content-length", str(len(body)))])
            conn.h2.send_data(stream, body, end_stream=True)
        except Exception:          # the stream went meanwhile
            pass
        conn.flush()

    def request(self, conn, stream):
        self.count += 1
        n = self.count
        method, path = conn.requests[stream]
        fields = dict(n=n, method=method, path=path, stream=stream, connection=conn.number)
        for item in list(self.held):
            _, hconn, hn, hstream, on_next = item
            if on_next:
                self.held.remove(item)
                if not hconn.closed:
                    self.answer(hconn, hn, hstream)
        if n in self.plan.get("refuse", ()):
            conn.requests.pop(stream)
            log(event="refused", **fields)
            conn.h2.reset_stream(stream, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
            conn.flush()
        elif n in self.plan.get("goaway", ()):
            conn.requests.pop(stream)
            log(event="goaway", **fields)
            conn.going_away = stream - 2 if stream > 2 else 0
            # Written by hand: python3-h2's close_connection would end the
            # connection's state, and the streams below could not be answered.
            conn.flush()
            goaway = hyperframe.frame.GoAwayFrame(stream_id=0, last_stream_id=conn.going_away,
                                                  error_code=0)
            try:
                conn.sock.sendall(goaway.serialize())
            except OSError:
                conn.close()
            self.finish_goaway(conn)
        elif n in self.plan.get("die", ()):
            conn.requests.pop(stream)
            log(event="died", **fields)
            log(event="processed", **fields)
            conn.reset()
        elif n in self.plan.get("hold", ()):
            self.held.append((time.monotonic() + 2, conn, n, stream, True))
        elif n in self.plan.get("slow", ()):
            self.held.append((time.monotonic() + 0.5, conn, n, stream, False))
        else:
            self.answer(conn, n, stream)

    def finish_goaway(self, conn):
        """After our GOAWAY: streams above its last id are dropped."""
        for stream in [s for s in conn.requests if s > conn.going_away]:
            conn.requests.pop(stream)

    def receive(self, conn):
        try:
            data = conn.sock.recv(65536)
        except ssl.SSLWantReadError:
            return
        except (OSError, ssl.SSLError):
            data = b""
        if not data:
            conn.close()
            return
        try:
            events = conn.h2.receive_data(data)
        except Exception:
            conn.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                headers = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                           for k, v in ev.headers}
                conn.requests[ev.stream_id] = (headers.get(":method"), headers.get(":path"))
                if conn.going_away is not None and ev.stream_id > conn.going_away:
                    conn.requests.pop(ev.stream_id)    # above our GOAWAY: ignored
                    continue
                if ev.stream_ended:
                    self.request(conn, ev.stream_id)
            elif isinstance(ev, h2.events.DataReceived):
                conn.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                if ev.stream_id in conn.requests and conn.going_away is None:
                    self.request(conn, ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                conn.flush()
                conn.close()
                return
        conn.flush()
        if conn.going_away is not None:
            self.finish_goaway(conn)

    def run(self):
        while True:
            self.conns = [c for c in self.conns if not c.closed]
            now = time.monotonic()
            for item in list(self.held):
                if item[0] <= now:
                    self.held.remove(item)
                    if not item[1].closed:
                        self.answer(item[1], item[2], item[3])
            socks = [self.listener] + [c.sock for c in self.conns]
            readable, _, _ = select.select(socks, [], [], 0.1)
            for s in readable:
                if s is self.listener:
                    self.accept()
                else:
                    for c in self.conns:
                        if c.sock is s and not c.closed:
                            self.receive(c)
                            # TLS may hold more records than select sees
                            while not c.closed and c.sock.pending():
                                self.receive(c)


def main():
    plan = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    server = Server(plan, sys.argv[2], sys.argv[3])
    log(event="listening", port=server.listener.getsockname()[1])
    server.run()


if __name__ == "__main__":
    main()
