#!/usr/bin/env python3
"""Credentials for the authorisation benchmarks (bench/auth/run.sh, BENCH_STREAMS_AUTH=1
bench/streams/run.sh): HS256 JWTs made with the standard library (as
Tests/integration/test_auth.py does; no PyJWT), and stream tickets fetched from a
running server with them.

    creds.py tokens --users U --count N --out FILE [--exp-in 7200]
        N tokens, one a line; line j is user "bench-user-<j % U>"'s. When N > U the
        tokens of one user differ by their `jti`, so each is a token the server has not
        seen (the uncached path). The secret is read from $BENCH_AUTH_JWT_SECRET.
    creds.py tickets --port P --tokens FILE --count N --out FILE [--format query|header]
        For line i of the output, POST /auth/ticket with the token on line i % len(tokens)
        as Bearer; writes "?ticket=<ticket>" (query) or, with --format header, the
        token itself as "Authorization: Bearer <token>" (no request made). Tickets open
        streams for 60 s: fetch them just before opening the streams.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import time

ISSUER = "https://id.bench"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, sub, exp, jti=None, roles=None):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": sub, "iss": ISSUER, "exp": exp}
    if jti is not None:
        claims["jti"] = jti
    if roles:
        claims["roles"] = roles
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def cmd_tokens(args):
    secret = os.environ.get("BENCH_AUTH_JWT_SECRET")
    if not secret:
        sys.exit("creds.py: BENCH_AUTH_JWT_SECRET is not set")
    exp = int(time.time()) + args.exp_in
    with open(args.out, "w") as f:
        for j in range(args.count):
            jti = None if args.count <= args.users else f"t{j}"
            f.write(token(secret, f"bench-user-{j % args.users}", exp, jti) + "\n")


def cmd_tickets(args):
    with open(args.tokens) as f:
        tokens = [line.strip() for line in f if line.strip()]
    if not tokens:
        sys.exit("creds.py: no token in " + args.tokens)
    out = open(args.out, "w")
    if args.format == "header":
        for i in range(args.count):
            out.write(f"Authorization: Bearer {tokens[i % len(tokens)]}\n")
        out.close()
        return
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    started = time.monotonic()
    for i in range(args.count):
        conn.request("POST", "/auth/ticket", body=b"", headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 201:
            sys.exit(f"creds.py: POST /auth/ticket answered {r.status}: {body[:200]!r}")
        out.write("?ticket=" + json.loads(body)["ticket"] + "\n")
    out.close()
    print(f"tickets={args.count} seconds={time.monotonic() - started:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tokens")
    t.add_argument("--users", type=int, required=True)
    t.add_argument("--count", type=int, required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--exp-in", type=int, default=7200)
    k = sub.add_parser("tickets")
    k.add_argument("--port", type=int, required=True)
    k.add_argument("--tokens", required=True)
    k.add_argument("--count", type=int, required=True)
    k.add_argument("--out", required=True)
    k.add_argument("--format", choices=("query", "header"), default="query")
    args = p.parse_args()
    (cmd_tokens if args.cmd == "tokens" else cmd_tickets)(args)


if __name__ == "__main__":
    main()
