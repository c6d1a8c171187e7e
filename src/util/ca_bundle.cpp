// The CA bundle search.
#include "util/ca_bundle.hpp"

#include <cstdlib>
#include <filesystem>

namespace util {
namespace {

constexpr const char* kCaBundles[] = {
    "/etc/pki/tls/certs/ca-bundle.crt",    // Amazon Linux 2023 (the Lambda image)
    "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu
    "/etc/ssl/cert.pem",                   // Alpine, macOS
};

}  // namespace

std::string find_ca_bundle(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("SSL_CERT_FILE"); env != nullptr && *env != '\0') return env;
  for (const char* path : kCaBundles) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path;
  }
  return {};
}

}  // namespace util
