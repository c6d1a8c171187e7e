"""The counting policy against the real binary, on SQLite and on DynamoDB (dynalite):
distinct visitors (by User-Agent and by address) count once per counter and day, views
count every hit, the repeat window, --count-unit visitors, DNT, crawlers, image proxies on
badges, Idempotency-Key (also across a restart), the per-address rate limit, addresses
from trusted proxies, a restart that must not count the same visitor again, daily rows
that add up to the totals, and nothing stored that names a visitor (no address, no
User-Agent)."""
import http.client
import json
import sqlite3
import time
import unittest

from dynalite import DUMMY_CREDENTIALS, TablePerTest
from server import Server, send


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


class CountingRules:
    """The rules every store keeps. Subclasses say how to start a server on a store and how
    to read the store's raw rows."""

    def server(self, *args):
        raise NotImplementedError

    def restarted(self, old, *args):
        """A new server process on the same store as `old` (which is stopped)."""
        raise NotImplementedError

    def day_rows(self, key):
        """{day: (views, visitors)} of `key`'s daily history, read from the store itself."""
        raise NotImplementedError

    def stored_text(self):
        """Everything the store holds, as one string, for the privacy check."""
        raise NotImplementedError

    # --- helpers --------------------------------------------------------------------------

    def call(self, s, path, agent=BROWSER, source="127.0.0.1", headers=None):
        """(status, headers, body) of one counting request from `source` with `agent`."""
        conn = http.client.HTTPConnection(s.host, s.port, timeout=10, source_address=(source, 0))
        try:
            sent = dict(headers or {})
            if agent is not None:
                sent["User-Agent"] = agent
            else:
                conn.putrequest("GET", path, skip_accept_encoding=True)
                for name, value in sent.items():
                    conn.putheader(name, value)
                conn.endheaders()
                response = conn.getresponse()
                return (response.status, {k.lower(): v for k, v in response.getheaders()},
                        response.read().decode())
            return send(conn, "GET", path, sent)
        finally:
            conn.close()

    def hit(self, s, path, **kw):
        status, _, body = self.call(s, path, **kw)
        self.assertEqual(status, 200, body)
        return body

    def count(self, s, key, **kw):
        return json.loads(self.hit(s, "/count/" + key, **kw))["count"]

    def totals(self, s, key):
        status, _, body = s.request("GET", "/counters/" + key)
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        return answer["views"], answer["visitors"]

    def ignored(self, s, reason):
        _, _, text = s.request("GET", "/metrics")
        line = 'vc_hits_ignored_total{reason="%s"} ' % reason
        return int(next(l for l in text.splitlines() if l.startswith(line)).split()[-1])

    # --- the rules ----------------------------------------------------------------------

    def test_distinct_visitors_count_once_each_and_views_count_every_hit(self):
        with self.server() as s:
            agents = ["Mozilla/5.0 agent-%d" % i for i in range(5)]
            for agent in agents:
                self.count(s, "home", agent=agent)
            for source in ("127.0.0.2", "127.0.0.3"):  # other addresses, same agent
                self.count(s, "home", agent=agents[0], source=source)
            self.assertEqual(self.totals(s, "home"), (7, 7))
            for _ in range(3):  # the same visitors again: views only
                self.count(s, "home", agent=agents[1])
                self.count(s, "home", agent=agents[0], source="127.0.0.2")
            self.assertEqual(self.totals(s, "home"), (13, 7))
            # Another counter knows nothing of these visitors.
            self.count(s, "about", agent=agents[1])
            self.assertEqual(self.totals(s, "about"), (1, 1))
            self.assertEqual(self.day_rows("home"), {today(): (13, 7)})

    def test_repeat_window_counts_a_visitor_once_per_window(self):
        with self.server("--repeat-window", "3600") as s:
            self.assertEqual(self.count(s, "post"), 1)
            for _ in range(3):  # a reload loop: answered, not counted
                self.assertEqual(self.count(s, "post"), 1)
            self.assertEqual(self.ignored(s, "repeat"), 3)
            self.assertEqual(self.count(s, "post", agent="another browser"), 2)
            self.assertEqual(self.totals(s, "post"), (2, 2))
            self.assertEqual(self.day_rows("post"), {today(): (2, 2)})

    def test_count_unit_visitors_answers_visitors(self):
        with self.server("--count-unit", "visitors") as s:
            self.assertEqual([self.count(s, "v") for _ in range(3)], [1, 1, 1])
            self.assertEqual(self.count(s, "v", agent="second"), 2)
            status, _, body = s.request("GET", "/counters/v")
            self.assertEqual(json.loads(body), {"key": "v", "count": 2, "views": 4, "visitors": 2})

    def test_a_restart_does_not_count_the_same_visitor_again(self):
        s = self.server().start()
        try:
            self.count(s, "home", agent="returning reader")
            self.assertEqual(s.stop()[0], 0)
            with self.restarted(s) as again:
                self.count(again, "home", agent="returning reader")
                self.assertEqual(self.totals(again, "home"), (2, 1))
                self.count(again, "home", agent="new reader")
                self.assertEqual(self.totals(again, "home"), (3, 2))
        finally:
            s.__exit__()

    def test_opt_outs_count_nothing_when_respected(self):
        with self.server("--respect-dnt") as s:
            self.count(s, "p")
            self.assertEqual(self.count(s, "p", agent="private", headers={"DNT": "1"}), 1)
            self.assertEqual(self.count(s, "p", agent="gpc", headers={"Sec-GPC": "1"}), 1)
            self.assertEqual(self.totals(s, "p"), (1, 1))
            self.assertEqual(self.ignored(s, "dnt"), 2)
        with self.server() as s:  # not respected by default: they count
            self.count(s, "q", headers={"DNT": "1"})
            self.assertEqual(self.totals(s, "q"), (1, 1))

    def test_a_badge_through_an_image_proxy_counts_a_view_and_no_visitor(self):
        with self.server("--repeat-window", "3600") as s:
            camo = "github-camo (876de43e)"
            for _ in range(3):  # many readers behind one proxy address: every fetch a view
                self.hit(s, "/badge/readme.svg", agent=camo)
            self.assertEqual(self.totals(s, "readme"), (3, 0))
            self.hit(s, "/badge/readme.svg")  # a browser opening the badge itself
            self.hit(s, "/badge/readme.svg")  # ... and again, inside the repeat window
            self.assertEqual(self.totals(s, "readme"), (4, 1))

    def test_crawlers_and_a_missing_user_agent_count_nothing_when_ignored(self):
        with self.server("--ignore-bots") as s:
            self.assertEqual(self.count(s, "b"), 1)
            for agent in ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                          "curl/8.5.0", "python-requests/2.31", None):
                self.assertEqual(self.count(s, "b", agent=agent), 1, agent)
            self.assertEqual(self.ignored(s, "bot"), 4)
            self.assertEqual(self.totals(s, "b"), (1, 1))
        with self.server() as s:  # the classic default counts them
            self.count(s, "b2", agent="curl/8.5.0")
            self.assertEqual(self.totals(s, "b2"), (1, 1))

    def test_an_idempotency_key_counts_once_and_replays_its_answer(self):
        key = {"Idempotency-Key": '"page-view-7f3a"'}
        with self.server() as s:
            self.assertEqual(self.count(s, "i", headers=key), 1)
            self.assertEqual(self.count(s, "i", headers=key), 1)  # a retry: the same answer
            self.assertEqual(self.count(s, "i", agent="other", headers=key), 1)
            self.assertEqual(self.count(s, "i", headers={"Idempotency-Key": '"another"'}), 2)
            self.assertEqual(self.count(s, "j", headers=key), 1)  # keys are per counter
            self.assertEqual(self.totals(s, "i"), (2, 1))
            self.assertEqual(self.ignored(s, "idempotent_replay"), 2)
            for bad in ('unquoted', '"' + "k" * 129 + '"', '"caf\u00e9"', '""'):
                status, _, body = self.call(s, "/count/i", headers={"Idempotency-Key": bad})
                self.assertEqual((status, json.loads(body)["error"]), (400, "bad_idempotency_key"))
            self.assertEqual(self.totals(s, "i"), (2, 1))
            s.stop()
            with self.restarted(s) as again:  # remembered in the store, not the process
                self.assertEqual(self.count(again, "i", headers=key), 1)
                self.assertEqual(self.totals(again, "i"), (2, 1))

    def test_the_rate_limit_refuses_past_the_burst_and_counts_nothing(self):
        with self.server("--rate-limit", "0.01/s,burst=3") as s:
            for expected in (1, 2, 3):
                status, headers, body = self.call(s, "/count/r", agent="agent-%d" % expected)
                self.assertEqual((status, json.loads(body)["count"]), (200, expected))
                self.assertEqual(headers["ratelimit-policy"], '"per-client";q=3;w=300')
                self.assertIn('"per-client";r=%d;' % (3 - expected), headers["ratelimit"])
            status, headers, body = self.call(s, "/count/r", agent="agent-4")
            self.assertEqual((status, json.loads(body)["error"]), (429, "rate_limited"))
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            self.assertIn('"per-client";r=0;', headers["ratelimit"])
            self.assertEqual(self.totals(s, "r"), (3, 3))
            # Another address has its own bucket; reads are not limited.
            self.assertEqual(self.count(s, "r", source="127.0.0.2"), 4)
            self.assertEqual(s.request("GET", "/counters/r")[0], 200)

    def test_addresses_from_trusted_proxies_only(self):
        forwarded_for = lambda address: {"X-Forwarded-For": address + ", 127.0.0.1"}
        with self.server("--trust-proxy", "127.0.0.1") as s:
            for address in ("198.51.100.1", "198.51.100.2", "198.51.100.1"):
                self.count(s, "t", headers=forwarded_for(address))
            self.assertEqual(self.totals(s, "t"), (3, 2))  # two clients behind the proxy
            # An untrusted peer's header is not believed: it is one visitor, itself.
            for address in ("203.0.113.1", "203.0.113.2"):
                self.count(s, "u", source="127.0.0.2", headers=forwarded_for(address))
            self.assertEqual(self.totals(s, "u"), (2, 1))
            # A malformed Forwarded header is refused, whoever sends it, and counts nothing.
            status, _, body = self.call(s, "/count/t", headers={"Forwarded": "for=2001:db8::1"})
            self.assertEqual((status, json.loads(body)["error"]), (400, "bad_forwarded"))
            self.assertEqual(self.totals(s, "t"), (3, 2))

    def test_nothing_stored_names_a_visitor(self):
        agent = "Mozilla/5.0 PrivacyProbe/12345"
        with self.server() as s:
            self.count(s, "private", agent=agent, source="127.0.0.9")
            self.assertEqual(self.totals(s, "private"), (1, 1))
            stored = self.stored_text()
        self.assertIn("private", stored)  # the check sees the store's contents
        for secret in ("127.0.0.9", "PrivacyProbe", "12345"):
            self.assertNotIn(secret, stored)


