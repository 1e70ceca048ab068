"""IMAP4rev2 once enabled (RFC 9051): UTF-8 mailbox names, LIST in the SELECT answer instead of
RECENT, ESEARCH answers, STATUS DELETED, CLOSED; and BINARY (RFC 3516) with a literal8 APPEND.
Prints PASS."""

import sys

from client import Raw, check, plain

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

MSG = (
    b"From: a@b.example\r\n"
    b"Subject: binary\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"B\"\r\n"
    b"\r\n"
    b"--B\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"caf=C3=A9\r\n"
    b"--B\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAw==\r\n"
    b"--B--\r\n"
)

r = Raw(port)
check(b"IMAP4rev2" in r.greeting and b"BINARY" in r.greeting, r.greeting)
u, t = r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, t)
u, t = r.cmd("ENABLE IMAP4rev2 CONDSTORE")
check(u == [b"* ENABLED IMAP4rev2 CONDSTORE"], u)

name = "Entwürfe"
u, t = r.cmd('CREATE "%s"' % name)
check(b"OK" in t, t)
u, t = r.cmd('LIST "" "Entw*"')
check(len(u) == 1 and u[0].endswith(b'"' + name.encode() + b'"'), u)

# APPEND with a binary literal (literal8).
r.send(b"a1 APPEND INBOX ~{%d}\r\n" % len(MSG))
check(r.line().startswith(b"+ "), "continuation")
r.send(MSG + b"\r\n")
u, t = r.until("a1")
check(b"OK [APPENDUID" in t, t)

u, t = r.cmd("SELECT INBOX")
check(b'* LIST () "/" "INBOX"' in u and not any(b"RECENT" in x for x in u), u)
r.send(b"f1 UID FETCH 1:* (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1])\r\n")
u, t = r.until("f1")
data = b"\r\n".join(u)
check(b"BINARY[2] ~{4}\r\n\x00\x01\x02\x03" in data, data)
check(b"BINARY.SIZE[2] 4" in data, data)
check(b"BINARY[1] {5}\r\ncaf\xc3\xa9" in data, data)
u, t = r.cmd("SEARCH ALL")
check(any(x.startswith(b'* ESEARCH (TAG "') and x.endswith(b" ALL 1") for x in u), u)
u, t = r.cmd("UID SEARCH SUBJECT binary")
check(any(b" UID ALL " in x for x in u), u)
u, t = r.cmd("STORE 1 +FLAGS (\\Deleted)")
u, t = r.cmd("STATUS INBOX (MESSAGES DELETED)")
check(any(b"(MESSAGES 1 DELETED 1)" in x for x in u), u)
u, t = r.cmd('SELECT "%s"' % name)
check(u and u[0] == b"* OK [CLOSED] previous mailbox closed", u)
u, t = r.cmd("LOGOUT")
print("PASS")
