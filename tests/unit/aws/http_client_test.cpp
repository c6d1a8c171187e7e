// HttpClient against a real peer (tests/unit/aws/http_peer.py): keep-alive reuse,
// reconnecting after the peer closes, an IPv6 literal endpoint, deadlines, and TLS
// verification of the certificate chain and of the host name.
#include "aws/http_client.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace aws {
namespace {

namespace fs = std::filesystem;

// Runs the peer as a child process and reads the port it prints.
class Peer {
 public:
  explicit Peer(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::vector<char*> argv{const_cast<char*>("python3"), const_cast<char*>(VC_HTTP_PEER)};
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execvp("python3", argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[32] = {};
    if (out != nullptr && fgets(line, sizeof line, out) != nullptr) port_ = std::atoi(line);
    if (out != nullptr) fclose(out);
  }
  ~Peer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A self-signed certificate for DNS name "localhost" only.
class Certificate {
 public:
  Certificate() : dir_(fs::temp_directory_path() / ("vc-cert-" + std::to_string(getpid()))) {
    fs::create_directories(dir_);
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        key() + " -out " + cert() + " >/dev/null 2>&1";
    ok_ = std::system(command.c_str()) == 0;
  }
  ~Certificate() { fs::remove_all(dir_); }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }
  bool ok() const { return ok_; }

 private:
  fs::path dir_;
  bool ok_ = false;
};

HttpClient client_for(const std::string& url, HttpClientOptions options = {}) {
  auto endpoint = parse_endpoint(url);
  EXPECT_TRUE(endpoint.has_value()) << url;
  return HttpClient(*endpoint, std::move(options));
}

// Endpoint parsing itself is tested in endpoint_test.cpp.

TEST(HttpClient, ReusesTheConnectionAndReconnectsAfterClose) {
  Peer peer({});
  ASSERT_GT(peer.port(), 0);
  HttpClient client = client_for("http://127.0.0.1:" + std::to_string(peer.port()));
  auto first = client.send("GET", "/hello", {}, "");
  auto second = client.send("GET", "/hello", {}, "");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "hi");
  EXPECT_EQ(first->header("x-connection"), second->header("x-connection"));
  auto closing = client.send("GET", "/close", {}, "");
  ASSERT_TRUE(closing);
  auto after = client.send("POST", "/echo", {{"Content-Type", "text/plain"}}, "payload");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->body, "payload");
  EXPECT_NE(after->header("x-connection"), closing->header("x-connection"));
}

// The loopback interface has an IPv6 address (`ip -6 addr show lo`); the bracketed
// endpoint connects to it and sends the bracketed Host header.
TEST(HttpClient, ConnectsToAnIpv6Literal) {
  Peer peer({"--ipv6"});
  ASSERT_GT(peer.port(), 0) << "no IPv6 loopback (::1) on this machine?";
  const std::string port = std::to_string(peer.port());
  HttpClient client = client_for("http://[::1]:" + port);
  auto hello = client.send("GET", "/hello", {}, "");
  ASSERT_TRUE(hello) << hello.error().message;
  EXPECT_EQ(hello->body, "hi");
  auto host = client.send("GET", "/host", {}, "");
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_EQ(host->body, "[::1]:" + port);
}

// A request the peer received and then dropped without answering may have been acted on:
// a non-idempotent one is never resent, not even on a kept-alive connection that the
// client could take for stale; an idempotent one is resent once on a fresh connection.
TEST(HttpClient, AWrittenNonIdempotentRequestIsNeverResent) {
  Peer peer({});
  ASSERT_GT(peer.port(), 0);
  HttpClient client = client_for("http://127.0.0.1:" + std::to_string(peer.port()));
  auto resets = [&] { return client.send("GET", "/resets", {}, "").value().body; };
  ASSERT_TRUE(client.send("GET", "/hello", {}, ""));  // the connection is now kept alive
  auto once = client.send("POST", "/reset", {}, "x", {.timeout = {}, .idempotent = false});
  ASSERT_FALSE(once);
  EXPECT_EQ(once.error().kind, HttpError::Kind::io);
  EXPECT_TRUE(once.error().sent);
  EXPECT_EQ(resets(), "1");
  auto twice = client.send("POST", "/reset", {}, "x", {.timeout = {}, .idempotent = true});
  ASSERT_FALSE(twice);
  EXPECT_EQ(resets(), "3");  // the kept-alive attempt, then one more on a fresh connection
}

TEST(HttpClient, DeadlinesEndSlowExchangesAndRefusedConnects) {
  Peer peer({});
  HttpClientOptions short_deadline;
  short_deadline.request_timeout = std::chrono::milliseconds(300);
  HttpClient client = client_for("http://127.0.0.1:" + std::to_string(peer.port()), short_deadline);
  auto slow = client.send("GET", "/slow", {}, "");
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind, HttpError::Kind::timeout);
  EXPECT_TRUE(slow.error().sent);
  HttpClient nobody = client_for("http://127.0.0.1:1");
  auto refused = nobody.send("GET", "/", {}, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, HttpError::Kind::connect);
}

TEST(HttpClient, TlsVerifiesTheChainAndTheHostName) {
  Certificate certificate;
  ASSERT_TRUE(certificate.ok());
  Peer peer({certificate.cert(), certificate.key()});
  ASSERT_GT(peer.port(), 0);
  const std::string port = std::to_string(peer.port());

  HttpClientOptions trust_it;
  trust_it.ca_file = certificate.cert();
  HttpClient trusted = client_for("https://localhost:" + port, trust_it);
  auto ok = trusted.send("GET", "/hello", {}, "");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->body, "hi");

  HttpClient wrong_name = client_for("https://127.0.0.1:" + port, trust_it);
  auto mismatch = wrong_name.send("GET", "/hello", {}, "");
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind, HttpError::Kind::tls);

  HttpClient untrusted = client_for("https://localhost:" + port);  // the system CA bundle
  auto unknown = untrusted.send("GET", "/hello", {}, "");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, HttpError::Kind::tls);

  // The bundle is found at run time: $SSL_CERT_FILE comes before the system paths.
  ASSERT_EQ(setenv("SSL_CERT_FILE", certificate.cert().c_str(), 1), 0);
  HttpClient from_environment = client_for("https://localhost:" + port);
  unsetenv("SSL_CERT_FILE");
  auto found = from_environment.send("GET", "/hello", {}, "");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->body, "hi");
}

}  // namespace
}  // namespace aws
