"""The owner's side against the real binary, on SQLite and on DynamoDB (dynalite): the admin
token (404 without one, 401 with a wrong one), GET /history, the admin listing, PUT and
DELETE /counters/{key}, --private-stats, period badges, and that no admin answer lets
another site read it."""
import datetime
import json
import time
import unittest

from dynalite import DUMMY_CREDENTIALS, TablePerTest
from owner import ADMIN_ENV, BEARER, TOKEN, day, export_text, run_cli
from server import Server


class OwnerApi:
    """What every store keeps. Subclasses give the store URL and its environment."""

    def store(self):
        raise NotImplementedError

    def env(self):
        return {}

    def server(self, *args, admin=True):
        env = {**self.env(), **(ADMIN_ENV if admin else {})}
        return Server(*args, store=self.store(), env=env)

    def seed(self, text):
        code, _, err = run_cli("import", "--store", self.store(), stdin=text, env=self.env())
        self.assertEqual(code, 0, err)

    def get_json(self, s, path, headers=BEARER):
        status, headers, body = s.request("GET", path, headers=headers)
        return status, headers, json.loads(body)

    # --- access -----------------------------------------------------------------------------

    def test_admin_routes_are_absent_without_a_token(self):
        with self.server(admin=False) as s:
            s.request("GET", "/count/a")
            for method, path in [("GET", "/counters"), ("PUT", "/counters/a"),
                                 ("DELETE", "/counters/a"), ("GET", "/dashboard"),
                                 ("GET", "/dashboard.js")]:
                status, _, body = s.request(method, path, headers=BEARER, body="{}")
                self.assertEqual((status, json.loads(body)["error"]), (404, "not_found"),
                                 (method, path))
            self.assertEqual(s.count("a"), 1)
            status, _, _ = s.request("GET", "/history/a")
            self.assertEqual(status, 200)  # history is public unless --private-stats

    def test_wrong_or_missing_token_is_401(self):
        with self.server() as s:
            s.request("GET", "/count/a")
            for headers, challenge in [({}, 'Bearer realm="visitor-counter"'),
                                       ({"Authorization": "Bearer " + TOKEN + "x"},
                                        'Bearer realm="visitor-counter", error="invalid_token"'),
                                       ({"Authorization": "Basic " + TOKEN}, None)]:
                for method, path in [("GET", "/counters"), ("PUT", "/counters/a"),
                                     ("DELETE", "/counters/a")]:
                    status, answer, body = s.request(method, path, headers=headers,
                                                     body='{"views":5}')
                    self.assertEqual(status, 401, (method, path, headers))
                    self.assertEqual(json.loads(body)["error"], "unauthorized")
                    self.assertTrue(answer["www-authenticate"].startswith("Bearer"))
                    if challenge:
                        self.assertEqual(answer["www-authenticate"], challenge)
            self.assertEqual(s.count("a"), 1)  # nothing changed
            status, _, _ = s.request("GET", "/dashboard")
            self.assertEqual(status, 200)  # the page itself holds no data

    def test_admin_answers_never_let_another_site_read_them(self):
        origin = {"Origin": "https://blog.example"}
        with self.server("--allow-origin", "https://blog.example") as s:
            s.request("GET", "/count/a")
            status, headers, _ = s.request("GET", "/counters", headers={**BEARER, **origin})
            self.assertEqual(status, 200)
            self.assertNotIn("access-control-allow-origin", headers)
            self.assertEqual(headers["cache-control"], "no-store")
            status, headers, _ = s.request("PUT", "/counters/a", headers={**BEARER, **origin},
                                           body='{"views":3}')
            self.assertEqual(status, 200)
            self.assertNotIn("access-control-allow-origin", headers)
            status, headers, _ = s.request("OPTIONS", "/counters/a", headers={
                **origin, "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization"})
            self.assertEqual(status, 204)
            self.assertEqual(headers["access-control-allow-methods"], "GET, OPTIONS")
            self.assertNotIn("authorization", headers["access-control-allow-headers"].lower())
            # The public read still works for that site.
            status, headers, _ = s.request("GET", "/counters/a", headers=origin)
            self.assertEqual(headers["access-control-allow-origin"], "https://blog.example")

    def test_the_owner_reads_history_whatever_the_origin_rules(self):
        with self.server("--require-origin") as s:
            s.request("GET", "/count/a", headers={"Origin": "http://127.0.0.1:%d" % s.port})
            status, _, _ = s.request("GET", "/history/a")
            self.assertEqual(status, 403)  # without the token: the origin rules apply
            status, headers, body = self.get_json(s, "/history/a")
            self.assertEqual((status, body["days"][-1]["views"]), (200, 1))
            self.assertNotIn("access-control-allow-origin", headers)

    # --- history ----------------------------------------------------------------------------

    def test_history_fills_missing_days_with_zeros(self):
        self.seed(export_text([("blog/post", 10, 6, [(day(-40), 1, 1), (day(-2), 4, 2),
                                                     (day(-1), 5, 3)])]))
        with self.server() as s:
            s.request("GET", "/count/blog/post")
            status, headers, body = self.get_json(s, "/history/blog/post", headers={})
            self.assertEqual(status, 200)
            self.assertEqual((body["key"], body["from"], body["to"]),
                             ("blog/post", day(-29), day(0)))
            self.assertEqual(len(body["days"]), 30)
            by_date = {d["date"]: (d["views"], d["visitors"]) for d in body["days"]}
            self.assertEqual(by_date[day(-2)], (4, 2))
            self.assertEqual(by_date[day(-1)], (5, 3))
            self.assertEqual(by_date[day(0)], (1, 1))
            self.assertEqual(by_date[day(-3)], (0, 0))
            self.assertEqual([d["date"] for d in body["days"]], sorted(by_date))
            path = "/history/blog/post?from=%s&to=%s" % (day(-45), day(-1))
            _, _, body = self.get_json(s, path, headers={})
            self.assertEqual(len(body["days"]), 45)
            self.assertEqual(body["days"][5], {"date": day(-40), "views": 1, "visitors": 1})
            self.assertEqual(sum(d["views"] for d in body["days"]), 10)

    def test_bad_history_requests(self):
        with self.server() as s:
            s.request("GET", "/count/a")
            for query, error in [("from=%s&to=%s" % (day(-1), day(-2)), "bad_range"),
                                 ("from=%s&to=%s" % (day(-366), day(0)), "bad_range"),
                                 ("from=2026-02-30", "bad_range"), ("to=yesterday", "bad_range"),
                                 ("from=%zz", "bad_query"), ("days=0", "bad_query"),
                                 ("form=" + day(-3), "bad_query")]:
                status, _, body = self.get_json(s, "/history/a?" + query, headers={})
                self.assertEqual((status, body["error"]), (400, error), query)
            status, _, body = self.get_json(s, "/history/a?from=%s&to=%s" % (day(-365), day(0)))
            self.assertEqual((status, len(body["days"])), (200, 366))
            status, _, body = self.get_json(s, "/history/never-counted", headers={})
            self.assertEqual((status, body["error"]), (404, "not_found"))
            status, _, body = self.get_json(s, "/history/a%2F..%2Fb", headers={})
            self.assertEqual((status, body["error"]), (400, "bad_key"))

    def test_private_stats_needs_the_token(self):
        with self.server("--private-stats") as s:
            s.request("GET", "/count/a")
            status, _, _ = s.request("GET", "/history/a")
            self.assertEqual(status, 401)
            status, _, _ = s.request("GET", "/badge/a.svg?period=7d")
            self.assertEqual(status, 401)
            status, _, body = self.get_json(s, "/history/a")
            self.assertEqual((status, body["days"][-1]["views"]), (200, 1))

    def test_period_badge_shows_recent_views_without_counting(self):
        self.seed(export_text([("home", 100, 50, [(day(-20), 30, 10), (day(-3), 7, 5)])]))
        with self.server() as s:
            s.request("GET", "/count/home")
            status, headers, svg = s.request("GET", "/badge/home.svg?period=7d")
            self.assertEqual(status, 200)
            self.assertIn(">8<", svg)  # 7 three days ago + 1 today
            _, _, svg = s.request("GET", "/badge/home.svg?period=30d")
            self.assertIn(">38<", svg)
            status, _, body = s.request("GET", "/badge/home.svg?period=1y")
            self.assertEqual((status, json.loads(body)["error"]), (400, "bad_option"))
            self.assertEqual(s.count("home"), 101)  # the badges counted nothing

    # --- the admin API ----------------------------------------------------------------------

    def test_listing_by_prefix_with_paging_and_recent_days(self):
        self.seed(export_text([("a", 1, 1, [(day(-3), 1, 1)]), ("b/c", 2, 2, []),
                               ("b/d", 3, 1, [(day(-1), 3, 1)]), ("b/e", 4, 4, []),
                               ("z", 5, 5, [])]))
        with self.server() as s:
            status, _, body = self.get_json(s, "/counters")
            self.assertEqual(status, 200)
            self.assertEqual([c["key"] for c in body["counters"]], ["a", "b/c", "b/d", "b/e", "z"])
            self.assertIsNone(body["next"])
            first = body["counters"][0]
            self.assertEqual(first, {"key": "a", "count": 1, "views": 1, "visitors": 1,
                                     "last_day": day(-3)})
            self.assertIsNone(body["counters"][1]["last_day"])
            keys, cursor = [], ""
            while True:
                _, _, page = self.get_json(s, "/counters?prefix=b/&limit=2" + cursor)
                self.assertLessEqual(len(page["counters"]), 2)
                keys += [c["key"] for c in page["counters"]]
                if page["next"] is None:
                    break
                cursor = "&cursor=" + page["next"]
            self.assertEqual(keys, ["b/c", "b/d", "b/e"])
            _, _, body = self.get_json(s, "/counters?prefix=b/d&days=7")
            [only] = body["counters"]
            self.assertEqual(len(only["days"]), 7)
            self.assertEqual(only["days"][-1]["date"], day(0))
            self.assertEqual(only["days"][-2], {"date": day(-1), "views": 3, "visitors": 1})
            for query in ["limit=0", "limit=1001", "days=0", "days=367", "limit=x",
                          "prefix=" + "p" * 129, "perfix=b", "limit=5&x=1"]:
                status, _, body = self.get_json(s, "/counters?" + query)
                self.assertEqual((status, body["error"]), (400, "bad_query"), query)

    def test_put_sets_totals_and_keeps_history(self):
        with self.server() as s:
            s.request("GET", "/count/old/page")
            status, _, body = s.request("PUT", "/counters/old/page", headers=BEARER,
                                        body='{"views": 5000, "visitors": 1200}')
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body), {"key": "old/page", "count": 5000, "views": 5000,
                                                "visitors": 1200})
            _, _, body = s.request("GET", "/count/old/page")
            self.assertEqual(json.loads(body)["count"], 5001)
            _, _, history = self.get_json(s, "/history/old/page", headers={})
            self.assertEqual(history["days"][-1]["views"], 2)  # only the two real hits
            status, _, body = s.request("PUT", "/counters/brand-new", headers=BEARER,
                                        body='{"visitors": 7}')
            self.assertEqual(json.loads(body), {"key": "brand-new", "count": 0, "views": 0,
                                                "visitors": 7})
            for bad in ['', 'not json', '[]', '{}', '{"views": -1}', '{"views": 1.5}',
                        '{"views": "5"}', '{"count": 5}', '{"views": 9007199254740992}']:
                status, _, body = s.request("PUT", "/counters/old/page", headers=BEARER, body=bad)
                self.assertEqual((status, json.loads(body)["error"]), (400, "bad_body"), bad)
            status, _, body = s.request("PUT", "/counters/..", headers=BEARER, body='{"views":1}')
            self.assertEqual((status, json.loads(body)["error"]), (400, "bad_key"))
            self.assertEqual(s.count("old/page"), 5001)

    def test_delete_removes_the_counter_and_its_history(self):
        self.seed(export_text([("gone", 9, 3, [(day(-5), 9, 3)]), ("gone/child", 1, 1, [])]))
        with self.server() as s:
            status, _, body = s.request("DELETE", "/counters/gone", headers=BEARER)
            self.assertEqual((status, json.loads(body)), (200, {"key": "gone", "deleted": True}))
            status, _, _ = s.request("GET", "/counters/gone")
            self.assertEqual(status, 404)
            status, _, _ = s.request("GET", "/history/gone")
            self.assertEqual(status, 404)
            status, _, _ = s.request("DELETE", "/counters/gone", headers=BEARER)
            self.assertEqual(status, 404)
            self.assertEqual(s.count("gone/child"), 1)  # another key, untouched
            _, _, body = s.request("GET", "/count/gone")
            self.assertEqual(json.loads(body)["count"], 1)  # starts again from nothing
            _, _, history = self.get_json(s, "/history/gone?from=%s" % day(-10), headers={})
            self.assertEqual(sum(d["views"] for d in history["days"]), 1)


