"""The TLS reverse-proxy recipes, deploy/nginx/visitor-counter.conf and deploy/caddy/Caddyfile,
run for real in front of the real binary on 127.0.0.1 (with a test certificate for nginx and
Caddy's own local CA): a counting request over HTTPS counts, and an X-Forwarded-For the
client forges is not believed, so it cannot make one reader look like many."""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from dynalite import free_port  # noqa: E402
from redis_server import make_certificates  # noqa: E402
from server import Server  # noqa: E402

DEPLOY = os.path.join(os.path.dirname(__file__), "../../deploy")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"


def wait_for_port(port, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the proxy exited: %s" % proc.stderr.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the proxy did not listen on %d" % port)


def wait_for_certificate(port, proc, root, timeout=20):
    """Caddy listens before its local CA has issued the site's certificate, and until then
    it answers a handshake with an internal-error alert: wait for a handshake that succeeds
    with the root it wrote, and return the context that trusts it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the proxy exited: %s" % proc.stderr.read())
        try:
            context = ssl.create_default_context(cafile=root)
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                context.wrap_socket(raw, server_hostname="localhost").close()
            return context
        except (OSError, ssl.SSLError):  # no root file yet, or no certificate yet
            time.sleep(0.05)
    raise RuntimeError("the proxy served no trusted certificate on %d" % port)


class ProxyRecipes:
    """Subclasses start their proxy in front of `self.counter` and give its HTTPS port and an
    SSL context that trusts it."""

    def counted_through(self, port, context):
        answers = []
        for forged in ("203.0.113.1", "203.0.113.2", "198.51.100.7"):
            conn = http.client.HTTPSConnection("localhost", port, timeout=10, context=context)
            conn.request("GET", "/count/proxied", headers={"User-Agent": BROWSER,
                                                           "X-Forwarded-For": forged})
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read())))
            conn.close()
        return answers

    def check(self, port, context):
        answers = self.counted_through(port, context)
        self.assertEqual([status for status, _ in answers], [200, 200, 200])
        status, _, body = self.counter.request("GET", "/counters/proxied")
        totals = json.loads(body)
        self.assertEqual((totals["views"], totals["visitors"]), (3, 1))  # one reader, not three


class NginxRecipe(ProxyRecipes, unittest.TestCase):
    def test_nginx_in_front(self):
        with tempfile.TemporaryDirectory() as folder, \
                Server("--trust-proxy", "127.0.0.1") as counter:
            self.counter = counter
            make_certificates(folder, ["DNS:localhost"])
            port = free_port()
            with open(os.path.join(DEPLOY, "nginx/visitor-counter.conf")) as f:
                site = f.read()
            site = site.replace("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % port)
            site = re.sub(r"\n\s*listen \[::\]:443 ssl http2;", "", site)
            site = site.replace("counter.example.com;", "localhost;")
            site = site.replace("/etc/letsencrypt/live/counter.example.com/fullchain.pem",
                                os.path.join(folder, "server.crt"))
            site = site.replace("/etc/letsencrypt/live/counter.example.com/privkey.pem",
                                os.path.join(folder, "server.key"))
            site = site.replace("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % counter.port)
            conf = os.path.join(folder, "nginx.conf")
            with open(conf, "w") as f:
                f.write("daemon off; worker_processes 1; pid %s/nginx.pid; error_log stderr;\n"
                        "events { worker_connections 64; }\nhttp { access_log off;\n%s\n}\n"
                        % (folder, site))
            proxy = subprocess.Popen(["nginx", "-p", folder, "-c", conf], stderr=subprocess.PIPE,
                                     text=True)
            try:
                wait_for_port(port, proxy)
                context = ssl.create_default_context(cafile=os.path.join(folder, "ca.crt"))
                context.verify_flags |= ssl.VERIFY_X509_STRICT  # as Python 3.13 does by default
                self.check(port, context)
            finally:
                proxy.send_signal(signal.SIGQUIT)
                proxy.wait(timeout=10)
                proxy.stderr.close()


class CaddyRecipe(ProxyRecipes, unittest.TestCase):
    def test_caddy_in_front(self):
        with tempfile.TemporaryDirectory() as home, \
                Server("--trust-proxy", "127.0.0.1") as counter:
            self.counter = counter
            port, http_port = free_port(), free_port()
            with open(os.path.join(DEPLOY, "caddy/Caddyfile")) as f:
                site = f.read()
            site = site.replace("counter.example.com {", "localhost:%d {" % port)
            site = site.replace("reverse_proxy 127.0.0.1:8080",
                                "reverse_proxy 127.0.0.1:%d" % counter.port)
            caddyfile = os.path.join(home, "Caddyfile")
            with open(caddyfile, "w") as f:  # its own local CA, never the system's trust
                f.write("{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port %d\n"
                        "\thttps_port %d\n}\n%s" % (http_port, port, site))
            env = {**os.environ, "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
            proxy = subprocess.Popen(["caddy", "run", "--config", caddyfile, "--adapter",
                                      "caddyfile"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            try:
                root = os.path.join(home, "caddy/pki/authorities/local/root.crt")
                self.check(port, wait_for_certificate(port, proxy, root))
            finally:
                proxy.send_signal(signal.SIGTERM)
                proxy.wait(timeout=10)
                proxy.stderr.close()


if __name__ == "__main__":
    unittest.main()
