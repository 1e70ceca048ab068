"""Every IMAP command and extension Marque offers, driven by Python's imaplib (and a raw line
client where the exact bytes matter). Arguments: port user password quota_user quota_password.
Prints PASS at the end."""

import imaplib
import sys
import time

from client import Raw, check, login, plain, simple

port = int(sys.argv[1])
user, pw, quser, qpw = sys.argv[2:6]

MSG1 = (
    b"From: Bob Example <bob@example.org>\r\n"
    b"To: Ann <ann@c.example>\r\n"
    b"Subject: first message\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
    b"Message-ID: <1@example.org>\r\n"
    b"\r\n"
    b"Hello body one\r\n"
)
MSG2 = (
    b"From: Carol <carol@example.net>\r\n"
    b"To: ann@c.example\r\n"
    b"Subject: with attachment\r\n"
    b"Date: Tue, 1 Jan 2019 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    b"\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"part one text\r\n"
    b"--XX\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAw==\r\n"
    b"--XX--\r\n"
)
MSG3 = b"From: dave@example.com\r\nSubject: third\r\n\r\nsmall\r\n"


def raw_text(m, name, *args):
    """Runs a command; returns (status, tagged text) without imaplib raising on NO."""
    try:
        typ, dat = m._simple_command(name, *args)
    except imaplib.IMAP4.error as e:  # imaplib raises on BAD
        return "BAD", str(e).encode()
    return typ, b" ".join(d for d in dat if isinstance(d, bytes))


def fetch_bytes(data):
    """Flattens imaplib's FETCH data to bytes."""
    out = b""
    for d in data:
        if isinstance(d, tuple):
            out += d[0] + d[1]
        elif d is not None:
            out += d
    return out


# --- Greeting, capabilities, malformed input (raw) -----------------------------------------
r = Raw(port)
check(r.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1"), r.greeting)
check(b"imap.test IMAP4rev1 ready" in r.greeting, r.greeting)
u, t = r.cmd("CAPABILITY")
caps = u[0].split()
for c in [b"QUOTA", b"LITERAL+", b"SASL-IR", b"IDLE", b"UIDPLUS", b"MOVE", b"AUTH=PLAIN", b"CONDSTORE", b"ESEARCH"]:
    check(c in caps, "capability %r in %r" % (c, u))
check(t.startswith(b"r1 OK"), t)
for bad in [b"a1 BOGUS", b"a2 FETCH", b"a3 LOGIN onlyone", b"a4 NOOP extra", b"a5 UID NOOP", b"a6 LOGIN \"open"]:
    r.send(bad + b"\r\n")
    l = r.line()
    check(l.startswith(bad.split()[0] + b" BAD "), (bad, l))
r.send(b"\r\n")
check(r.line().startswith(b"* BAD"), "empty line")
u, t = r.cmd("SELECT INBOX")
check(b" BAD " in t, "SELECT before login: %r" % t)
r.send(b"x" * 70000 + b"\r\n")
check(r.line() == b"* BAD line too long", "long line")
u, t = r.cmd("NOOP")
check(b"OK" in t, "usable after a long line")
# A wrong password: NO [AUTHENTICATIONFAILED].
u, t = r.cmd('LOGIN "%s" "wrong password"' % user)
check(b"NO [AUTHENTICATIONFAILED]" in t, t)
# SASL-IR.
u, t = r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, t)
# A literal announced above APPENDLIMIT is refused before it is sent.
r.send(b"h1 APPEND INBOX {99999999999}\r\n")
l = r.line()
check(l.startswith(b"h1 NO [TOOBIG]"), l)
r.send(b"h2 SELECT {100000}\r\n")
l = r.line()
check(l.startswith(b"h2 BAD"), l)
u, t = r.cmd("NOOP")
check(b"OK" in t, "usable after refused literals")
# Synchronising literal with its continuation, then LITERAL+.
r.send(b"l1 CREATE {4}\r\n")
check(r.line().startswith(b"+ "), "continuation")
r.send(b"Sync\r\n")
u, t = r.until("l1")
check(b"OK" in t, t)
r.send(b"l2 CREATE {6+}\r\nLitPlu\r\n")
u, t = r.until("l2")
check(b"OK" in t, t)
# Nesting is bounded.
u, t = r.cmd("SELECT INBOX")
u, t = r.cmd("SEARCH " + "(" * 40 + "ALL" + ")" * 40)
check(b" BAD " in t, "deep nesting: %r" % t)
u, t = r.cmd("SEARCH NOT NOT NOT ALL")
check(t.startswith(b"r") and b"OK" in t, t)
u, t = r.cmd("LOGOUT")
check(u and u[0].startswith(b"* BYE"), u)
r.close()

