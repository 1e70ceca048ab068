"""ESORT (RFC 5267), SORT=DISPLAY (RFC 5957) and WITHIN (RFC 5032) from Python's imaplib:
messages APPENDed with imaplib, then SORT with RETURN options, DISPLAYFROM and
YOUNGER/OLDER. Prints PASS."""

import imaplib
import sys
import time

from client import check

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

m = imaplib.IMAP4("127.0.0.1", port)
for cap in ("ESORT", "SORT=DISPLAY", "WITHIN"):
    check(cap in m.capabilities, m.capabilities)
m.login(user, pw)
week_ago = imaplib.Time2Internaldate(time.time() - 7 * 86400)
for sender, subject, date in [
    ("\"Zoe\" <a@x.example>", "one", None),
    ("b@x.example", "two", week_ago),
    ("\"Al\" <c@x.example>", "three", None),
]:
    msg = ("From: %s\r\nSubject: %s\r\n\r\nbody\r\n" % (sender, subject)).encode()
    typ, dat = m.append("INBOX", None, date, msg)
    check(typ == "OK", dat)
m.select("INBOX")

typ, dat = m._simple_command("SORT", "RETURN (MIN MAX COUNT ALL)", "(DISPLAYFROM)", "UTF-8", "ALL")
check(typ == "OK", dat)
typ, dat = m._untagged_response(typ, dat, "ESEARCH")
# AL, B@X.EXAMPLE, ZOE.
check(dat[-1].endswith(b"MIN 3 MAX 1 ALL 3,2,1 COUNT 3"), dat)

typ, dat = m.sort("(DISPLAYFROM)", "UTF-8", "YOUNGER", "86400")
check(typ == "OK" and dat[0] == b"3 1", dat)
typ, dat = m.search(None, "OLDER", "86400")
check(typ == "OK" and dat[0] == b"2", dat)
m.logout()
print("PASS")
