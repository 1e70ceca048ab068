"""STARTTLS with imaplib: offered before login, the session continues encrypted, then LOGIN.
Prints PASS."""

import imaplib
import ssl
import sys

from client import check

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

m = imaplib.IMAP4("127.0.0.1", port)
check("STARTTLS" in m.capabilities, m.capabilities)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
typ, d = m.starttls(ssl_context=ctx)
check(typ == "OK", d)
check("STARTTLS" not in m.capabilities, "STARTTLS gone after the upgrade: %r" % (m.capabilities,))
m.login(user, pw)
typ, d = m.select("INBOX")
check(typ == "OK", d)
m.logout()
print("PASS")
