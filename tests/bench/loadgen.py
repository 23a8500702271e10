"""HTTP load for the benchmarks, run as its own process (never under eventlet).

    python tests/bench/loadgen.py closed --url EDGE --kind generic|alertmanager \
        --threads 16 --duration 10 [--key KEY] [--tag t1]
    python tests/bench/loadgen.py open --url EDGE --rate 500 --duration 10 \
        --threads 128 [--key KEY] [--grace 30]

`closed`: every thread posts back to back on a keep-alive connection (the fallback when
`wrk` is not installed). `open`: synchronous generic alerts at a fixed rate whatever the
answers take: request i is due at start + i/rate, and its latency is counted from that
instant (no coordinated omission); requests still not sent `grace` seconds after the end
of the schedule are counted as unsent. Both print one JSON object on stdout.
"""

import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time
import urllib.parse

SEVERITIES = ("critical", "high", "medium", "low")
SERVICES = 200
BATCH = 20


def generic_body(tag, n, rng):
    service = f"svc-{rng.randrange(SERVICES)}"
    return json.dumps(
        {"service": service, "severity": rng.choice(SEVERITIES), "message": f"bench {tag} alert {n}"}
    )


def alertmanager_body(tag, n, rng):
    """An Alertmanager v4 webhook of BATCH alerts, each with a fingerprint of its own."""
    group = n % 10
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "BenchAlert",
                "service": f"svc-{rng.randrange(SERVICES)}",
                "severity": rng.choice(SEVERITIES),
                "instance": f"host-{i}:9100",
            },
            "annotations": {"summary": f"bench alert {n}/{i}"},
            "startsAt": "2026-11-20T03:12:45.123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.internal:9090/graph",
            "fingerprint": f"{tag}-{n}-{i}",
        }
        for i in range(BATCH)
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchAlert", group="g{group}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "klaxon",
            "groupLabels": {"alertname": "BenchAlert"},
            "commonLabels": {"alertname": "BenchAlert"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.internal:9093",
            "alerts": alerts,
        }
    )


KINDS = {
    "generic": ("/api/v1/alerts", generic_body, {"Prefer": "respond-async"}),
    "alertmanager": ("/api/v1/integrations/alertmanager", alertmanager_body, {}),
}


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, url, headers, timeout):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Content-Type": "application/json", **headers}
        self.timeout = timeout
        self.connection = None

    def post(self, path, body):
        """(status, parsed JSON or None); status 0 for a socket error or a timeout.

        A kept-alive connection the server closed while it was idle (gunicorn's keepalive is
        2 s) fails before the request reaches the server: that one is retried on a new one."""
        reused = self.connection is not None
        try:
            return self._post(path, body)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self._close()
            if not reused:
                return 0, None
        except (OSError, http.client.HTTPException):
            self._close()
            return 0, None
        try:
            return self._post(path, body)
        except (OSError, http.client.HTTPException):
            self._close()
            return 0, None

    def _post(self, path, body):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.connection.request("POST", path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None

    def _close(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def headers_for(args, extra):
    headers = dict(extra)
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    return headers


def run_in_threads(run, count):
    """run(0) .. run(count - 1), each in a thread of its own; returns when all are done."""
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def closed_loop(args):
    path, make_body, extra = KINDS[args.kind]
    statuses, latencies, lock = {}, [], threading.Lock()
    stop_at = time.monotonic() + args.duration

    def run(index):
        client = Client(args.url, headers_for(args, extra), timeout=30)
        rng = random.Random(index)
        mine, times = {}, []
        for n in itertools.count():
            if time.monotonic() >= stop_at:
                break
            body = make_body(f"{args.tag}{index}", n, rng)
            started = time.monotonic()
            status, _ = client.post(path, body)
            times.append(time.monotonic() - started)
            mine[status] = mine.get(status, 0) + 1
        with lock:
            for status, count in mine.items():
                statuses[status] = statuses.get(status, 0) + count
            latencies.extend(times)

    started = time.monotonic()
    run_in_threads(run, args.threads)
    return {
        "duration": time.monotonic() - started,
        "statuses": {str(k): v for k, v in statuses.items()},
        "latencies": latencies,
    }


def open_loop(args):
    """Generic alerts at `rate`/s; latency from each request's due instant.

    Synchronous by default (answered with the incident); with --queued, posted with
    `Prefer: respond-async`, and each result carries the wall-clock due instant and the
    alert id, so the caller can time the alert's way to its incident from the database.
    """
    total = int(args.rate * args.duration)
    counter = itertools.count()
    results, lock = [], threading.Lock()
    start = time.monotonic() + 0.5
    start_wall = time.time() + 0.5
    give_up_at = start + args.duration + args.grace
    extra = {"Prefer": "respond-async"} if args.queued else {}

    def run(index):
        client = Client(args.url, headers_for(args, extra), timeout=args.grace)
        rng = random.Random(index)
        mine = []
        while True:
            i = next(counter)
            if i >= total:
                break
            due = start + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            if sent > give_up_at:
                mine.append((None, None, 0, False, None, None))
                continue
            status, body = client.post("/api/v1/alerts", generic_body(f"{args.tag}{index}", i, rng))
            done = time.monotonic()
            body = body if isinstance(body, dict) else {}
            has_incident = body.get("incident_id") is not None
            mine.append(
                (
                    done - due,
                    done - sent,
                    status,
                    has_incident,
                    start_wall + i / args.rate,
                    body.get("alert_id"),
                )
            )
        with lock:
            results.extend(mine)

    run_in_threads(run, args.threads)
    return {
        "duration": time.monotonic() - start,
        "planned": total,
        "results": results,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("mode", choices=("closed", "open"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default=None)
    parser.add_argument("--kind", choices=tuple(KINDS), default="generic")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--grace", type=float, default=30)
    parser.add_argument("--tag", default="c")
    parser.add_argument("--queued", action="store_true", help="open mode: Prefer: respond-async")
    args = parser.parse_args(argv)
    outcome = closed_loop(args) if args.mode == "closed" else open_loop(args)
    json.dump(outcome, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