class SqliteCountingTest(CountingRules, unittest.TestCase):
    def setUp(self):
        self.last = None

    def server(self, *args):
        self.last = Server(*args)
        return self.last

    def restarted(self, old, *args):
        self.last = Server(*args, workdir=old.workdir)
        return self.last

    def query(self, sql, *params):
        with sqlite3.connect(self.last.db_path) as db:
            return db.execute(sql, params).fetchall()

    def day_rows(self, key):
        rows = self.query("SELECT day, views, visitors FROM days WHERE key = ?", key)
        return {day: (views, visitors) for day, views, visitors in rows}

    def stored_text(self):
        with open(self.last.db_path, "rb") as db:
            data = db.read()
        try:
            with open(self.last.db_path + "-wal", "rb") as wal:
                data += wal.read()
        except FileNotFoundError:
            pass
        return data.decode("latin-1")

    def test_one_salt_per_day_and_marks_only_for_today(self):
        with self.server() as s:
            self.count(s, "a")
            self.count(s, "b", agent="other")
            self.assertEqual(self.query("SELECT day, length(salt) FROM salts"), [(today(), 32)])
            marks = self.query("SELECT day, key, length(visitor) FROM marks ORDER BY key")
            self.assertEqual(marks, [(today(), "a", 32), (today(), "b", 32)])


