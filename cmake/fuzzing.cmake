# VC_FUZZ: the libFuzzer build (clang only; the `fuzz` preset). Every library is compiled
# with libFuzzer's coverage instrumentation plus ASan + UBSan, failing hard on any report;
# the targets in tests/fuzz add -fsanitize=fuzzer, which links libFuzzer's main().
if(VC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "VC_FUZZ needs clang (libFuzzer); the fuzz preset uses clang++-19")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)

  # libstdc++ 12 (Debian 12) implements std::stable_sort with its own deprecated
  # get_temporary_buffer, and clang, unlike GCC, reports that in the caller's code. Where
  # that happens, deprecation warnings are off in this build; the GCC builds keep them.
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-Werror=deprecated-declarations")
  check_cxx_source_compiles([[
    #include <algorithm>
    #include <string>
    #include <vector>
    int main() { std::vector<std::string> v; std::stable_sort(v.begin(), v.end()); }
  ]] VC_STABLE_SORT_WITHOUT_DEPRECATION)
  unset(CMAKE_REQUIRED_FLAGS)
  if(NOT VC_STABLE_SORT_WITHOUT_DEPRECATION)
    add_compile_options(-Wno-deprecated-declarations)
  endif()
endif()