# A non-synchronising literal above the limit ends the connection.
r = Raw(port)
r.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
r.send(b"big APPEND INBOX {999999999+}\r\n")
check(r.line().startswith(b"big BAD"), "non-sync literal refused")
check(r.line().startswith(b"* BYE"), "then BYE")
r.close()

# AUTHENTICATE PLAIN with a continuation (imaplib's way).
m = imaplib.IMAP4("127.0.0.1", port)
m.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + pw.encode())
m.logout()

# --- Mailboxes ---------------------------------------------------------------------------
m = login(port, user, pw)
typ, d = simple(m, "ID", "NIL")
check(typ == "OK" and b"Marque" in d[0], d)
typ, d = m.namespace()
check(typ == "OK" and b'(("" "/")) NIL NIL' in d[0], d)
typ, d = m.enable("CONDSTORE")
check(typ == "OK", d)
typ, d = m.list()
names = b"\n".join(d)
for n in [b'"INBOX"', b'"Drafts"', b'"Sent"', b'"Trash"', b'"Junk"', b'"Archive"', b'"Sync"', b'"LitPlu"']:
    check(n in names, "LIST has %r: %r" % (n, names))
check(b"\\Sent" in names and b"\\Trash" in names, names)
check(m.create("Work/Projects")[0] == "OK", "create")
typ, d = m.list('""', "Work*")
check(any(b"\\HasChildren" in x and b'"Work"' in x for x in d), d)
typ, d = m.list('""', "%")
check(not any(b"Work/Projects" in x for x in d), "%% stops at the delimiter: %r" % d)
typ, d = m.list("Work/", "%")
check(any(b'"Work/Projects"' in x for x in d), d)
typ, t = raw_text(m, "CREATE", "Stash", "(USE (\\Flagged))")
check(typ == "OK", t)
typ, d = m.list('""', "Stash")
check(b"\\Flagged" in d[0], d)
check(m.create("Work/Projects")[0] == "NO", "create twice")
check(m.rename("Work/Projects", "Work/Done")[0] == "OK", "rename")
check(m.subscribe("Work/Done")[0] == "OK", "subscribe")
typ, d = m.lsub('""', "*")
check(any(b"Work/Done" in x for x in d), d)
typ, d = simple(m, "LIST", "(SUBSCRIBED)", '""', '"*"')
check(any(b"Work/Done" in x and b"\\Subscribed" in x for x in d), d)
check(not any(b"Stash" in x for x in d), d)
check(m.unsubscribe("Work/Done")[0] == "OK", "unsubscribe")
typ, d = m.lsub('""', "*")
check(not any(b"Work/Done" in x for x in d), d)
check(m.delete("Work/Done")[0] == "OK", "delete")
check(m.delete("Work/Done")[0] == "NO", "delete twice")
check(m.delete("INBOX")[0] == "NO", "delete INBOX")
# Modified UTF-7 names.
check(m.create("&ZeVnLIqe-")[0] == "OK", "utf-7 create")
typ, d = m.list('""', "&ZeVnLIqe-")
check(len(d) == 1 and b"&ZeVnLIqe-" in d[0], d)

# --- APPEND, STATUS ------------------------------------------------------------------------
typ, d = m.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(time.time()), MSG1)
check(typ == "OK" and b"APPENDUID" in d[0], d)
uidvalidity = int(d[0].split(b"APPENDUID ")[1].split()[0])
uid1 = int(d[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]"))
check(m.append("INBOX", None, None, MSG2)[0] == "OK", "append 2")
check(m.append("INBOX", "(\\Seen $Work)", '"01-Jan-2000 00:00:00 +0000"', MSG3)[0] == "OK", "append 3")
typ, d = m.append("Nowhere", None, None, MSG3)
check(typ == "NO" and b"TRYCREATE" in d[0], d)
typ, d = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE RECENT)")
s = d[0]
check(b"MESSAGES 3" in s and b"UNSEEN 2" in s and (b"UIDVALIDITY %d" % uidvalidity) in s, s)
check((b"SIZE %d" % (len(MSG1) + len(MSG2) + len(MSG3))) in s, s)
typ, d = simple(m, "LIST", '""', '"INBOX"', "RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))")
typ, st = m._untagged_response("OK", [], "STATUS")
check(st and b"MESSAGES 3" in st[0], st)

