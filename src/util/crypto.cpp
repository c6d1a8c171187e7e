// SHA-256, HMAC-SHA-256 (one-shot and keyed) and hex on OpenSSL; random bytes from the
// kernel.
#include "util/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <sys/random.h>

#include <cerrno>

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

struct HmacSha256::Context {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
};

HmacSha256::HmacSha256(std::span<const unsigned char> key) : context_(new Context) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  context_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (context_->mac != nullptr) context_->ctx = EVP_MAC_CTX_new(context_->mac);
  if (context_->ctx == nullptr ||
      EVP_MAC_init(context_->ctx, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(context_->ctx);
    EVP_MAC_free(context_->mac);
    delete context_;
    context_ = nullptr;
  }
}

HmacSha256::~HmacSha256() {
  if (context_ == nullptr) return;
  EVP_MAC_CTX_free(context_->ctx);
  EVP_MAC_free(context_->mac);
  delete context_;
}

std::optional<Digest> HmacSha256::sign(std::string_view data) {
  if (context_ == nullptr) return std::nullopt;
  Digest out{};
  std::size_t size = 0;
  const auto bytes = as_bytes(data);
  // No key: HMAC starts again from the key's hashed blocks, kept since construction.
  if (EVP_MAC_init(context_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(context_->ctx, bytes.data(), bytes.size()) != 1 ||
      EVP_MAC_final(context_->ctx, out.data(), &size, out.size()) != 1 || size != out.size()) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> random_bytes(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t filled = 0; filled < size;) {
    const ssize_t got = getrandom(out.data() + filled, size - filled, 0);
    if (got < 0 && errno != EINTR) return std::nullopt;
    if (got > 0) filled += static_cast<std::size_t>(got);
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
