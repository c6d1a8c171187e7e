"""A tiny HTTP/1.1 peer for http_client_test: plain, or TLS with the given cert and key.

usage: http_peer.py [--ipv6] [CERT KEY]   prints its port, then serves until killed.
  --ipv6      listen on ::1 instead of 127.0.0.1
  GET /hello  200 "hi", keep-alive, header x-connection: an id per TCP connection
  GET /host   200 with the request's Host header
  GET /slow   answers after 3 s (for timeouts)
  GET /close  200 "bye" and closes the connection
  POST /echo  200 with the request body
  POST /reset reads the request, then resets the connection without an answer
  GET /resets 200 with how many /reset requests arrived so far
"""
import http.server
import itertools
import socket
import ssl
import struct
import sys
import time

ids = itertools.count(1)
resets = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection_id = next(ids)

    def reply(self, body, close=False):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-connection", str(self.connection_id))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/resets":
            self.reply(str(resets).encode())
            return
        if self.path == "/host":
            self.reply(self.headers.get("Host", "").encode())
            return
        self.reply(b"bye" if self.path == "/close" else b"hi", close=self.path == "/close")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/reset":
            global resets
            resets += 1
            # SO_LINGER 0: close() sends a RST, as a crashed or cut-off server would.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self.reply(body)

    def log_message(self, *args):
        pass


class Ipv6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def quiet(self, request, client_address):
    pass  # a reset connection is the point of /reset


http.server.ThreadingHTTPServer.handle_error = quiet


args = sys.argv[1:]
ipv6 = args[:1] == ["--ipv6"]
if ipv6:
    args = args[1:]
server = Ipv6Server(("::1", 0), Handler) if ipv6 else \
    http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(args) == 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args[0], args[1])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
