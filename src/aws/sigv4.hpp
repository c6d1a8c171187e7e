// AWS Signature Version 4 (header-based, AWS4-HMAC-SHA256) as a pure function of its inputs:
// no I/O, no clock, no shared state, so every function here is safe to call from any thread.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Empty for long-term credentials.
};

// The request exactly as it will be sent. The views must outlive the sign_v4 call.
struct HttpRequestToSign {
  std::string_view method;  // "GET", "POST", ...; used as given.
  // The path as sent on the request line. Empty means "/". It is normalized (empty and "."
  // segments dropped, ".." resolved) and then percent-encoded once more, as AWS requires for
  // every service except S3 (S3 is not supported). Any `%` in it thus becomes `%25`.
  std::string_view path;
  // The query as sent, without '?'. Escapes are decoded and re-encoded, so encoded and
  // unencoded forms sign alike. A '+' means a literal plus, not a space.
  std::string_view query;
  // Every header to sign, any name case, in the order sent; repeated names are joined with
  // ',' in that order. Must include `host` (with its port if not the default) and
  // `x-amz-date`. Values are signed trimmed, with each whitespace run (folded lines too)
  // squeezed to one space; the server does the same to what it receives.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // 64 lower-case hex digits.
  std::string authorization;  // The value of the Authorization header.
  // The headers the caller must add to the request, unchanged and in this order:
  // `X-Amz-Security-Token` (only when the signer added it, see sign_v4), then `Authorization`.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
};

// Signs `request` for `region` and `service` at `amz_date` ("YYYYMMDDTHHMMSSZ", UTC, equal to
// the request's x-amz-date header).
//
// Session tokens: when `credentials.session_token` is non-empty and the request has no
// x-amz-security-token header, the token is signed as if that header were present and is
// returned in `headers_to_add`. When the request already has the header, its value is signed
// as given and nothing is added. To send a token unsigned, sign without it and add the header
// afterwards.
//
// Fails, with a one-line reason, when `amz_date` is malformed, `host` or `x-amz-date` is
// missing, x-amz-date differs from `amz_date`, or OpenSSL cannot hash. Never throws except
// std::bad_alloc.
std::expected<SigV4Result, std::string> sign_v4(const HttpRequestToSign& request,
                                                const Credentials& credentials,
                                                std::string_view region, std::string_view service,
                                                std::string_view amz_date);

// `time` as "YYYYMMDDTHHMMSSZ" in UTC, truncated to the second, e.g. "20150830T123600Z".
// Precondition: the year is between 0 and 9999.
std::string amz_date(std::chrono::system_clock::time_point time);

}  // namespace aws
