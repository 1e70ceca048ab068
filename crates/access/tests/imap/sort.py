"""SORT and THREAD (RFC 5256) over four messages with known subjects, senders, dates and
references. Prints PASS."""

import sys

from client import Raw, check, plain

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

MSGS = [
    b"From: carol@x.example\r\nSubject: beta\r\nDate: Fri, 3 Jan 2020 10:00:00 +0000\r\n"
    b"Message-ID: <a@x>\r\n\r\n" + b"long body " * 50 + b"\r\n",
    b"From: alice@x.example\r\nSubject: Re: alpha\r\nDate: Thu, 2 Jan 2020 10:00:00 +0000\r\n"
    b"Message-ID: <b@x>\r\nIn-Reply-To: <c@x>\r\n\r\nshort\r\n",
    b"From: bob@x.example\r\nSubject: alpha\r\nDate: Wed, 1 Jan 2020 10:00:00 +0000\r\n"
    b"Message-ID: <c@x>\r\n\r\nshort\r\n",
    b"From: dave@x.example\r\nSubject: Re: beta\r\nDate: Sat, 4 Jan 2020 10:00:00 +0000\r\n"
    b"Message-ID: <d@x>\r\nReferences: <a@x>\r\n\r\nshort\r\n",
]

r = Raw(port)
check(b"SORT" in r.greeting and b"THREAD=REFERENCES" in r.greeting, r.greeting)
r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
for i, m in enumerate(MSGS):
    r.send(b"a%d APPEND INBOX {%d+}\r\n" % (i, len(m)) + m + b"\r\n")
    u, t = r.until("a%d" % i)
    check(b"OK" in t, t)
r.cmd("SELECT INBOX")


def one(cmd, name):
    u, t = r.cmd(cmd)
    check(b"OK" in t, (cmd, t))
    lines = [x for x in u if x.startswith(b"* " + name)]
    check(len(lines) == 1, (cmd, u))
    return lines[0][len(name) + 2:].strip()


check(one("SORT (SUBJECT) UTF-8 ALL", b"SORT") == b"2 3 1 4", "SORT SUBJECT")
check(one("SORT (REVERSE DATE) UTF-8 ALL", b"SORT") == b"4 1 2 3", "SORT REVERSE DATE")
check(one("SORT (FROM) US-ASCII ALL", b"SORT") == b"2 3 1 4", "SORT FROM")
check(one("SORT (SIZE ARRIVAL) UTF-8 NOT FROM carol", b"SORT") == b"3 4 2", "SORT SIZE with a search")
check(one("UID SORT (REVERSE SIZE) UTF-8 ALL", b"SORT").split()[0] == b"1", "UID SORT")
check(one("THREAD ORDEREDSUBJECT UTF-8 ALL", b"THREAD") == b"(3 2)(1 4)", "THREAD ORDEREDSUBJECT")
check(one("THREAD REFERENCES UTF-8 ALL", b"THREAD") == b"(3 2)(1 4)", "THREAD REFERENCES")
# RFC 5256 §2.2 over the wire: a missing parent kept as a dummy, a reply without references
# grouped by subject, a truncated References chain, and the sent date deciding the order.
THREADS = [
    (b"gone", b"Subject: report\r\nMessage-ID: <r1@x>\r\nReferences: <gone@x>\r\n"
     b"Date: Mon, 6 Jan 2020 10:00:00 +0000\r\n"),
    (b"gone", b"Subject: Re: report\r\nMessage-ID: <r2@x>\r\nIn-Reply-To: <gone@x>\r\n"
     b"Date: Tue, 7 Jan 2020 10:00:00 +0000\r\n"),
    (b"plan", b"Subject: plan\r\nMessage-ID: <p1@x>\r\nDate: Sun, 5 Jan 2020 10:00:00 +0000\r\n"),
    (b"plan", b"Subject: Re: plan\r\nMessage-ID: <p3@x>\r\nReferences: <p1@x> <p2@x>\r\n"
     b"Date: Thu, 9 Jan 2020 10:00:00 +0000\r\n"),
    (b"plan", b"Subject: Re: plan\r\nMessage-ID: <p2@x>\r\nReferences: <p1@x>\r\n"
     b"Date: Wed, 8 Jan 2020 10:00:00 +0000\r\n"),
    (b"late", b"Subject: RE: Report\r\nMessage-ID: <r3@x>\r\n"
     b"Date: Fri, 10 Jan 2020 10:00:00 +0000\r\n"),
]
u, t = r.cmd("CREATE Threads")
for i, (_, head) in enumerate(THREADS):
    m = head + b"\r\nbody\r\n"
    r.send(b"t%d APPEND Threads {%d+}\r\n" % (i, len(m)) + m + b"\r\n")
    u, t = r.until("t%d" % i)
    check(b"OK" in t, t)
r.cmd("SELECT Threads")
check(one("THREAD REFERENCES UTF-8 ALL", b"THREAD") == b"(3 5 4)((1)(2)(6))", "REFERENCES vector")
check(one("THREAD ORDEREDSUBJECT UTF-8 ALL", b"THREAD") == b"(3 (5)(4))(1 (2)(6))", "ORDEREDSUBJECT vector")
check(one("THREAD REFERENCES UTF-8 NOT SUBJECT report", b"THREAD") == b"(3 5 4)", "REFERENCES with a search")
check(one("UID THREAD REFERENCES UTF-8 SUBJECT plan", b"THREAD") == b"(3 5 4)", "UID THREAD")

u, t = r.cmd("SORT (BOGUS) UTF-8 ALL")
check(b" BAD " in t, t)
r.cmd("LOGOUT")
print("PASS")
