// The program's version and the commit it was built from (cmake/version.cmake writes them
// at each build), for `visitor-counter --version`.
#pragma once

#include <string_view>

namespace config {

std::string_view version();  // "0.1.0": the project's version (CMakeLists.txt, CHANGELOG.md)
std::string_view commit();   // the short git commit, "-dirty" when uncommitted; or "unknown"

}  // namespace config