# --- SELECT, FETCH -------------------------------------------------------------------------
typ, d = m.select("INBOX")
check(typ == "OK" and d[0] == b"3", d)
check(m.response("UIDVALIDITY")[1][0] == str(uidvalidity).encode(), "UIDVALIDITY")
check(m.response("UIDNEXT")[1][0] == str(uid1 + 3).encode(), "UIDNEXT")
check(m.response("UNSEEN")[1][0] == b"1", "first unseen")
check(m.response("HIGHESTMODSEQ")[1][0] is not None, "HIGHESTMODSEQ")
typ, d = m.fetch("1", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
f = fetch_bytes(d)
check(b"UID %d" % uid1 in f and b"\\Flagged" in f and (b"RFC822.SIZE %d" % len(MSG1)) in f, f)
check(b'"first message"' in f and b'"Bob Example" NIL "bob" "example.org"' in f, f)
typ, d = m.fetch("2", "(BODYSTRUCTURE)")
f = fetch_bytes(d)
check(b'"mixed"' in f and b'"application" "octet-stream"' in f and b'"a.bin"' in f, f)
typ, d = m.fetch("2", "(BODY)")
check(b'"mixed")' in fetch_bytes(d), d)
typ, d = m.fetch("2", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT]<0.4>)")
f = fetch_bytes(d)
check(b"BODY[1] {13}part one text" in f, f)
check(b"Content-Disposition: attachment" in f, f)
check(b"Subject: with attachment\r\n\r\n" in f, f)
check(b"BODY[TEXT]<0> {4}--XX" in f, f)
typ, d = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM)])")
f = fetch_bytes(d)
check(b"Subject" not in f and b"To: ann@c.example" in f, f)
typ, d = m.fetch("2", "(FLAGS)")
check(b"\\Seen" not in fetch_bytes(d), "PEEK leaves \\Seen alone")
typ, d = m.fetch("1", "(BODY[])")
f = fetch_bytes(d)
check(MSG1 in f and b"\\Seen" in f, f)
typ, d = m.fetch("1", "(RFC822.HEADER RFC822.TEXT)")
f = fetch_bytes(d)
check(b"Hello body one" in f and b"Message-ID: <1@example.org>" in f, f)
typ, d = m.fetch("3", "RFC822")
check(MSG3 in fetch_bytes(d), d)
for macro in ["FAST", "ALL", "FULL"]:
    typ, d = m.fetch("1:*", macro)
    check(typ == "OK" and len([x for x in d if x]) == 3, (macro, d))
typ, d = m.uid("FETCH", "1:*", "(FLAGS MODSEQ)")
check(len(d) == 3 and all(b"MODSEQ" in x for x in d), d)
modseq = max(int(x.split(b"MODSEQ (")[1].split(b")")[0]) for x in d)
typ, d = m.uid("FETCH", "%d:*" % (uid1 + 5), "(FLAGS)")
check(len(d) == 1 and (b"UID %d" % (uid1 + 2)) in d[0], "UID range past the end: %r" % d)
typ, d = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % (modseq - 1))
check(typ == "OK" and len([x for x in d if x]) >= 1, d)
typ, t = raw_text(m, "FETCH", "9", "FLAGS")
check(typ == "BAD", "FETCH of a message that does not exist: %r" % t)

# --- STORE ---------------------------------------------------------------------------------
typ, d = m.store("1", "+FLAGS", "(\\Answered)")
check(b"\\Answered" in d[0], d)
typ, d = m.store("1", "-FLAGS.SILENT", "(\\Answered)")
check(d == [None] or d == [], "silent store: %r" % d)
typ, d = m.uid("STORE", str(uid1 + 1), "FLAGS", "($Label1 \\Draft)")
check(b"$Label1" in d[0] and b"UID" in d[0], d)
typ, t = raw_text(m, "STORE", "1", "(UNCHANGEDSINCE 1)", "+FLAGS", "(\\Draft)")
check(typ == "OK" and b"[MODIFIED 1]" in t, t)

# --- SEARCH --------------------------------------------------------------------------------
def search(*crit):
    typ, d = m.search(None, *crit)
    check(typ == "OK", (crit, d))
    return d[0].split()

