"""POP3 client scenarios with Python's poplib (and raw sockets for pipelining and odd input).

Run by crates/access/tests/pop3_poplib.rs: `python3 poplib_client.py SCENARIO`; the server's
address, the credentials, the CA file and the expected messages come from the environment.
Every check is an assert; the exit status is the verdict. Scenarios print JSON for the Rust
side when it has more to check.
"""

import base64
import json
import os
import poplib
import socket
import ssl
import sys
import time

HOST = os.environ["POP3_HOST"]
PORT = int(os.environ["POP3_PORT"])
PORTS = int(os.environ["POP3S_PORT"])
USER = os.environ["POP3_USER"]
PASS = os.environ["POP3_PASS"]
CA = os.environ["POP3_CA"]
MESSAGES = [open(p, "rb").read() for p in os.environ["POP3_MESSAGES"].split(":")]
TIMEOUT = 20


def context():
    return ssl.create_default_context(cafile=CA)


def plain():
    return poplib.POP3(HOST, PORT, timeout=TIMEOUT)


def signed_in(p=None):
    p = p or plain()
    p.user(USER)
    p.pass_(PASS)
    return p


def fails(fn, *args, code=None):
    """Runs fn(*args), which must answer -ERR (with the response code if given)."""
    try:
        fn(*args)
    except poplib.error_proto as e:
        text = e.args[0] if isinstance(e.args[0], bytes) else str(e.args[0]).encode()
        assert text.startswith(b"-ERR"), text
        if code:
            assert code.encode() in text, text
        return text
    raise AssertionError(f"{fn.__name__}{args} succeeded")


def content(lines):
    return b"".join(l + b"\r\n" for l in lines)


def uidls(p):
    return dict(l.decode().split(" ", 1) for l in p.uidl()[1])


def every_command():
    p = plain()
    welcome = p.getwelcome()
    assert welcome.startswith(b"+OK pop.c.example POP3 ready <"), welcome
    caps = p.capa()
    for cap in ["TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                "STLS", "IMPLEMENTATION"]:
        assert cap in caps, (cap, caps)
    assert caps["SASL"] == ["PLAIN"], caps
    fails(p.stat)  # not signed in
    p.stls(context())
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps, caps
    fails(p._shortcmd, "STLS")
    signed_in(p)
    caps = p.capa()
    assert "USER" not in caps and "TOP" in caps, caps
    sizes = [len(m) for m in MESSAGES]
    assert p.stat() == (3, sum(sizes)), (p.stat(), sizes)
    resp, listing, _ = p.list()
    assert listing == [f"{i + 1} {s}".encode() for i, s in enumerate(sizes)], listing
    assert p.list(2) == f"+OK 2 {sizes[1]}".encode()
    fails(p.list, 4)
    fails(p._shortcmd, "LIST 0")
    ids = uidls(p)
    assert sorted(ids) == ["1", "2", "3"] and len(set(ids.values())) == 3, ids
    assert p.uidl(3) == f"+OK 3 {ids['3']}".encode()
    for i, m in enumerate(MESSAGES):
        resp, lines, _ = p.retr(i + 1)
        assert content(lines) == m, (i, content(lines), m)
    fails(p.retr, 9)
    # TOP: the header, the blank line, n lines of the body.
    header, body = MESSAGES[2].split(b"\r\n\r\n", 1)
    _, lines, _ = p.top(3, 5)
    assert content(lines) == header + b"\r\n\r\n" + b"".join(body.split(b"\r\n")[i] + b"\r\n" for i in range(5))
    _, lines, _ = p.top(1, 0)
    assert content(lines) == MESSAGES[0].split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    fails(p._shortcmd, "TOP 1")
    # DELE marks; the message is gone from every listing; RSET brings it back.
    assert p.dele(1).startswith(b"+OK")
    assert p.stat() == (2, sum(sizes[1:]))
    fails(p.list, 1)
    fails(p.retr, 1)
    fails(p.dele, 1)
    assert [l.split()[0] for l in p.list()[1]] == [b"2", b"3"]
    assert p.rset().startswith(b"+OK")
    assert p.stat() == (3, sum(sizes))
    assert p.noop().startswith(b"+OK")
    fails(p._shortcmd, "FROB")
    fails(p.user, USER)
    assert p.dele(2).startswith(b"+OK")
    # The numbers stay fixed: message 3 is still 3.
    assert p.list(3) == f"+OK 3 {sizes[2]}".encode()
    bye = p.quit()
    assert bye.startswith(b"+OK") and b"1 messages deleted" in bye, bye
    print(json.dumps({"deleted": ids["2"]}))


def implicit_tls():
    p = poplib.POP3_SSL(HOST, PORTS, timeout=TIMEOUT, context=context())
    assert p.getwelcome().startswith(b"+OK "), p.getwelcome()
    assert "STLS" not in p.capa()
    text = fails(p._shortcmd, "STLS")
    assert b"TLS" in text, text
    signed_in(p)
    assert p.stat()[0] == 3
    _, lines, _ = p.retr(2)
    assert content(lines) == MESSAGES[1]
    assert p.quit().startswith(b"+OK")


def sasl_plain():
    token = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASS.encode()).decode()
    # AUTH alone lists the mechanisms.
    p = plain()
    _, mechs, _ = p._longcmd("AUTH")
    assert mechs == [b"PLAIN"], mechs
    fails(p._shortcmd, "AUTH CRAM-MD5")
    # With the initial response.
    assert p._shortcmd("AUTH PLAIN " + token).startswith(b"+OK")
    assert p.stat()[0] == 3
    p.quit()
    # After the continuation, over TLS.
    p = plain()
    p.stls(context())
    p._putcmd("AUTH PLAIN")
    line, _ = p._getline()
    assert line == b"+ ", line
    p._putcmd(token)
    assert p._getresp().startswith(b"+OK")
    p.quit()
    # `*` cancels; the session is still in AUTHORIZATION.
    p = plain()
    p._putcmd("AUTH PLAIN")
    assert p._getline()[0] == b"+ "
    p._putcmd("*")
    fails(p._getresp)
    # A wrong password: [AUTH].
    bad = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
    fails(p._shortcmd, "AUTH PLAIN " + bad, code="[AUTH]")
    fails(p._shortcmd, "AUTH PLAIN !!notbase64", code="[AUTH]")
    signed_in(p)
    p.quit()


