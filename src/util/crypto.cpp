// SHA-256, HMAC-SHA-256, random bytes and hex on OpenSSL.
#include "util/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace util {

std::optional<Digest> sha256(std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    return std::nullopt;
  }
  return out;
}

bool secret_equals(std::string_view a, std::string_view b) {
  const std::optional<Digest> left = sha256(a);
  const std::optional<Digest> right = sha256(b);
  return left && right && CRYPTO_memcmp(left->data(), right->data(), left->size()) == 0;
}

std::optional<Digest> hmac_sha256(std::span<const unsigned char> key, std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  const auto bytes = as_bytes(data);
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes.data(), bytes.size(),
           out.data(), &size) == nullptr ||
      size != out.size()) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> random_bytes(std::size_t size) {
  std::string out(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) != 1) {
    return std::nullopt;
  }
  return out;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

}  // namespace util
