"""No password in clear: on a listener whose client is not allowed to sign in without TLS,
CAPABILITY shows LOGINDISABLED and no AUTH= mechanism, LOGIN and AUTHENTICATE PLAIN are
answered NO [PRIVACYREQUIRED], and after STARTTLS the same credentials work (RFC 9051 §6.2.3,
RFC 3501 §6.2.3). Prints PASS."""

import base64
import imaplib
import ssl
import sys

from client import check

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]

m = imaplib.IMAP4("127.0.0.1", port)
caps = m.capabilities
check("LOGINDISABLED" in caps, caps)
check("STARTTLS" in caps, caps)
check(not any(c.startswith("AUTH=") for c in caps), caps)
typ, d = m.capability()
check(typ == "OK" and b"LOGINDISABLED" in d[0] and b"AUTH=" not in d[0], d)

try:
    m.login(user, pw)
    check(False, "LOGIN in clear was accepted")
except imaplib.IMAP4.error as e:
    check("PRIVACYREQUIRED" in str(e), e)

plain = base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()
typ, d = m._simple_command("AUTHENTICATE", "PLAIN", plain)
check(typ == "NO" and b"PRIVACYREQUIRED" in d[0], (typ, d))
# Without an initial response the server refuses before asking for the password.
tag = m._new_tag()
m.send(tag + b" AUTHENTICATE PLAIN\r\n")
line = m.readline()
check(line.startswith(tag + b" NO [PRIVACYREQUIRED]"), line)

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
typ, d = m.starttls(ssl_context=ctx)
check(typ == "OK", d)
caps = m.capabilities
check("LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, caps)
typ, d = m.login(user, pw)
check(typ == "OK", d)
typ, d = m.select("INBOX")
check(typ == "OK", d)
m.logout()
print("PASS")