def wrong_password():
    p = plain()
    p.user(USER)
    fails(p.pass_, "wrong secret", code="[AUTH]")
    fails(p.pass_, PASS)  # USER is needed again
    signed_in(p)
    assert p.stat()[0] == 3
    p.quit()


def in_use():
    first = signed_in()
    second = plain()
    second.user(USER)
    fails(second.pass_, PASS, code="[IN-USE]")
    first.quit()
    # The lock is given back before QUIT is answered.
    signed_in(second)
    assert second.stat()[0] == 3
    second.quit()


def sign_in_when_free():
    """Signs in, waiting (up to 20 s) while a session that was cut off still holds the lock."""
    deadline = time.monotonic() + 20
    while True:
        p = plain()
        p.user(USER)
        try:
            p.pass_(PASS)
            return p
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.monotonic() > deadline:
                raise
            p.close()
            time.sleep(0.05)


def dele_needs_quit():
    p = signed_in()
    p.dele(1)
    p.dele(2)
    assert p.stat()[0] == 1
    # The connection drops without QUIT: no UPDATE state.
    p.sock.shutdown(socket.SHUT_RDWR)
    p.close()
    p = sign_in_when_free()
    assert p.stat()[0] == 3, p.stat()
    p.dele(3)
    p.rset()
    p.quit()
    p = signed_in()
    assert p.stat()[0] == 3
    p.quit()


def uidl_stable():
    p = signed_in()
    before = uidls(p)
    p.quit()
    p = signed_in()
    assert uidls(p) == before
    p.dele(1)
    p.quit()
    p = signed_in()
    after = uidls(p)
    assert after == {"1": before["2"], "2": before["3"]}, (before, after)
    p.quit()
    print(json.dumps(after))


