"""SEARCHRES (RFC 5182) through imaplib: SEARCH RETURN (SAVE) and `$` in FETCH, UID FETCH,
STORE, SEARCH, UID SEARCH, COPY and MOVE; SAVE with MIN/MAX; expunged messages leave `$`;
a failed SEARCH with SAVE and a new SELECT empty it. Prints PASS."""

import imaplib

from client import args, check, login

port, user, pw = args()
m = login(port, user, pw)
check("SEARCHRES" in m.capabilities, m.capabilities)
m.create("Archive")
for i in range(1, 7):
    typ, _ = m.append("INBOX", None, None, b"Subject: m%d\r\n\r\nbody %d\r\n" % (i, i))
    check(typ == "OK", "APPEND %d" % i)
m.select("INBOX")
typ, _ = m.store("2,4,5", "+FLAGS", "(\\Flagged)")
check(typ == "OK", "STORE")


def numbers(data):
    """Message numbers of FETCH answers."""
    out = []
    for d in data:
        if d is None:
            continue
        line = d[0] if isinstance(d, tuple) else d
        out.append(int(line.split(b" ")[0]))
    return out


def esearch():
    return m.untagged_responses.pop("ESEARCH", None)


# RETURN (SAVE) alone: saved, no ESEARCH and no SEARCH answer (RFC 5182 §2.4).
m.untagged_responses.clear()
typ, dat = m.search(None, "RETURN", "(SAVE)", "FLAGGED")
check(typ == "OK", (typ, dat))
check(esearch() is None and dat == [None], ("SAVE alone answers nothing", dat))

typ, dat = m.fetch("$", "(UID)")
check(typ == "OK" and numbers(dat) == [2, 4, 5], ("FETCH $", dat))
typ, dat = m.uid("FETCH", "$", "(FLAGS)")
check(typ == "OK" and len(dat) == 3 and all(b"\\Flagged" in d for d in dat), ("UID FETCH $", dat))

# STORE $, then SEARCH and UID SEARCH on $.
typ, dat = m.store("$", "+FLAGS", "(\\Seen)")
check(typ == "OK" and numbers(dat) == [2, 4, 5], ("STORE $", dat))
typ, dat = m.search(None, "SEEN")
check(dat == [b"2 4 5"], ("SEEN after STORE $", dat))
typ, dat = m.search(None, "$", "NOT", "4")
check(dat == [b"2 5"], ("SEARCH $ NOT 4", dat))
typ, dat = m.uid("SEARCH", "UID", "$")
check(dat == [b"2 4 5"], ("UID SEARCH UID $", dat))

# COPY $ keeps the messages; the saved result is unchanged by COPY.
typ, dat = m.copy("$", "Archive")
check(typ == "OK", ("COPY $", dat))
typ, dat = m.status("Archive", "(MESSAGES)")
check(b"MESSAGES 3" in dat[0], ("Archive after COPY $", dat))

# SAVE with MIN and MAX keeps only those two (RFC 5182 §2.4), and still answers ESEARCH.
m.untagged_responses.clear()
typ, dat = m.search(None, "RETURN", "(MIN MAX SAVE)", "FLAGGED")
found = esearch()
check(typ == "OK" and found and b"MIN 2 MAX 5" in found[0], ("MIN MAX SAVE", found))
typ, dat = m.fetch("$", "(UID)")
check(numbers(dat) == [2, 5], ("FETCH $ after MIN MAX SAVE", dat))

# SAVE with ALL answers and saves everything found; UID SEARCH saves the same messages.
m.untagged_responses.clear()
typ, dat = m.uid("SEARCH", "RETURN", "(ALL SAVE)", "FLAGGED")
found = esearch()
check(found and b"UID ALL 2,4:5" in found[0], ("UID ALL SAVE", found))

# An expunged message leaves $; the rest are renumbered.
m.store("4", "+FLAGS", "(\\Deleted)")
m.expunge()
typ, dat = m.fetch("$", "(UID)")
check(numbers(dat) == [2, 4] and b"UID 5" in dat[1], ("$ after EXPUNGE", dat))

# MOVE $ takes the remaining saved messages away.
typ, dat = m._simple_command("MOVE", "$", "Archive")
check(typ == "OK", ("MOVE $", dat))
typ, dat = m.search(None, "ALL")
check(dat == [b"1 2 3"], ("INBOX after MOVE $", dat))
typ, dat = m.status("Archive", "(MESSAGES)")
check(b"MESSAGES 5" in dat[0], ("Archive after MOVE $", dat))

# A failed SEARCH with SAVE empties $ (RFC 5182 §2.1).
m.search(None, "RETURN", "(SAVE)", "ALL")
typ, dat = m.fetch("$", "(UID)")
check(numbers(dat) == [1, 2, 3], ("$ before a failed SEARCH", dat))
try:
    m.search(None, "RETURN", "(SAVE)", "BOGUS")
    check(False, "SEARCH with an unknown key must fail")
except imaplib.IMAP4.error:
    pass
typ, dat = m.fetch("$", "(UID)")
check(typ == "OK" and numbers(dat) == [], ("$ after a failed SEARCH", dat))

# SELECT starts with an empty $; `$` in an empty or fresh result is not an error.
m.search(None, "RETURN", "(SAVE)", "ALL")
m.select("INBOX")
typ, dat = m.fetch("$", "(UID)")
check(typ == "OK" and numbers(dat) == [], ("$ after SELECT", dat))
typ, dat = m.search(None, "$")
check(typ == "OK" and dat == [b""], ("SEARCH $ after SELECT", dat))

# `$` is not combined with other numbers.
try:
    m.fetch("$,1", "(UID)")
    check(False, "$,1 must be refused")
except imaplib.IMAP4.error:
    pass
m.logout()
print("PASS")
