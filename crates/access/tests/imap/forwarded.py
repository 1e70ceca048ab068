"""A forwarded message opened part by part with Python's imaplib, the way a mail client does
after reading BODYSTRUCTURE, each part checked against Python's own MIME parser (the email
package) reading the same message.

Usage: forwarded.py PORT USER PASSWORD
"""

import email
import email.policy
import imaplib
import re
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]

INNER = (
    b"From: Carl <carl@example.org>\r\n"
    b"To: Ann <ann@example.com>\r\n"
    b"Subject: the original\r\n"
    b"Date: Sun, 6 Dec 2026 09:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"in\"\r\n"
    b"\r\n"
    b"--in\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Voil=C3=A0, the minutes =\r\n"
    b"of Tuesday.\r\n"
    b"--in\r\n"
    b"Content-Type: application/pdf; name=\"minutes.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"minutes.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IKJSVFT0YK\r\n"
    b"--in--\r\n"
)

OUTER = (
    b"From: Ann <ann@example.com>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Fwd: the original\r\n"
    b"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"out\"\r\n"
    b"\r\n"
    b"--out\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Forwarding the minutes.\r\n"
    b"--out\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n" + INNER + b"\r\n--out--\r\n"
)


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def fetch(m, item):
    typ, data = m.fetch("1", "(" + item + ")")
    check(typ == "OK", f"FETCH {item}: {typ} {data}")
    return data


def section(m, name):
    data = fetch(m, f"BODY.PEEK[{name}]")
    check(isinstance(data[0], tuple), f"BODY[{name}] is a literal: {data}")
    return data[0][1]


def binary(m, name):
    data = fetch(m, f"BINARY.PEEK[{name}]")
    check(isinstance(data[0], tuple), f"BINARY[{name}] is a literal: {data}")
    return data[0][1]


m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, password)
typ, _ = m.append("INBOX", None, None, OUTER)
check(typ == "OK", "APPEND")
m.select("INBOX")

# What the client learns from BODYSTRUCTURE: part 2 is a message, with its envelope.
structure = fetch(m, "BODYSTRUCTURE")[0]
structure = structure if isinstance(structure, bytes) else structure[0]
check(b'("message" "rfc822"' in structure, f"part 2 is a message: {structure}")
check(b'"the original"' in structure, f"the enclosed envelope: {structure}")
check(b'"application" "pdf"' in structure, f"the enclosed attachment: {structure}")

# Python's reading of the same message.
outer = email.message_from_bytes(OUTER, policy=email.policy.compat32)
forwarded = outer.get_payload(1).get_payload(0)
text, pdf = forwarded.get_payload()

check(section(m, "1") == b"Forwarding the minutes.", "BODY[1]")
header, _, body = INNER.partition(b"\r\n\r\n")
check(section(m, "2.HEADER") == header + b"\r\n\r\n", "BODY[2.HEADER]")
check(section(m, "2.TEXT") == body, "BODY[2.TEXT]")
check(section(m, "2") == INNER, "BODY[2]")
fields = section(m, "2.HEADER.FIELDS (SUBJECT)")
check(fields == b"Subject: the original\r\n\r\n", f"BODY[2.HEADER.FIELDS]: {fields!r}")
mime = section(m, "2.1.MIME")
check(b"quoted-printable" in mime and mime.endswith(b"\r\n\r\n"), f"BODY[2.1.MIME]: {mime!r}")
# The parts decoded by the server (BINARY) are what Python decodes.
check(binary(m, "2.1") == text.get_payload(decode=True), "BINARY[2.1]")
check(binary(m, "2.2") == pdf.get_payload(decode=True), "BINARY[2.2]")
size = fetch(m, "BINARY.SIZE[2.2]")[0]
check(
    re.search(rb"BINARY\.SIZE\[2\.2\] (\d+)", size).group(1)
    == str(len(pdf.get_payload(decode=True))).encode(),
    f"BINARY.SIZE[2.2]: {size}",
)
# And the raw part matches Python's split of the message.
check(section(m, "2.2").replace(b"\r\n", b"") == pdf.get_payload().replace("\n", "").encode(), "BODY[2.2]")

m.logout()
print("PASS")