def read_all(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def pipelining():
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(
        f"CAPA\r\nUSER {USER}\r\nPASS {PASS}\r\nSTAT\r\nLIST 1\r\nUIDL 1\r\nTOP 1 0\r\n"
        "RETR 2\r\nDELE 3\r\nSTAT\r\nRSET\r\nNOOP\r\nQUIT\r\n".encode()
    )
    lines = f.read().split(b"\r\n")
    s.close()
    status = [l for l in lines if l.startswith((b"+OK", b"-ERR"))]
    expected = ["+OK Capability", "+OK send PASS", "+OK maildrop has 3", "+OK 3 ",
                "+OK 1 ", "+OK 1 ", "+OK top", "+OK ", "+OK message 3 deleted", "+OK 2 ",
                "+OK maildrop has 3", "+OK", "+OK pop.c.example"]
    assert len(status) == len(expected), status
    for got, want in zip(status, expected):
        assert got.decode().startswith(want), (got, want, status)
    assert b"PIPELINING" in lines


def overlong():
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(b"NOOP " + b"x" * 5000 + b"\r\n")
    assert f.readline() == b"-ERR line too long\r\n"
    # 1 MB without a line end, then a command: the server keeps none of it.
    for _ in range(64):
        s.sendall(b"y" * 16384)
    s.sendall(b"\r\nFROB\r\nUSER " + b"u" * 300 + b"\r\n")
    assert f.readline() == b"-ERR line too long\r\n"
    assert f.readline().startswith(b"-ERR unknown command")
    assert f.readline().startswith(b"+OK")  # 306 octets is within the limit
    s.sendall(f"USER {USER}\r\nPASS {PASS}\r\nLIST " .encode() + b"9" * 2000 + b"\r\nSTAT\r\n")
    assert f.readline().startswith(b"+OK")
    assert f.readline().startswith(b"+OK")
    assert f.readline() == b"-ERR line too long\r\n"
    assert f.readline().startswith(b"+OK 3 ")
    s.sendall(b"RETR 1\x00\r\nQUIT\r\n")
    assert f.readline().startswith(b"-ERR")
    assert f.readline().startswith(b"+OK")
    s.close()


def stls_injection():
    """Plaintext sent after STLS is dropped (RFC 2595 §4), never run inside TLS."""
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(b"STLS\r\nCAPA\r\n")
    assert f.readline().startswith(b"+OK")
    t = context().wrap_socket(s, server_hostname="localhost")
    t.sendall(b"NOOP\r\n")
    g = t.makefile("rb")
    line = g.readline()
    assert line.startswith(b"-ERR"), line  # NOOP before sign-in, not the CAPA answer
    t.sendall(b"QUIT\r\n")
    assert g.readline().startswith(b"+OK")
    t.close()


SCENARIOS = {f.__name__: f for f in [every_command, implicit_tls, sasl_plain, wrong_password,
                                    in_use, dele_needs_quit, uidl_stable, pipelining,
                                    overlong, stls_injection]}



def too_many_failures():
    p = plain()
    for i in range(4):
        p.user(USER)
        fails(p.pass_, f"wrong {i}", code="[AUTH]")
    p.user(USER)
    text = fails(p.pass_, "wrong 5", code="[AUTH]")
    assert b"closing" in text, text
    assert p.file.readline() == b"", "the session is closed"


SCENARIOS["too_many_failures"] = too_many_failures


def no_password_in_clear():
    """RFC 2595 §4, RFC 8314 §3: a client not allowed to sign in in clear is offered STLS
    only; USER, PASS and AUTH are refused before it, and work after it."""
    p = plain()
    caps = p.capa()
    assert "STLS" in caps, caps
    assert "USER" not in caps and "SASL" not in caps, caps
    fails(p.user, USER, code="[AUTH]")
    fails(p.pass_, PASS, code="[AUTH]")
    plain_response = base64.b64encode(f"\0{USER}\0{PASS}".encode()).decode()
    fails(p._shortcmd, "AUTH PLAIN " + plain_response, code="[AUTH]")
    fails(p._shortcmd, "AUTH", code="[AUTH]")
    p.stls(context())
    caps = p.capa()
    assert "USER" in caps and "SASL" in caps, caps
    signed_in(p)
    count, _ = p.stat()
    assert count == len(MESSAGES), count
    p.quit()


SCENARIOS["no_password_in_clear"] = no_password_in_clear

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
