// Which counters may count (--keys): exact keys, and prefixes written with a trailing `*`
// (`blog/*` takes every key that starts with `blog/`). No patterns: every key may. A key
// outside them is never counted nor created, so a script cannot fill the store with new
// counters. Pure; copyable.
#pragma once

#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace counting::policy {

class KeyPatterns {
 public:
  // Every key may count.
  KeyPatterns() = default;
  // From patterns of 1-128 characters of A-Z a-z 0-9 - . _ ~ / with at most one `*`, at
  // the end. Fails naming the first bad pattern.
  static std::expected<KeyPatterns, std::string> parse(std::span<const std::string> patterns);

  // Adds `other`'s patterns to these.
  void merge(const KeyPatterns& other);

  bool allows(std::string_view key) const;
  bool empty() const { return exact_.empty() && prefixes_.empty(); }
  // The patterns as given, comma-separated ("" when empty), for the start-up line.
  std::string describe() const;

 private:
  std::vector<std::string> exact_;
  std::vector<std::string> prefixes_;  // without their `*`
};

}  // namespace counting::policy
