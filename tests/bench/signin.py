"""Password sign-ins against a running Portcullis, with the Python standard library only.

Each worker signs in over and over as a browser would: GET /login (new session, CSRF token),
POST /login with the password (answered 303). Meanwhile a prober measures /healthz latency to
show the async runtime is never blocked by the argon2 work; run it as its own process (`probe`),
so the interpreter's lock does not add to what it measures. Each mode prints one line:
RESULT signin <sign-ins/s> <p50 ms> <p99 ms> <errors>
RESULT healthz <p50 ms> <p99 ms> <max ms> <samples>
"""
import http.client
import re
import sys
import threading
import time
import urllib.parse

mode, host, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
deadline = time.monotonic() + seconds
lock = threading.Lock()
latencies, errors, health = [], [0], []


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else 0.0


def worker(username):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < deadline:
        try:
            conn.request("GET", "/login")
            page = conn.getresponse()
            body = page.read().decode()
            cookie = page.getheader("Set-Cookie", "").split(";")[0]
            csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
            form = urllib.parse.urlencode({"csrf": csrf, "username": username, "password": sys.argv[6]})
            started = time.monotonic()
            conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            answer = conn.getresponse()
            answer.read()
            elapsed = (time.monotonic() - started) * 1000
            with lock:
                if answer.status == 303 and answer.getheader("Location") == "/account":
                    latencies.append(elapsed)
                else:
                    errors[0] += 1
        except Exception:
            with lock:
                errors[0] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)


def prober():
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < deadline:
        started = time.monotonic()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        health.append((time.monotonic() - started) * 1000)
        time.sleep(0.05)


if mode == "probe":
    prober()
    print(f"RESULT healthz {pct(health, 50):.2f} {pct(health, 99):.2f} {max(health or [0]):.2f} {len(health)}")
else:
    username, password, workers = sys.argv[5], sys.argv[6], int(sys.argv[7])
    # Worker n signs in `<username>n`: one person per worker.
    threads = [threading.Thread(target=worker, args=(f"{username}{n}",)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"RESULT signin {len(latencies) / seconds:.1f} {pct(latencies, 50):.1f} {pct(latencies, 99):.1f} {errors[0]}")
