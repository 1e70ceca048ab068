"""Shared helpers for the IMAP client scripts: a raw line client for exact protocol checks,
and imaplib set-up. Every failure raises; the Rust test reports the traceback."""

import base64
import imaplib
import socket
import sys

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Raw:
    """A line-level client: send exact bytes, read until the tagged answer."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.greeting = self.line()
        self.n = 0

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return "r%d" % self.n

    def cmd(self, text, tag=None):
        """Sends `tag text` and returns (untagged lines, tagged line)."""
        tag = tag or self.tag()
        self.send(("%s %s\r\n" % (tag, text)).encode())
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            if l.startswith(tag.encode() + b" "):
                return lines, l
            lines.append(l)

    def close(self):
        self.sock.close()


def login(port, user, password):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, password)
    return m


def simple(m, name, *args):
    """Runs a command imaplib does not wrap; returns (status, untagged data of that name)."""
    typ, dat = m._simple_command(name, *args)
    return m._untagged_response(typ, dat, name)


def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


def args():
    port = int(sys.argv[1])
    return port, sys.argv[2], sys.argv[3]


class Deflated(Raw):
    """A Raw client after COMPRESS DEFLATE: raw DEFLATE both ways (RFC 4978)."""

    def start(self):
        import zlib

        self.comp = zlib.compressobj(wbits=-15)
        self.decomp = zlib.decompressobj(wbits=-15)
        self.buf = self.decomp.decompress(self.buf)

    def send(self, data):
        import zlib

        if not hasattr(self, "comp"):
            return Raw.send(self, data)
        self.sock.sendall(self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH))

    def line(self):
        if not hasattr(self, "decomp"):
            return Raw.line(self)
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered: %r" % self.buf)
            self.buf += self.decomp.decompress(chunk)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line
