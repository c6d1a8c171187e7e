"""A Server-Sent Events client for the integration tests: opens GET /stream/{key} on a raw
socket, checks nothing itself, and hands back the status, the headers and then each event or
comment as the server sends it (chunked transfer decoded, events split on blank lines)."""
import json
import socket


class StreamClient:
    def __init__(self, server, path, headers=None, timeout=10, source="127.0.0.1",
                 version="1.1"):
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout,
                                             source_address=(source, 0))
        self.chunked = version == "1.1"
        lines = ["GET %s HTTP/%s" % (path, version), "Host: %s:%d" % (server.host, server.port),
                 "Accept: text/event-stream"]
        lines += ["%s: %s" % item for item in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n").decode()
        status_line, *fields = head.split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for field in fields:
            name, value = field.split(":", 1)
            self.headers[name.strip().lower()] = value.strip()
        self.body = b""  # decoded body bytes not yet split into blocks
        self.ended = False

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the stream")
        self.buffer += data

    def _until(self, marker):
        while marker not in self.buffer:
            self._recv()
        at = self.buffer.index(marker) + len(marker)
        taken, self.buffer = self.buffer[:at], self.buffer[at:]
        return taken[:-len(marker)]

    def _chunk(self):
        if not self.chunked:  # HTTP/1.0: the body as it comes, until the close
            if not self.buffer:
                self._recv()
            self.body, self.buffer = self.body + self.buffer, b""
            return
        size = int(self._until(b"\r\n"), 16)
        if size == 0:
            self.ended = True
            raise EOFError("the server ended the stream")
        while len(self.buffer) < size + 2:
            self._recv()
        self.body += self.buffer[:size]
        self.buffer = self.buffer[size + 2:]

    def block(self):
        """The next block (event, comment or retry hint) as text, without its blank line."""
        while b"\n\n" not in self.body:
            self._chunk()
        at = self.body.index(b"\n\n")
        text, self.body = self.body[:at].decode(), self.body[at + 2:]
        return text

    def event(self):
        """The next event as (id, data parsed as JSON); comments and hints are skipped."""
        while True:
            fields = {}
            for line in self.block().split("\n"):
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
            if "data" in fields:
                return int(fields["id"]), json.loads(fields["data"])

    def event_where(self, predicate):
        """Skips events until one whose data satisfies `predicate`; returns it."""
        while True:
            event_id, data = self.event()
            if predicate(data):
                return event_id, data

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
