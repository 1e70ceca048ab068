"""CATENATE (RFC 4469) from Python's imaplib: a message stored with imaplib's own APPEND,
then a new one joined from new text (a LITERAL+ literal) and a URL to the first one's
text; the result is fetched back. A URL with a stale UIDVALIDITY fails with BADURL.
Prints PASS."""

import imaplib
import re
import sys

from client import check

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

m = imaplib.IMAP4("127.0.0.1", port)
check("CATENATE" in m.capabilities, m.capabilities)
m.login(user, pw)
orig = b"Subject: original\r\n\r\nThe original text.\r\n"
typ, dat = m.append("Drafts", None, None, orig)
check(typ == "OK", dat)
v, uid = re.match(rb"\[APPENDUID (\d+) (\d+)\]", dat[0]).groups()
url = b'"/Drafts;UIDVALIDITY=%s/;UID=%s/;SECTION=TEXT"' % (v, uid)
head = b"Subject: reply\r\n\r\n> "
arg = b"CATENATE (TEXT {%d+}\r\n%s URL %s)" % (len(head), head, url)
typ, dat = m._simple_command("APPEND", "Drafts", arg)
check(typ == "OK", (typ, dat))
new = re.match(rb"\[APPENDUID \d+ (\d+)\]", dat[0]).group(1)

m.select("Drafts", readonly=True)
typ, dat = m.uid("FETCH", new, "(BODY.PEEK[])")
check(typ == "OK", dat)
check(dat[0][1] == head + b"The original text.\r\n", dat)

stale = b'"/Drafts;UIDVALIDITY=%d/;UID=%s"' % (int(v) + 1, uid)
typ, dat = m._simple_command("APPEND", "Drafts", b"CATENATE (URL %s)" % stale)
check(typ == "NO" and dat[0].startswith(b"[BADURL /Drafts;"), (typ, dat))
typ, dat = m.status("Drafts", "(MESSAGES)")
check(b"MESSAGES 2" in dat[0], dat)
m.logout()
print("PASS")
