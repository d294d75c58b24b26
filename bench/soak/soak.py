#!/usr/bin/env python3
"""A soak run of the daemon: memory over time and delivery under partner faults.

1. Measures the peak ingest rate briefly (closed loop, as fast as answers come).
2. Runs the daemon for --duration seconds at half that rate (open loop) with two partners:
   "flaky" takes every record and answers 500 to a share of requests (--fail-rate); "outage" takes
   the records of severity concern and is down for --outage-len seconds from --outage-start.
3. Samples the daemon's RSS every --sample-every seconds; after the load, waits until each partner
   holds every acknowledged record routed to it (or --drain-timeout), counting by record id.

Prints a JSON summary (and writes it, with the RSS samples, to the work dir). Exit status 1 when an
acknowledged record did not reach a partner it matches. Run it through bench/soak.sh.
"""
import argparse
import asyncio
import json
import os
import re
import secrets
import base64
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


# --- The hub's configuration: everything the soak depends on about the config format is here. ---
def hub_config(data_dir, flaky_port, outage_port, token, secret):
    def delivery(port, path):
        return {
            # The partners run on this host: loopback is refused unless the subscription allowlists it.
            "webhook": {"url": f"http://127.0.0.1:{port}/{path}", "secret": secret,
                        "allow_destinations": ["127.0.0.1/32"]},
            # Generous retries: a 10-minute outage must not dead-letter anything.
            "retry": {"max_attempts": 1000, "max_age": "24h", "initial_backoff": "500ms", "max_backoff": "15s"},
            "request_timeout": "10s",
            "lanes": 4,
            "batch": {"max_events": 100, "linger": "100ms"},
        }

    privacy = {"identity": "identified", "purpose": "soak test", "legal_basis": "public_task",
               "health_ground": "health_care"}
    fields = ["type", "subject.class", "content.severity", "content.value", "source.record_id"]
    return {
        "listen": {"address": "127.0.0.1", "port": 0},
        "data_dir": str(data_dir),
        "keys_dir": str(data_dir) + "-keys",
        "log_level": "warn",
        # /metrics carries no personal data; the soak reads it without a token.
        "access": {"metrics_open": True},
        # The outage partner's backlog (rate x outage) must fit under the outbox cap, or ingest
        # answers 503 by design; the soak is about memory and delivery, not back-pressure.
        "limits": {"max_body_bytes": 8 * 1024 * 1024, "max_header_bytes": 8192, "read_timeout": "30s",
                   "max_connections": 1024, "max_outbox_depth": 20_000_000},
        "connectors": [{"name": "src", "plugin": "generic-json", "token": token, "settings": {"mapping": {
            "type": {"const": "nl.schakel.attendance.absence.recorded"},
            "source.record_id": {"pointer": "/id", "as": "string", "required": True},
            "subject.student_key": {"pointer": "/leerling", "as": "string", "required": True},
            "subject.school.brin": {"pointer": "/brin", "required": True},
            "subject.class": {"pointer": "/klas"},
            "content.domain": {"const": "attendance"},
            "content.indicator": {"const": "absence_hours"},
            "content.value": {"pointer": "/uren", "as": "number", "required": True},
            "content.severity": {"pointer": "/ernst", "map": {"laag": "info", "hoog": "concern"}, "default": "info"},
            "governance.data_category": {"const": "ordinary"}}}}],
        "subscriptions": [
            {"name": "flaky", "partner": "Flaky partner", "fields": fields, "privacy": privacy,
             "delivery": delivery(flaky_port, "flaky")},
            {"name": "outage", "partner": "Partner with an outage", "fields": fields, "privacy": privacy,
             "filter": {"min_severity": "concern"}, "delivery": delivery(outage_port, "outage")},
        ],
    }


def matches_outage(n):
    """Records routed to the outage partner: the driver marks odd numbers 'hoog' (concern)."""
    return n % 2 == 1


