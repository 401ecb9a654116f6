#!/usr/bin/env python3
"""A scripted HTTP(S) server for tests/net/test_http.c (Python stdlib only).

    scripted_server.py [--tls CERT KEY]

Listens on 127.0.0.1 on a free port and prints the port on one line. Each
request that is not a control request gets the next response of the script
(a 500 saying so when the script has run out) and is recorded.

Control routes (neither scripted nor recorded):
    POST /_script    body: a JSON list of responses; replaces the script and
                     forgets the recorded requests
    GET  /_requests  the recorded requests, as JSON: a list of
                     {"conn": N, "method", "path", "headers": [[name, value]...],
                      "body": text (latin-1)}; "conn" numbers the TCP
                     connection the request came on
    POST /_quit      stops the server

A response is a JSON object, every member optional:
    status           default 200
    headers          [[name, value], ...] (Content-Length is added)
    body | body_hex  text (UTF-8) or bytes in hex
    interim          [{"status": 103, "headers": [...]}, ...] sent first
    chunked          true: chunked transfer coding instead of Content-Length
    delay_ms         wait this long before answering
    cut_after_bytes  send the headers and only this many body bytes, then
                     close the connection (the announced length stays whole)

The server stops by itself after 120 s, or when its standard input closes
(the test that started it has exited).
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIFETIME_S = 120

lock = threading.Lock()
script = []
requests = []
connections = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        super().setup()
        with lock:
            connections += 1
            self.conn_id = connections

    def log_message(self, format, *args):  # quiet: the test prints what matters
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.serve
        raise AttributeError(name)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_raw(self, status, headers, body, close=False):
        lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("X",))[0])]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        lines.append("Content-Length: %d" % len(body))
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()

    def control(self, body):
        global script
        if self.command == "POST" and self.path == "/_script":
            with lock:
                script = json.loads(body)
                requests.clear()
            self.send_raw(200, [], b"{}", close=True)
        elif self.command == "GET" and self.path == "/_requests":
            with lock:
                text = json.dumps(requests)
            self.send_raw(200, [("Content-Type", "application/json")], text.encode(), close=True)
        elif self.command == "POST" and self.path == "/_quit":
            self.send_raw(200, [], b"{}", close=True)
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        else:
            self.send_raw(404, [], b"unknown control route", close=True)

    def serve(self):
        body = self.read_body()
        if self.path.startswith("/_"):
            self.control(body)
            return
        with lock:
            requests.append({"conn": self.conn_id, "method": self.command, "path": self.path,
                             "headers": [[k, v] for k, v in self.headers.items()],
                             "body": body.decode("latin-1")})
            step = script.pop(0) if script else {"status": 500, "body": "script exhausted"}
        self.answer(step)

    def answer(self, step):
        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000)
        for interim in step.get("interim", []):
            lines = ["HTTP/1.1 %d Interim" % interim["status"]]
            lines += ["%s: %s" % (k, v) for k, v in interim.get("headers", [])]
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status = step.get("status", 200)
        headers = [tuple(h) for h in step.get("headers", [])]
        if "body_hex" in step:
            body = bytes.fromhex(step["body_hex"])
        else:
            body = step.get("body", "").encode()
        if self.command == "HEAD":
            body = b""
        if "cut_after_bytes" in step:
            self.send_cut(status, headers, body, step["cut_after_bytes"])
        elif step.get("chunked"):
            self.send_chunked(status, headers, body)
        else:
            self.send_raw(status, headers, body)

    def send_cut(self, status, headers, body, n):
        lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("X",))[0])]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        lines.append("Content-Length: %d" % len(body))
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body[:n])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def send_chunked(self, status, headers, body):
        lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("X",))[0])]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        lines.append("Transfer-Encoding: chunked")
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        for i in range(0, len(body), 4096):
            chunk = body[i:i + 4096]
            out += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        self.wfile.write(out + b"0\r\n\r\n")
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that time out or reject the certificate are expected


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Timer(LIFETIME_S, lambda: os._exit(0)).start()
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()
    os._exit(0)  # without waiting for the lifetime timer


if __name__ == "__main__":
    main()
