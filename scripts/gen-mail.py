#!/usr/bin/env python3
"""Bulk-create N messages (adapted from the shared Dovecot recipe for scripts/bench) directly in a Dovecot Maildir (fast: ~no Dovecot involvement).

usage: gen-mail.py MAILDIR N [--unseen K] [--spread] [--clear] [--size BYTES]
  MAILDIR  e.g. DIR/mail/alice/Maildir (cur/new/tmp are created; DIR/.Folder for a folder)
  N        number of messages; the LAST K (highest UIDs) are unseen, the rest carry \\Seen;
           with --spread the K unseen are spread evenly over the folder instead
Files go to cur/ named  <time>.M<i>P<pid>.testgen,S=<size>,W=<crlf-size>:2,<flags>
(S= and W= let Dovecot answer sizes / POP3 STAT without reading the files).
Ownership of new files = owner of MAILDIR (Dovecot's mail uid). Run the first
`doveadm -c CONF mailbox status -u USER messages INBOX` afterwards to build the index.
"""
import os, sys, time, argparse, shutil

ap = argparse.ArgumentParser()
ap.add_argument("maildir"); ap.add_argument("n", type=int)
ap.add_argument("--unseen", type=int, default=None, help="default: 1%% of N, at least 1")
ap.add_argument("--spread", action="store_true", help="spread the unseen messages evenly instead of the last K")
ap.add_argument("--clear", action="store_true", help="delete existing messages and Dovecot index files first")
ap.add_argument("--size", type=int, default=1500, help="approx. message size in bytes")
a = ap.parse_args()
unseen = a.unseen if a.unseen is not None else max(1, a.n // 100)
md = a.maildir.rstrip("/")
parent_st = os.stat(os.path.dirname(md))
if a.clear and os.path.isdir(md):
    shutil.rmtree(md)
for sub in ("", "/cur", "/new", "/tmp"):
    if not os.path.isdir(md + sub):
        os.mkdir(md + sub, 0o700)
        os.chown(md + sub, parent_st.st_uid, parent_st.st_gid)
uid, gid = os.stat(md).st_uid, os.stat(md).st_gid
base = int(time.time()) - a.n  # one "arrival second" per message, oldest first
pid = os.getpid()
filler = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n" * 64)
for i in range(a.n):
    ts = base + i
    if a.spread:  # exactly `unseen` of them, evenly spaced, the last one unseen
        seen = (i + 1) * unseen // a.n == i * unseen // a.n
    else:
        seen = i < a.n - unseen
    body = filler[: max(0, a.size - 400)]
    msg = (f"Return-Path: <sender{i % 97}@example.org>\n"
           f"From: Sender {i % 97} <sender{i % 97}@example.org>\n"
           f"To: user@example.org\n"
           f"Subject: Test message {i + 1} of {a.n}\n"
           f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(ts))}\n"
           f"Message-ID: <gen-{ts}-{i}@example.org>\n"
           f"MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
           f"Message {i + 1}.\n{body}").encode()
    size, vsize = len(msg), len(msg) + msg.count(b"\n")
    name = f"{ts}.M{i}P{pid}.testgen,S={size},W={vsize}:2,{'S' if seen else ''}"
    fd = os.open(f"{md}/cur/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, msg); os.fchown(fd, uid, gid); os.close(fd)
    os.utime(f"{md}/cur/{name}", (ts, ts))
print(f"wrote {a.n} messages ({unseen} unseen) to {md}/cur")
