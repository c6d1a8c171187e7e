// Fuzz target: AWS Signature Version 4. Each input is a raw HTTP request (see
// fuzz_request.hpp; the SigV4 test suite's .req files are seeds), signed with the suite's
// credentials at the date of its X-Amz-Date header, without and with a session token.
// Invariants: signing is deterministic; it fails exactly when host or x-amz-date is
// missing or the date is malformed; a signature is 64 lower-case hex digits, the string
// to sign ends with the canonical request's SHA-256 and the Authorization header names
// it; the canonical path and query are fully encoded; a query whose letters and digits
// are written as %XX escapes signs alike; a session token is signed and handed back.
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"
#include "fuzz_check.hpp"
#include "fuzz_request.hpp"

namespace {

using fuzz::check;

constexpr std::string_view kRegion = "us-east-1";
constexpr std::string_view kService = "service";
constexpr std::string_view kToken = "FQoGZXIvYXdzEXAMPLETOKEN";

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  check(EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1,
        "OpenSSL hashes");
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += "0123456789abcdef"[digest[i] >> 4];
    hex += "0123456789abcdef"[digest[i] & 0xF];
  }
  return hex;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The values of the headers called `name` (any case), in order.
std::vector<std::string> find_headers(const fuzz::RawRequest& request, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : request.headers) {
    std::string lowered(key);
    for (char& c : lowered) c = lower(c);
    if (lowered == name) values.push_back(value);
  }
  return values;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }
bool is_alnum(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z'); }

// `query` with every letter and digit that is not part of a %XX escape written as one.
std::string escape_alnums(std::string_view query) {
  std::string out;
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (query[i] == '%' && i + 2 < query.size() && is_hex(query[i + 1]) && is_hex(query[i + 2])) {
      out += query.substr(i, 3);
      i += 2;
    } else if (is_alnum(query[i])) {
      out += '%';
      out += "0123456789ABCDEF"[static_cast<unsigned char>(query[i]) >> 4];
      out += "0123456789abcdef"[static_cast<unsigned char>(query[i]) & 0xF];
    } else {
      out += query[i];
    }
  }
  return out;
}

// Line `index` (from 0) of `text`, lines ending in '\n'.
std::string_view line_of(std::string_view text, std::size_t index) {
  for (; index > 0; --index) {
    const std::size_t lf = text.find('\n');
    if (lf == std::string_view::npos) return {};
    text.remove_prefix(lf + 1);
  }
  return text.substr(0, text.find('\n'));
}

bool same(const aws::SigV4Result& a, const aws::SigV4Result& b) {
  return a.canonical_request == b.canonical_request && a.string_to_sign == b.string_to_sign &&
         a.signature == b.signature && a.authorization == b.authorization &&
         a.headers_to_add == b.headers_to_add;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::RawRequest raw = fuzz::split_request({reinterpret_cast<const char*>(data), size});
  const std::string_view target = raw.target;
  const std::size_t question = target.find('?');
  aws::HttpRequestToSign request{.method = raw.method,
                                 .path = target.substr(0, question),
                                 .query = question == std::string_view::npos
                                              ? std::string_view{}
                                              : target.substr(question + 1),
                                 .headers = raw.headers,
                                 .body = raw.body};
  const std::vector<std::string> dates = find_headers(raw, "x-amz-date");
  const std::string amz_date = dates.empty() ? "20150830T123600Z" : dates.front();
  const aws::Credentials plain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  aws::Credentials with_token = plain;
  with_token.session_token = kToken;

  const auto signed_once = aws::sign_v4(request, plain, kRegion, kService, amz_date);
  const auto signed_again = aws::sign_v4(request, plain, kRegion, kService, amz_date);
  check(signed_once.has_value() == signed_again.has_value() &&
            (signed_once ? same(*signed_once, *signed_again)
                         : signed_once.error() == signed_again.error()),
        "signing is deterministic");

  const bool well_formed =
      amz_date.size() == 16 && amz_date[8] == 'T' && amz_date[15] == 'Z' &&
      std::string_view(amz_date).substr(0, 8).find_first_not_of("0123456789") ==
          std::string_view::npos &&
      std::string_view(amz_date).substr(9, 6).find_first_not_of("0123456789") ==
          std::string_view::npos;
  const bool signable = well_formed && !find_headers(raw, "host").empty() && !dates.empty();
  if (!signed_once) {
    check(!signable, "signing fails only without host or x-amz-date, or with a bad date");
    check(!signed_once.error().empty(), "a refusal has a reason");
    return 0;
  }
  check(signable, "signing needs host and a well-formed x-amz-date");

  const aws::SigV4Result& result = *signed_once;
  check(result.signature.size() == 64 && is_lower_hex(result.signature),
        "the signature is 64 lower-case hex digits");
  check(result.string_to_sign.ends_with("\n" + sha256_hex(result.canonical_request)),
        "the string to sign ends with the canonical request's hash");
  check(result.authorization.ends_with(", Signature=" + result.signature),
        "Authorization carries the signature");
  check(result.headers_to_add.size() == 1 && result.headers_to_add[0].first == "Authorization" &&
            result.headers_to_add[0].second == result.authorization,
        "without a token only Authorization is added");

  check(line_of(result.canonical_request, 0) == raw.method, "the canonical request's method");
  const std::string_view path = line_of(result.canonical_request, 1);
  const std::string_view query = line_of(result.canonical_request, 2);
  check(path.starts_with('/') &&
            path.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-._~/%") == std::string_view::npos,
        "the canonical path is encoded");
  check(query.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-._~%=&") == std::string_view::npos,
        "the canonical query is encoded");
  check(result.canonical_request.ends_with("\n" + sha256_hex(raw.body)),
        "the canonical request ends with the body's hash");

  const std::string escaped = escape_alnums(request.query);
  aws::HttpRequestToSign escaped_request = request;
  escaped_request.query = escaped;
  const auto signed_escaped = aws::sign_v4(escaped_request, plain, kRegion, kService, amz_date);
  check(signed_escaped && signed_escaped->signature == result.signature,
        "a query signs alike with its letters and digits escaped");

  const auto tokened = aws::sign_v4(request, with_token, kRegion, kService, amz_date);
  check(tokened.has_value(), "a session token does not make signing fail");
  if (find_headers(raw, "x-amz-security-token").empty()) {
    check(tokened->headers_to_add.size() == 2 &&
              tokened->headers_to_add[0].first == "X-Amz-Security-Token" &&
              tokened->headers_to_add[0].second == kToken,
          "a token from the credentials is handed back to send");
    check(tokened->canonical_request.find("\nx-amz-security-token:" + std::string(kToken) + "\n") !=
              std::string::npos,
          "a token from the credentials is signed");
  } else {
    check(same(*tokened, result), "a token header already sent is signed as sent");
  }
  return 0;
}