check(search("ALL") == [b"1", b"2", b"3"], "ALL")
check(search("FROM", '"bob"') == [b"1"], "FROM")
check(search("TO", "ann@c.example") == [b"1", b"2"], "TO")
check(search("SUBJECT", '"attachment"') == [b"2"], "SUBJECT")
check(search("BODY", '"body one"') == [b"1"], "BODY")
check(search("TEXT", '"dave@"') == [b"3"], "TEXT")
check(search("HEADER", "Message-ID", '"<1@"') == [b"1"], "HEADER")
check(search("LARGER", str(len(MSG2) - 1)) == [b"2"], "LARGER")
check(search("SMALLER", str(len(MSG3) + 1)) == [b"3"], "SMALLER")
check(search("BEFORE", "1-Jan-2001") == [b"3"], "BEFORE")
check(search("ON", "1-Jan-2000") == [b"3"], "ON")
check(search("SINCE", "1-Jan-2001") == [b"1", b"2"], "SINCE")
check(search("SENTBEFORE", "1-Jan-2000") == [b"1"], "SENTBEFORE")
check(search("SENTSINCE", "1-Jan-2019") == [b"2"], "SENTSINCE")
check(search("SENTON", "1-Jan-2019") == [b"2"], "SENTON")
check(search("UNSEEN") == [b"2"], "UNSEEN")
check(search("OR", "FLAGGED", "DRAFT") == [b"1", b"2"], "OR")
check(search("NOT", "SEEN") == [b"2"], "NOT")
check(search("KEYWORD", "$Work") == [b"3"], "KEYWORD")
check(search("UNKEYWORD", "$Work") == [b"1", b"2"], "UNKEYWORD")
check(search("2:3", "UNDELETED") == [b"2", b"3"], "sequence set")
check(search("UID", "%d" % uid1) == [b"1"], "UID")
# This session is the first to select INBOX: its messages are recent here (RFC 3501 §2.3.2).
check(search("RECENT") == [b"1", b"2", b"3"], "RECENT")
check(search("NEW") == [b"2"], "NEW")
check(search("OLD") == [], "OLD")
check(search("CHARSET", "UTF-8", "ALL") == [b"1", b"2", b"3"], "CHARSET")
typ, d = m.search(None, "MODSEQ", "1")
check(typ == "OK" and b"(MODSEQ" in d[0], d)
typ, d = m.uid("SEARCH", "ALL")
check(d[0].split() == [str(uid1 + i).encode() for i in range(3)], d)
typ, d = simple(m, "SEARCH", "RETURN (MIN MAX COUNT ALL)", "ALL")
typ, e = m._untagged_response("OK", [], "ESEARCH")
check(e and b"MIN 1 MAX 3 ALL 1:3 COUNT 3" in e[0], e)
typ, t = raw_text(m, "SEARCH", "CHARSET", "KOI8-R", "ALL")
check(typ in ("NO", "BAD"), t)

# --- A header section too large to be kept with the metadata: served from the body -------
BIG = (b"From: big@example.org\r\nSubject: big header\r\nX-Pad: " + b"p" * 70000 +
       b"\r\nX-Tail: found-me\r\n\r\nbig body\r\n")
check(m.create("Big")[0] == "OK", "create Big")
check(m.append("Big", None, None, BIG)[0] == "OK", "append big header")
m.select("Big")
typ, d = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (X-TAIL SUBJECT)] RFC822.HEADER)")
f = fetch_bytes(d)
check(b"Subject: big header\r\nX-Tail: found-me\r\n\r\n" in f, f[:200])
check(BIG[:BIG.index(b"big body")] in f, "RFC822.HEADER of a large header")
check(search("HEADER", "X-Tail", "found-me") == [b"1"], "HEADER search past the kept bound")
check(search("UNFLAGGED", "SUBJECT", "big") == [b"1"], "flag and subject")
check(search("FLAGGED", "SUBJECT", "big") == [], "flag and subject, none")
m.store("1", "+FLAGS.SILENT", "(\\Seen)")
m.select("Big")
check(m.response("UNSEEN")[1] == [None], "no UNSEEN when every message is seen")
check(m.append("Big", None, None, MSG2)[0] == "OK", "append unseen")
m.select("Big")
check(m.response("UNSEEN")[1][0] == b"2", "first unseen after a seen one")
m.select("INBOX")