def record(n, students):
    ernst = "hoog" if n % 2 else "laag"
    return (f'{{"id":"R-{n}","leerling":"S-{100000 + n % students}","brin":"12AB","klas":"2B",'
            f'"uren":{1 + n % 4},"ernst":"{ernst}"}}')


class driver:
    """Keep-alive HTTP/1.1 connections posting records; remembers which record numbers got a 200."""

    def __init__(self, port, token, records_per_request, students):
        self.port = port
        self.token = token
        self.k = records_per_request
        self.students = students
        self.next_n = 0
        self.acked = bytearray()
        self.requests = 0
        self.ok_requests = 0
        self.statuses = {}
        self.transport_errors = 0

    def _mark(self, first, count):
        end = first + count
        if end > len(self.acked):
            self.acked.extend(bytes(max(end - len(self.acked), 1 << 20)))
        self.acked[first:end] = b"\x01" * count

    async def _connect(self):
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def _one(self, rw):
        reader, writer = rw
        first = self.next_n
        self.next_n += self.k
        body = ("[" + ",".join(record(n, self.students) for n in range(first, first + self.k)) + "]").encode()
        head = (f"POST /v1/connectors/src/records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await reader.readexactly(length)
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.ok_requests += 1
            self._mark(first, self.k)
        return close

    async def _client(self, stop_at, interval, start):
        rw = None
        sent = 0
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if interval:
                due = start + sent * interval
                if due > now:
                    await asyncio.sleep(due - now)
                    if time.monotonic() >= stop_at:
                        break
            sent += 1
            try:
                if rw is None:
                    rw = await self._connect()
                if await asyncio.wait_for(self._one(rw), 30):
                    rw[1].close()
                    rw = None
            except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                self.transport_errors += 1
                if rw is not None:
                    rw[1].close()
                rw = None
                await asyncio.sleep(0.05)
        if rw is not None:
            rw[1].close()

    async def run(self, seconds, connections, rate=0.0):
        """Closed loop when rate is 0, else `rate` requests/s spread over the connections."""
        start = time.monotonic()
        interval = connections / rate if rate else 0
        await asyncio.gather(*(self._client(start + seconds, interval, start + i * (interval / connections if interval else 0))
                               for i in range(connections)))

    def acked_count(self, pred=None):
        if pred is None:
            return self.acked.count(1)
        return sum(1 for n, a in enumerate(self.acked) if a and pred(n))


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_port(path, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            text = path.read_text()
            if text.endswith("\n"):
                return int(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no port in {path} after {timeout} s")


class partner:
    def __init__(self, name, binary, work, secret, fail_rate=0.0):
        self.name, self.binary, self.work, self.secret, self.fail_rate = name, binary, work, secret, fail_rate
        self.out = work / f"{name}.jsonl"
        self.port = 0
        self.proc = None

    def start(self):
        port_file = self.work / f"{self.name}.port"
        port_file.unlink(missing_ok=True)
        args = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--quiet", "--out", str(self.out),
                "--port-file", str(port_file)]
        if self.fail_rate:
            args += ["--fail-rate", str(self.fail_rate)]
        env = dict(os.environ, SCHAKEL_WEBHOOK_SECRET=self.secret)
        log = open(self.work / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.port = wait_port(port_file, self.proc, 15)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def delivered(self, size):
        """Per record number: how many times this partner accepted it (0, 1, or more)."""
        seen = bytearray(size)
        pattern = re.compile(rb'"record_id":"R-(\d+)"')
        extra = 0
        with open(self.out, "rb") as f:
            for line in f:
                m = pattern.search(line)
                if not m:
                    continue
                n = int(m.group(1))
                if n < size:
                    seen[n] = min(seen[n] + 1, 255)
                else:
                    extra += 1
        return seen, extra


def slope_mib_per_hour(samples):
    """Least-squares slope of (t_s, rss_kib) samples, in MiB/hour."""
    n = len(samples)
    if n < 3:
        return float("nan")
    xs = [t / 3600 for t, _ in samples]
    ys = [k / 1024 for _, k in samples]
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def scrape(port):
    """Outbox depth and delivery counts from /metrics, or None when the endpoint refuses us."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except Exception:
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith(("schakel_outbox_depth", "schakel_deliveries_total")):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory holding schakel and schakel-receiver")
    ap.add_argument("--work", required=True, help="work directory (created; holds config, logs, results)")
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--peak-seconds", type=float, default=20)
    ap.add_argument("--outage-start", type=float, default=600)
    ap.add_argument("--outage-len", type=float, default=600)
    ap.add_argument("--fail-rate", type=float, default=0.1)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--records", type=int, default=10, help="records per request")
    ap.add_argument("--students", type=int, default=5000)
    ap.add_argument("--sample-every", type=float, default=5)
    ap.add_argument("--steady-after", type=float, default=300, help="RSS slope from this many seconds on")
    ap.add_argument("--drain-timeout", type=float, default=1200)
    a = ap.parse_args()

    # The config holds the run's token and webhook secret.
    os.umask(0o077)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(mode=0o700)
    for f in [*work.glob("*.jsonl"), *work.glob("*.log")]:
        f.unlink()
    token = secrets.token_hex(24)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    binary = Path(a.bin)

    flaky = partner("flaky", str(binary / "schakel-receiver"), work, secret, a.fail_rate)
    outage = partner("outage", str(binary / "schakel-receiver"), work, secret)
    flaky.start()
    outage.start()
    config = work / "config.json"
    config.write_text(json.dumps(hub_config(data_dir, flaky.port, outage.port, token, secret), indent=2) + "\n")
    hub_log = open(work / "hub.log", "ab")
    hub = subprocess.Popen([str(binary / "schakel"), "serve", "--config", str(config)], stdout=hub_log,
                           stderr=hub_log, stdin=subprocess.DEVNULL)
    try:
        port = wait_port(data_dir / "port", hub, 30)
        d = driver(port, token, a.records, a.students)

        # 1. Peak, closed loop. Its records are acknowledged and delivered like the rest.
        t0 = time.monotonic()
        asyncio.run(d.run(a.peak_seconds, a.connections))
        peak_rps = d.requests / (time.monotonic() - t0)
        rate = peak_rps / 2
        print(f"soak: peak {peak_rps:.0f} requests/s ({peak_rps * a.records:.0f} records/s); "
              f"soak at {rate:.0f} requests/s for {a.duration:.0f} s", file=sys.stderr, flush=True)
        before_soak = d.requests
        # Let the peak's backlog drain before the clock starts, so the soak starts from a steady state.
        time.sleep(10)

        # 2. The soak: load in its own thread's event loop; here, RSS samples and the outage.
        samples = []
        events = []
        start = time.monotonic()
        load_done = {"v": False}

        async def soak():
            async def sampler():
                while not load_done["v"]:
                    t = time.monotonic() - start
                    samples.append((round(t, 1), rss_kib(hub.pid)))
                    if outage.proc.poll() is None and a.outage_start <= t < a.outage_start + a.outage_len:
                        outage.stop()
                        events.append((round(t, 1), "outage partner stopped"))
                        print(f"soak: t={t:.0f} s outage partner down", file=sys.stderr, flush=True)
                    elif outage.proc.poll() is not None and t >= a.outage_start + a.outage_len:
                        await asyncio.to_thread(outage.start)
                        events.append((round(time.monotonic() - start, 1), "outage partner restarted"))
                        print(f"soak: t={t:.0f} s outage partner back", file=sys.stderr, flush=True)
                    if hub.poll() is not None:
                        raise RuntimeError(f"the daemon exited with {hub.returncode}")
                    if len(samples) % 60 == 0:
                        print(f"soak: t={t:.0f} s rss {samples[-1][1] / 1024:.1f} MiB, {d.ok_requests} acknowledged "
                              f"requests", file=sys.stderr, flush=True)
                    await asyncio.sleep(a.sample_every)

            async def load():
                try:
                    await d.run(a.duration, a.connections, rate)
                finally:
                    load_done["v"] = True

            await asyncio.gather(sampler(), load())

        asyncio.run(soak())
        soak_s = time.monotonic() - start
        soak_requests = d.requests - before_soak
        if outage.proc.poll() is not None:
            outage.start()

        # 3. Drain: every acknowledged record at every partner it matches.
        size = len(d.acked)
        acked_all = d.acked_count()
        acked_outage = d.acked_count(matches_outage)
        drain_start = time.monotonic()
        while True:
            samples.append((round(time.monotonic() - start, 1), rss_kib(hub.pid)))
            got_f, extra_f = flaky.delivered(size)
            got_o, extra_o = outage.delivered(size)
            missing_f = sum(1 for n in range(size) if d.acked[n] and not got_f[n])
            missing_o = sum(1 for n in range(size) if d.acked[n] and matches_outage(n) and not got_o[n])
            waited = time.monotonic() - drain_start
            print(f"soak: drain {waited:.0f} s: missing flaky {missing_f}, outage {missing_o}", file=sys.stderr,
                  flush=True)
            if (missing_f == 0 and missing_o == 0) or waited > a.drain_timeout or hub.poll() is not None:
                break
            time.sleep(15)
        drain_s = time.monotonic() - drain_start
        metrics = scrape(port)

        steady = [(t, k) for t, k in samples if a.steady_after <= t <= soak_s]
        rss = [k / 1024 for t, k in samples if t <= soak_s]
        wrong_route = sum(1 for n in range(size) if got_o[n] and not matches_outage(n))
        summary = {
            "peak_requests_per_s": round(peak_rps, 1),
            "records_per_request": a.records,
            "connections": a.connections,
            "target_requests_per_s": round(rate, 1),
            "achieved_requests_per_s": round(soak_requests / soak_s, 1),
            "soak_s": round(soak_s, 1),
            "requests": d.requests,
            "statuses": {str(k): v for k, v in sorted(d.statuses.items())},
            "transport_errors": d.transport_errors,
            "acknowledged_records": acked_all,
            "acknowledged_for_outage_partner": acked_outage,
            "delivered_flaky": sum(1 for n in range(size) if d.acked[n] and got_f[n]),
            "delivered_outage": sum(1 for n in range(size) if d.acked[n] and matches_outage(n) and got_o[n]),
            "missing_flaky": missing_f,
            "missing_outage": missing_o,
            "duplicates_flaky": sum(1 for n in range(size) if got_f[n] > 1),
            "duplicates_outage": sum(1 for n in range(size) if got_o[n] > 1),
            "unacknowledged_but_delivered": sum(1 for n in range(size) if not d.acked[n] and (got_f[n] or got_o[n]))
            + extra_f + extra_o,
            "routed_to_outage_against_filter": wrong_route,
            "drain_s": round(drain_s, 1),
            "rss_mib": {"min": round(min(rss), 1), "max": round(max(rss), 1),
                        "first": round(rss[0], 1), "last": round(rss[-1], 1)},
            "rss_slope_mib_per_hour_steady": round(slope_mib_per_hour(steady), 3),
            "steady_window_s": [a.steady_after, round(soak_s, 1)],
            "rss_slope_mib_per_hour_whole": round(slope_mib_per_hour([s for s in samples if s[0] <= soak_s]), 3),
            "events": events,
            "fail_rate": a.fail_rate,
            "outage": [a.outage_start, a.outage_start + a.outage_len],
            "metrics_after_drain": metrics,
        }
        (work / "rss.tsv").write_text("t_s\trss_kib\n" + "".join(f"{t}\t{k}\n" for t, k in samples))
        (work / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(json.dumps(summary, indent=2))
        return 0 if missing_f == 0 and missing_o == 0 and wrong_route == 0 else 1
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(30)
            except subprocess.TimeoutExpired:
                hub.kill()
        flaky.stop()
        outage.stop()


if __name__ == "__main__":
    sys.exit(main())
