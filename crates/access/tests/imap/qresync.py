"""QRESYNC (RFC 7162 §3.2): VANISHED instead of EXPUNGE once enabled, SELECT with what the
client knew (VANISHED (EARLIER) and the changed flags), UID FETCH with CHANGEDSINCE and
VANISHED; refused without ENABLE. Prints PASS."""

import sys

from client import Raw, check, plain

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

r = Raw(port)
u, t = r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, t)
u, t = r.cmd("SELECT INBOX (QRESYNC (1 1))")
check(b" BAD " in t, "QRESYNC before ENABLE: %r" % t)
u, t = r.cmd("ENABLE QRESYNC")
check(u == [b"* ENABLED QRESYNC"], u)
for i in range(3):
    body = b"Subject: q%d\r\n\r\nx\r\n" % i
    r.send(b"a%d APPEND INBOX {%d+}\r\n" % (i, len(body)) + body + b"\r\n")
    u, t = r.until("a%d" % i)
    check(b"OK" in t, t)

u, t = r.cmd("SELECT INBOX")
uidvalidity = int([x for x in u if b"UIDVALIDITY" in x][0].split(b"UIDVALIDITY ")[1].split(b"]")[0])
modseq = int([x for x in u if b"HIGHESTMODSEQ" in x][0].split(b"HIGHESTMODSEQ ")[1].split(b"]")[0])

u, t = r.cmd("UID STORE 1 +FLAGS (\\Flagged)")
check(any(b"MODSEQ" in x for x in u), u)
u, t = r.cmd("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
u, t = r.cmd("EXPUNGE")
check(u == [b"* VANISHED 2"], "VANISHED, not EXPUNGE: %r" % u)

u, t = r.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, modseq))
check(u[0] == b"* OK [CLOSED] previous mailbox closed", u)
check(b"* VANISHED (EARLIER) 2" in u, u)
flagged = [x for x in u if b"FETCH" in x]
check(len(flagged) == 1 and b"UID 1 " in flagged[0] and b"\\Flagged" in flagged[0], u)

u, t = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
check(u[0] == b"* VANISHED (EARLIER) 2", u)
check(len(u) == 2 and b"UID 1 " in u[1], u)

# A stale UIDVALIDITY: a plain SELECT answer, no VANISHED.
u, t = r.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity + 1, modseq))
check(not any(b"VANISHED" in x for x in u), u)
r.cmd("LOGOUT")

# Without ENABLE QRESYNC, VANISHED in FETCH is refused.
r = Raw(port)
r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
r.cmd("SELECT INBOX")
u, t = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
check(b" BAD " in t, t)
r.cmd("LOGOUT")
print("PASS")