# --- COPY, MOVE, EXPUNGE -------------------------------------------------------------------
typ, d = m.copy("1:2", "Archive")
check(typ == "OK" and b"COPYUID" in d[0], d)
typ, d = m.status("Archive", "(MESSAGES)")
check(b"MESSAGES 2" in d[0], d)
typ, t = raw_text(m, "COPY", "1", "Nowhere")
check(typ == "NO" and b"TRYCREATE" in t, t)
typ, d = m.uid("MOVE", str(uid1 + 2), "Trash")
check(typ == "OK", d)
exp = m.response("EXPUNGE")[1]
check(exp == [b"3"], "MOVE expunges: %r" % exp)
typ, d = m.status("Trash", "(MESSAGES)")
check(b"MESSAGES 1" in d[0], d)
m.store("1", "+FLAGS.SILENT", "(\\Deleted)")
typ, d = m.expunge()
check(d == [b"1"], "EXPUNGE: %r" % d)
check(m.append("INBOX", "(\\Deleted)", None, MSG3)[0] == "OK", "append deleted")
typ, d = m.noop()
typ, d = m.uid("SEARCH", "DELETED")
deleted_uid = d[0].split()[-1].decode()
typ, d = m.uid("EXPUNGE", deleted_uid)
check(typ == "OK" and m.response("EXPUNGE")[1] == [b"2"], "UID EXPUNGE: %r" % d)
check(m.check()[0] == "OK", "CHECK")
check(m.close()[0] == "OK", "CLOSE")
typ, d = m.select("INBOX", readonly=True)
check(typ == "OK" and d == [b"1"], d)
typ, t = raw_text(m, "STORE", "1", "+FLAGS", "(\\Deleted)")
check(typ == "NO", "store in EXAMINE: %r" % t)
check(m.unselect()[0] == "OK", "UNSELECT")
typ, t = raw_text(m, "FETCH", "1", "FLAGS")
check(typ == "BAD", "FETCH without a selected mailbox")
m.logout()

# --- Two sessions --------------------------------------------------------------------------
a = login(port, user, pw)
b = login(port, user, pw)
a.select("INBOX")
b.select("INBOX")
check(b.append("INBOX", None, None, MSG1)[0] == "OK", "b appends")
a.noop()
check(a.response("EXISTS")[1][-1] == b"2", "a sees b's APPEND")
b.noop()
b.store("1", "+FLAGS", "(\\Flagged)")
a.noop()
f = a.response("FETCH")[1]
check(f and b"\\Flagged" in f[0], "a sees b's flag change: %r" % f)
b.store("1", "+FLAGS", "(\\Deleted)")
b.expunge()
a.noop()
check(a.response("EXPUNGE")[1] == [b"1"], "a sees b's EXPUNGE")
# An expunge met during FETCH by number waits for a command that may announce it, even when
# an append and a flag change come after it.
check(b.append("INBOX", None, None, MSG2)[0] == "OK", "b appends again")
b.noop()
b.store("1", "+FLAGS.SILENT", "(\\Deleted)")
b.expunge()
check(b.append("INBOX", None, None, MSG3)[0] == "OK", "b appends a third")
b.noop()
b.store("1", "+FLAGS", "(\\Answered)")
typ, d = a.fetch("1", "(FLAGS)")
check(typ == "OK" and a.response("EXPUNGE")[1] == [None], "no EXPUNGE during FETCH: %r" % d)
a.noop()
check(a.response("EXPUNGE")[1] == [b"1"], "the held-back EXPUNGE follows")
typ, d = a.search(None, "ALL")
check(d[0].split() == [b"1", b"2"], "a's view after the updates: %r" % d)
typ, d = a.fetch("1:*", "(UID FLAGS)")
check(len(d) == 2 and b"\\Answered" in d[0], d)
a.logout()
b.logout()

# --- Quota ---------------------------------------------------------------------------------
q = login(port, quser, qpw)
big = b"Subject: big\r\n\r\n" + (b"x" * 1000 + b"\r\n") * 1500
typ, d = q.append("INBOX", None, None, big)
check(typ == "NO" and b"[OVERQUOTA]" in d[0], d)
typ, d = q.status("INBOX", "(MESSAGES)")
check(b"MESSAGES 0" in d[0], d)
check(q.append("INBOX", None, None, MSG3)[0] == "OK", "a small one fits")
typ, d = q.getquotaroot("INBOX")
check(typ == "OK" and b'"mailbox"' in d[0][0], d)
check(any(b'"mailbox" (STORAGE 0 1024)' in x for x in d[1]), d)
typ, d = q.getquota('"mailbox"')
check(typ == "OK" and b"STORAGE 0 1024" in d[0], d)
q.logout()

# --- Sessions per user ---------------------------------------------------------------------
held = []
for i in range(20):
    c = Raw(port)
    u, t = c.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
    check(b"OK" in t, (i, t))
    held.append(c)
extra = Raw(port)
u, t = extra.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"NO [LIMIT]" in t, "the 21st session is refused: %r" % t)
u, t = held.pop().cmd("LOGOUT")
check(b"OK" in t, t)
u, t = extra.cmd("AUTHENTICATE PLAIN " + plain(user, pw))
check(b"OK" in t, "admitted once another left: %r" % t)
for c in held + [extra]:
    c.close()

print("PASS")
