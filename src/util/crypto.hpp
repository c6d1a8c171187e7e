// The few cryptographic primitives the program uses, over OpenSSL: SHA-256, HMAC-SHA-256
// (one-shot, or keyed once for many messages), random bytes (from the kernel), and lower-case
// hex. The free functions are pure and thread-safe.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace util {

using Digest = std::array<unsigned char, 32>;

// The bytes of `text`, as OpenSSL takes them.
inline std::span<const unsigned char> as_bytes(std::string_view text) {
  return {reinterpret_cast<const unsigned char*>(text.data()), text.size()};
}

// nullopt only if OpenSSL fails (it does not for these inputs in practice).
std::optional<Digest> sha256(std::string_view data);
std::optional<Digest> hmac_sha256(std::span<const unsigned char> key, std::string_view data);

// HMAC-SHA-256 under one key for many messages: the key's padded blocks are hashed once,
// not per message (the one-shot call also looks the algorithm up each time, which cost
// more than the hash on the counting path). Not thread-safe: one per thread.
class HmacSha256 {
 public:
  explicit HmacSha256(std::span<const unsigned char> key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // The same as hmac_sha256(key, data); nullopt only if OpenSSL fails.
  std::optional<Digest> sign(std::string_view data);

 private:
  struct Context;
  Context* context_;  // nullptr when OpenSSL could not set it up
};

// `size` bytes from the kernel's CSPRNG (getrandom(2), which blocks only until the pool is
// first initialised at boot), or nullopt when it cannot provide them. Not OpenSSL's
// RAND_bytes: its first call sets up the DRBG, 2-2.5 ms here, which a Lambda function's
// first hit (the day's salt) would wait for.
std::optional<std::string> random_bytes(std::size_t size);

// Whether `a` and `b` are equal, in time that depends on neither's content (only on their
// lengths, which it hides too by comparing their SHA-256 digests): for secrets.
bool secret_equals(std::string_view a, std::string_view b);

// Two lower-case hex digits per byte.
std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace util