class DynamoDbCountingTest(CountingRules, TablePerTest, unittest.TestCase):
    def setUp(self):
        self.table = self.new_table()

    def server(self, *args):
        return Server(*args, store=self.dynalite.store_url(self.table), env=DUMMY_CREDENTIALS)

    def restarted(self, old, *args):
        return self.server(*args)

    def scan(self):
        items, start = [], None
        while True:
            body = {"TableName": self.table, "ConsistentRead": True}
            if start:
                body["ExclusiveStartKey"] = start
            status, answer = self.dynalite.call("Scan", body)
            self.assertEqual(status, 200, answer)
            items += answer.get("Items", [])
            start = answer.get("LastEvaluatedKey")
            if not start:
                return items

    def day_rows(self, key):
        rows = {}
        for item in self.scan():
            prefix = key + "#day#"
            if item["id"]["S"].startswith(prefix):
                rows[item["id"]["S"][len(prefix):]] = (int(item["views"]["N"]),
                                                       int(item["visitors"]["N"]))
        return rows

    def stored_text(self):
        return json.dumps(self.scan())

    def test_items_keep_the_documented_shape(self):
        with self.server() as s:
            self.count(s, "shape")
        items = {item["id"]["S"]: item for item in self.scan()}
        self.assertEqual(items["shape"], {"id": {"S": "shape"}, "count": {"N": "1"},
                                          "visitors": {"N": "1"}})
        salt = items["#salt#" + today()]
        self.assertEqual(len(salt["salt"]["S"]), 64)
        self.assertIn("expires", salt)
        marks = [item for name, item in items.items() if name.startswith("shape#v#" + today() + "#")]
        self.assertEqual(len(marks), 1)
        self.assertGreater(int(marks[0]["expires"]["N"]), time.time())
        self.assertLessEqual(int(marks[0]["expires"]["N"]), time.time() + 86400)


if __name__ == "__main__":
    unittest.main()
