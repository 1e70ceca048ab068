"""MULTIAPPEND (RFC 3502) from Python's imaplib: three messages in one APPEND, the first two
as LITERAL+ literals inside the arguments and the last as imaplib's own synchronising literal
(it waits for the continuation). Prints PASS."""

import imaplib
import re
import sys

from client import check

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

m = imaplib.IMAP4("127.0.0.1", port)
check("MULTIAPPEND" in m.capabilities, m.capabilities)
m.login(user, pw)
msgs = [b"Subject: m%d\r\n\r\nbody %d\r\n" % (i, i) for i in range(3)]
first = b"(\\Seen) {%d+}\r\n%s (\\Flagged) {%d+}\r\n%s ($Label1)" % (
    len(msgs[0]), msgs[0], len(msgs[1]), msgs[1])
m.literal = msgs[2]
typ, dat = m._simple_command("APPEND", "INBOX", first)
check(typ == "OK", (typ, dat))
code = re.match(rb"\[APPENDUID (\d+) (\S+)\]", dat[0])
check(code and code.group(2) == b"1:3", dat)

m.select("INBOX")
typ, dat = m.fetch("1:3", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(typ == "OK", dat)
text = b"".join(x if isinstance(x, bytes) else b"".join(x) for x in dat)
for i in range(3):
    check(b"Subject: m%d" % i in text, text)
flags = dict(re.findall(rb"(\d) \(FLAGS \(([^)]*)\)", text))
# Each message has its own flags (and \Recent in this first session to see them).
check(flags[b"1"].split() == [b"\\Seen", b"\\Recent"], flags)
check(flags[b"2"].split() == [b"\\Flagged", b"\\Recent"], flags)
check(flags[b"3"].split() == [b"$Label1", b"\\Recent"], flags)

# A zero-length literal cancels the command: nothing more is appended.
m.literal = b""
typ, dat = m._simple_command("APPEND", "INBOX", b"{5+}\r\nHello")
check(typ == "NO", (typ, dat))
typ, dat = m.status("INBOX", "(MESSAGES)")
check(b"MESSAGES 3" in dat[0], dat)
m.logout()
print("PASS")
