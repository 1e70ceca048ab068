"""A delivery command for fetchmail and getmail: writes the message on stdin into DIR as
NNN.eml (numbered in arrival order)."""

import os
import sys

out = sys.argv[1]
n = len([f for f in os.listdir(out) if f.endswith(".eml")]) + 1
data = sys.stdin.buffer.read()
tmp = os.path.join(out, f"{n:03}.tmp")
with open(tmp, "wb") as f:
    f.write(data)
os.rename(tmp, os.path.join(out, f"{n:03}.eml"))
