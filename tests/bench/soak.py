"""Mixed traffic against two Portcullis replicas for a while, with the Python standard library only
(run by tests/bench/soak, which starts the replicas and provisions the people and clients).

Workers, each on both replicas in turn:
- sign-in: authorize with PKCE, the password, the code redeemed, the refresh token rotated twice;
- service: client_credentials, then introspection of the token;
- public: the JWKS and discovery;
- admin: an administrator (password and TOTP) browsing the dashboard, clients, users and audit.
Every minute one line: requests and errors so far, each replica's resident memory, the
database's size and Redis's memory. At the end: fails (exit 1) on any error, or when a replica's
memory kept growing after the warm-up (see `growing`).

Usage: soak.py MINUTES BASE_A BASE_B PID_A PID_B CONFIG_JSON
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

minutes = float(sys.argv[1])
bases = sys.argv[2:4]
pids = [int(p) for p in sys.argv[4:6]]
config = json.loads(sys.argv[6])
deadline = time.monotonic() + minutes * 60
lock = threading.Lock()
counts = {"requests": 0, "errors": 0}
samples = []


class Failed(Exception):
    pass


def count(ok, what=""):
    with lock:
        counts["requests"] += 1
        if not ok:
            counts["errors"] += 1
            if counts["errors"] <= 5:
                print(f"error: {what}", file=sys.stderr, flush=True)


class Browser:
    """One keep-alive connection to a replica, with its cookies."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.cookies = {}

    def send(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None and not isinstance(body, str):
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            raise Failed(f"{method} {path}: {e}")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, response.getheader("Location", ""), data.decode("utf-8", "replace")

    def expect(self, status, method, path, body=None, headers=None):
        got, location, text = self.send(method, path, body, headers)
        count(got == status, f"{method} {path}: {got}, expected {status}: {text[:120]}")
        if got != status:
            raise Failed(f"{method} {path}: {got}")
        return location, text

    def form(self, path, fields):
        """GETs the page at `path`, then POSTs its form there with the CSRF token."""
        _, page = self.expect(200, "GET", path)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return self.expect(303, "POST", path, {"csrf": csrf, **fields})


def totp(secret):
    """The current RFC 6238 code (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def basic(client):
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def sign_in(n):
    rp, user = config["rp"], config["users"][n % len(config["users"])]
    turn = 0
    while time.monotonic() < deadline:
        b = Browser(bases[turn % 2])
        turn += 1
        try:
            verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            query = urllib.parse.urlencode({
                "response_type": "code", "client_id": rp["client_id"], "redirect_uri": config["redirect_uri"],
                "scope": "openid offline_access", "state": "s", "code_challenge": challenge,
                "code_challenge_method": "S256",
            })
            login, _ = b.expect(303, "GET", "/authorize?" + query)
            onward, _ = b.form(login, {"username": user, "password": config["password"]})
            while onward.startswith("/"):
                onward, _ = b.expect(303, "GET", onward)
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(onward).query)["code"][0]
            _, text = b.expect(200, "POST", "/token", {
                "grant_type": "authorization_code", "code": code, "redirect_uri": config["redirect_uri"],
                "code_verifier": verifier,
            }, basic(rp))
            refresh = json.loads(text)["refresh_token"]
            for _ in range(2):
                _, text = b.expect(200, "POST", "/token", {"grant_type": "refresh_token", "refresh_token": refresh}, basic(rp))
                refresh = json.loads(text)["refresh_token"]
        except Failed:
            time.sleep(0.1)


def service(n):
    client, turn = config["service"], n
    browsers = [Browser(base) for base in bases]
    while time.monotonic() < deadline:
        b = browsers[turn % 2]
        turn += 1
        try:
            _, text = b.expect(200, "POST", "/token", {"grant_type": "client_credentials"}, basic(client))
            token = json.loads(text)["access_token"]
            _, text = b.expect(200, "POST", "/introspect", {"token": token}, basic(client))
            count(json.loads(text).get("active") is True, "introspection: not active")
        except Failed:
            time.sleep(0.1)


def public(n):
    browsers, turn = [Browser(base) for base in bases], n
    while time.monotonic() < deadline:
        b = browsers[turn % 2]
        turn += 1
        try:
            b.expect(200, "GET", "/jwks.json")
            b.expect(200, "GET", "/.well-known/openid-configuration")
        except Failed:
            time.sleep(0.1)


def admin(n):
    admin = config["admin"]
    while time.monotonic() < deadline:
        b = Browser(bases[n % 2])
        n += 1
        try:
            login, _ = b.expect(303, "GET", "/admin")
            mfa, _ = b.form(login, {"username": admin["username"], "password": config["password"]})
            # A code is accepted once: each sign-in waits for a time step no other has used.
            claim_fresh_step()
            onward, _ = b.form(mfa, {"code": totp(admin["totp_secret"])})
            while onward.startswith("/") and not onward.startswith("/admin"):
                onward, _ = b.expect(303, "GET", onward)
            for _ in range(20):
                for page in ("/admin", "/admin/clients", "/admin/users", "/admin/audit", "/admin/keys"):
                    b.expect(200, "GET", page)
                if time.monotonic() > deadline:
                    break
        except Failed:
            time.sleep(0.1)


last_step = [0]


def claim_fresh_step():
    """Blocks until a TOTP time step that no sign-in has used yet, and claims it."""
    while True:
        with lock:
            step = int(time.time()) // 30
            if step != last_step[0]:
                last_step[0] = step
                return
        time.sleep(0.5)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def store_sizes():
    db = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                         f"select pg_database_size('{config['database']}')"], capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-cli", "-h", "127.0.0.1", "info", "memory"], capture_output=True, text=True).stdout
    used = re.search(r"used_memory:(\d+)", redis)
    return int(db or 0), int(used.group(1)) if used else 0


def growing(series, warmup):
    """A replica's memory grew after the warm-up: its last sample is over 25 % above the first
    sample after warm-up, and the last three samples still rise."""
    after = series[warmup:]
    if len(after) < 4:
        return False
    return after[-1] > after[0] * 1.25 and after[-3] < after[-2] < after[-1]


def report(minute):
    rss = [rss_kib(pid) for pid in pids]
    db, redis = store_sizes()
    samples.append(rss)
    with lock:
        requests, errors = counts["requests"], counts["errors"]
    print(f"minute {minute:>3}: {requests:>8} requests, {errors} errors; RSS a {rss[0] // 1024} MB, "
          f"b {rss[1] // 1024} MB; database {db // 1048576} MB; Redis {redis // 1048576} MB", flush=True)


workers = [threading.Thread(target=f, args=(i,), daemon=True) for f, n in
           ((sign_in, 4), (service, 3), (public, 2), (admin, 1)) for i in range(n)]
for w in workers:
    w.start()
started = time.monotonic()
report(0)
for minute in range(1, int(minutes) + 1):
    time.sleep(max(0.0, started + minute * 60 - time.monotonic()))
    report(minute)
for w in workers:
    w.join(timeout=35)

warmup = min(2, len(samples) - 1)
failed = False
if counts["errors"]:
    print(f"FAIL: {counts['errors']} errors in {counts['requests']} requests")
    failed = True
for name, series in zip("ab", zip(*samples)):
    if growing(list(series), warmup):
        print(f"FAIL: replica {name}'s memory kept growing after warm-up: {[s // 1024 for s in series]} MB")
        failed = True
if not failed:
    print(f"OK: {counts['requests']} requests without an error; memory flat after warm-up")
sys.exit(1 if failed else 0)