class SqliteOwnerTest(OwnerApi, unittest.TestCase):
    def setUp(self):
        import tempfile
        self.dir = tempfile.TemporaryDirectory(prefix="vc-owner-")

    def tearDown(self):
        self.dir.cleanup()

    def store(self):
        return "sqlite:" + self.dir.name + "/counter.db"

    def test_token_from_a_file_and_weak_tokens_refused(self):
        path = self.dir.name + "/token"
        with open(path, "w") as f:
            f.write(TOKEN + "\n")
        with Server("--admin-token-file", path, store=self.store()) as s:
            status, _, _ = s.request("GET", "/counters", headers=BEARER)
            self.assertEqual(status, 200)
        with self.assertRaisesRegex(RuntimeError, "at least 16 characters"):
            Server(store=self.store(), env={"VC_ADMIN_TOKEN": "short"}).start()
        with self.assertRaisesRegex(RuntimeError, "cannot read --admin-token-file"):
            Server("--admin-token-file", path + ".missing", store=self.store()).start()


    def test_keep_days_deletes_older_history_and_keeps_the_totals(self):
        self.seed(export_text([
            ("a", 50, 5, [(day(-40), 10, 1), (day(-30), 10, 1), (day(-29), 10, 1),
                          (day(-1), 20, 2)]),
            ("b", 10, 1, [(day(-100), 10, 1)])]))
        with self.server("--keep-days", "30") as s:
            self.assertEqual(s.request("GET", "/count/a")[0], 200)  # the first batch starts it
            deadline, days = time.monotonic() + 10, None
            while time.monotonic() < deadline:
                _, _, body = self.get_json(s, "/history/a?from=%s&to=%s" % (day(-45), day(0)))
                days = {d["date"]: d["views"] for d in body["days"] if d["views"]}
                if day(-30) not in days:
                    break
                time.sleep(0.05)
            # 30 days kept, today included: from 29 days ago.
            self.assertEqual(days, {day(-29): 10, day(-1): 20, day(0): 1})
            _, _, b = self.get_json(s, "/history/b?from=%s&to=%s" % (day(-120), day(0)))
            self.assertEqual(sum(d["views"] for d in b["days"]), 0)
            self.assertEqual(s.count("a"), 51)  # the totals stay
            self.assertEqual(s.count("b"), 10)


class DynamoDbOwnerTest(OwnerApi, TablePerTest, unittest.TestCase):
    def setUp(self):
        self.table = self.new_table()

    def store(self):
        return self.dynalite.store_url(self.table)

    def env(self):
        return DUMMY_CREDENTIALS

    def test_keep_days_gives_the_day_rows_a_ttl(self):
        with self.server("--keep-days", "30") as s:
            self.assertEqual(s.request("GET", "/count/a")[0], 200)
        row = self.dynalite.item(self.table, "a#day#" + day(0))
        start = int(datetime.datetime.fromisoformat(day(0)).replace(
            tzinfo=datetime.timezone.utc).timestamp())
        # Kept while it is one of the last 30 days: until the end of the 29th day after it.
        self.assertEqual(row["expires"], {"N": str(start + 30 * 86400)})
        self.assertEqual(row["views"], {"N": "1"})


if __name__ == "__main__":
    unittest.main()
