"""COMPRESS=DEFLATE (RFC 4978): after the tagged OK, commands and answers travel compressed,
a large FETCH included. Prints PASS."""

import sys

from client import Deflated, check, plain

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

r = Deflated(port)
check(b"COMPRESS=DEFLATE" in r.greeting, r.greeting)
u, t = r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, t)
u, t = r.cmd("COMPRESS DEFLATE")
check(t.endswith(b"OK DEFLATE active"), t)
r.start()
u, t = r.cmd("NOOP")
check(b"OK" in t, t)
u, t = r.cmd("COMPRESS DEFLATE")
check(b"NO [COMPRESSIONACTIVE]" in t, t)
body = b"Subject: big\r\n\r\n" + b"compressible line of text\r\n" * 20000
r.send(b"a1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
u, t = r.until("a1")
check(b"OK" in t, t)
u, t = r.cmd("SELECT INBOX")
check(b"* 1 EXISTS" in u, u)
r.send(b"f1 FETCH 1 BODY.PEEK[]\r\n")
first = r.line()
check(first.endswith(b"{%d}" % len(body)), first)
while len(r.buf) < len(body):
    import zlib  # noqa: F401
    chunk = r.sock.recv(65536)
    check(chunk, "connection closed during the literal")
    r.buf += r.decomp.decompress(chunk)
check(r.buf[: len(body)] == body, "the message came back whole")
r.buf = r.buf[len(body):]
u, t = r.until("f1")
check(b"OK" in t, t)
u, t = r.cmd("LOGOUT")
check(u and u[0].startswith(b"* BYE"), u)
print("PASS")
