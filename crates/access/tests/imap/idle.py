"""IDLE woken by deliveries: prints IDLING, waits for the test to deliver (a line on stdin),
expects the EXISTS (and RECENT) in the IDLE stream; twice, then DONE. A second session, selected but not
idling, sees the new messages at its next NOOP. Prints PASS."""

import sys

from client import Raw, check, login, plain

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

watcher = login(port, user, pw)
watcher.select("INBOX")

r = Raw(port)
u, t = r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, t)
u, t = r.cmd("SELECT INBOX")
check(b"* 0 EXISTS" in u, u)
r.send(b"i1 IDLE\r\n")
check(r.line().startswith(b"+ "), "IDLE continuation")
for n in (1, 2):
    print("IDLING", flush=True)
    check(sys.stdin.readline().strip() == "delivered", "the test delivered")
    line = r.line()
    check(line == b"* %d EXISTS" % n, "EXISTS during IDLE: %r" % line)
    # RFC 3501 §7.3.2: the idling session noticed the delivery first; it is recent here.
    line = r.line()
    check(line == b"* %d RECENT" % n, "RECENT during IDLE: %r" % line)
r.send(b"DONE\r\n")
u, t = r.until("i1")
check(t.startswith(b"i1 OK"), t)
u, t = r.cmd("FETCH 2 (BODY.PEEK[TEXT])")
check(any(b"FETCH" in x for x in u) and b"wake up" in r.buf + b"".join(u), u)
r.cmd("LOGOUT")

watcher.noop()
check(watcher.response("EXISTS")[1][-1] == b"2", "the other session sees both deliveries")
watcher.logout()
print("PASS", flush=True)
