// AWS Signature Version 4: canonical request, string to sign, signing key and signature.
// Pure and thread-safe: only local state, and the one-shot digests of util/crypto.hpp.
#include "aws/sigv4.hpp"

#include <algorithm>
#include <optional>
#include <span>

#include "util/crypto.hpp"
#include "util/percent.hpp"

namespace aws {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTokenHeader = "x-amz-security-token";

using util::as_bytes;
using util::Digest;
using util::hmac_sha256;
using util::sha256;
using util::to_hex;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// RFC 3986 encoding with upper-case hex; '/' is kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : as_bytes(text)) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xF];
    }
  }
  return out;
}

// Decodes %XX escapes; a '%' not followed by two hex digits stays literal.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && util::hex_value(text[i + 1]) >= 0 &&
        util::hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(util::hex_value(text[i + 1]) * 16 + util::hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Calls `fn` on each piece of `text` between `separator`s, empty pieces included.
template <typename Fn>
void for_each_piece(std::string_view text, char separator, Fn&& fn) {
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    fn(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

std::string canonical_uri(std::string_view path) {
  std::vector<std::string_view> segments;
  for_each_piece(path, '/', [&](std::string_view segment) {
    if (segment.empty() || segment == ".") return;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      return;
    }
    segments.push_back(segment);
  });
  std::string normalized;
  for (std::string_view segment : segments) {
    normalized += '/';
    normalized += segment;
  }
  if (normalized.empty() || path.ends_with('/')) normalized += '/';
  return uri_encode(normalized, /*keep_slash=*/true);
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for_each_piece(query, '&', [&](std::string_view param) {
    if (param.empty()) return;
    const std::size_t equals = param.find('=');
    const std::string_view key = param.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view{} : param.substr(equals + 1);
    params.emplace_back(uri_encode(percent_decode(key), false),
                        uri_encode(percent_decode(value), false));
  });
  std::ranges::sort(params);
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims the value and squeezes each run of whitespace, line folds included, to one space.
std::string canonical_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct SignedHeaders {
  std::string canonical;  // "name:value\n" per header.
  std::string names;      // "name;name;...".
};

// `headers` holds lower-case names and canonical values, in the order sent.
SignedHeaders canonical_headers(HeaderList headers) {
  std::ranges::stable_sort(headers, {}, &HeaderList::value_type::first);
  SignedHeaders out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].first == headers[i - 1].first;
    if (repeat) {
      out.canonical.back() = ',';
    } else {
      out.canonical += headers[i].first + ':';
      if (!out.names.empty()) out.names += ';';
      out.names += headers[i].first;
    }
    out.canonical += headers[i].second + '\n';
  }
  return out;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
  const auto it = std::ranges::find(headers, name, &HeaderList::value_type::first);
  return it == headers.end() ? nullptr : &it->second;
}

bool is_valid_amz_date(std::string_view date) {
  if (date.size() != 16 || date[8] != 'T' || date[15] != 'Z') return false;
  return std::ranges::all_of(date.substr(0, 8), [](char c) { return c >= '0' && c <= '9'; }) &&
         std::ranges::all_of(date.substr(9, 6), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<Digest> signing_key(std::string_view secret, std::string_view date,
                                  std::string_view region, std::string_view service) {
  const std::string secret_key = "AWS4" + std::string(secret);
  std::optional<Digest> key = hmac_sha256(as_bytes(secret_key), date);
  for (std::string_view part : {region, service, std::string_view{"aws4_request"}}) {
    if (!key) break;
    key = hmac_sha256(*key, part);
  }
  return key;
}

// Lower-cases names and canonicalizes values; checks the headers sign_v4 requires.
std::expected<HeaderList, std::string> prepare_headers(const HeaderList& sent,
                                                       std::string_view amz_date) {
  HeaderList headers;
  headers.reserve(sent.size() + 1);
  for (const auto& [name, value] : sent) headers.emplace_back(lower(name), canonical_value(value));
  if (find_header(headers, "host") == nullptr) {
    return std::unexpected("sigv4: the request has no host header");
  }
  const std::string* date = find_header(headers, "x-amz-date");
  if (date == nullptr || *date != amz_date) {
    return std::unexpected("sigv4: the x-amz-date header is missing or differs from amz_date");
  }
  return headers;
}

std::optional<std::string> canonical_request(const HttpRequestToSign& request,
                                             const SignedHeaders& headers) {
  const std::optional<Digest> body_hash = sha256(request.body);
  if (!body_hash) return std::nullopt;
  return std::string(request.method) + '\n' + canonical_uri(request.path) + '\n' +
         canonical_query(request.query) + '\n' + headers.canonical + '\n' + headers.names + '\n' +
         to_hex(*body_hash);
}

}  // namespace

std::expected<SigV4Result, std::string> sign_v4(const HttpRequestToSign& request,
                                                const Credentials& credentials,
                                                std::string_view region, std::string_view service,
                                                std::string_view amz_date) {
  if (!is_valid_amz_date(amz_date)) {
    return std::unexpected("sigv4: amz_date is not YYYYMMDDTHHMMSSZ: " + std::string(amz_date));
  }
  std::expected<HeaderList, std::string> headers = prepare_headers(request.headers, amz_date);
  if (!headers) return std::unexpected(std::move(headers.error()));
  SigV4Result result;
  if (!credentials.session_token.empty() && find_header(*headers, kTokenHeader) == nullptr) {
    headers->emplace_back(kTokenHeader, canonical_value(credentials.session_token));
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const SignedHeaders signed_headers = canonical_headers(std::move(*headers));
  std::optional<std::string> creq = canonical_request(request, signed_headers);
  const std::optional<Digest> creq_hash = creq ? sha256(*creq) : std::nullopt;
  if (!creq_hash) return std::unexpected("sigv4: OpenSSL SHA-256 failed");
  result.canonical_request = std::move(*creq);

  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope =
      std::string(date) + '/' + std::string(region) + '/' + std::string(service) + "/aws4_request";
  result.string_to_sign = std::string(kAlgorithm) + '\n' + std::string(amz_date) + '\n' + scope +
                          '\n' + to_hex(*creq_hash);
  const std::optional<Digest> key =
      signing_key(credentials.secret_access_key, date, region, service);
  const std::optional<Digest> signature =
      key ? hmac_sha256(*key, result.string_to_sign) : std::nullopt;
  if (!signature) return std::unexpected("sigv4: OpenSSL HMAC-SHA256 failed");

  result.signature = to_hex(*signature);
  result.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id +
                         '/' + scope + ", SignedHeaders=" + signed_headers.names +
                         ", Signature=" + result.signature;
  result.headers_to_add.emplace_back("Authorization", result.authorization);
  return result;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto seconds_since_epoch = floor<seconds>(time);
  const auto day = floor<days>(seconds_since_epoch);
  const year_month_day date{day};
  const hh_mm_ss clock{seconds_since_epoch - day};
  std::string out;
  const auto append = [&out](long value, int width) {
    std::string digits(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0 && value > 0; --i, value /= 10) {
      digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    }
    out += digits;
  };
  append(static_cast<int>(date.year()), 4);
  append(static_cast<unsigned>(date.month()), 2);
  append(static_cast<unsigned>(date.day()), 2);
  out += 'T';
  append(clock.hours().count(), 2);
  append(clock.minutes().count(), 2);
  append(clock.seconds().count(), 2);
  out += 'Z';
  return out;
}

}  // namespace aws
