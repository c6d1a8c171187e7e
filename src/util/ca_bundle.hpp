// Where the trusted CA certificates are, for every TLS client of the program (the AWS
// client, the Redis client): the same rules everywhere.
#pragma once

#include <string>

namespace util {

// `configured` when set, else $SSL_CERT_FILE, else the first of the usual bundles that
// exists (Amazon Linux, Debian and Ubuntu, Alpine and macOS), else "" (then OpenSSL's default
// paths are used).
std::string find_ca_bundle(const std::string& configured);

}  // namespace util
