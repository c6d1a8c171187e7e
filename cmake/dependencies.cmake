# Third-party libraries, all from Debian packages (scripts/install-deps installs them):
# Boost 1.81 or newer (1.81 on Debian 12, 1.83 on Debian 13), OpenSSL 3, SQLite 3, and
# hiredis for the Redis store (VC_REDIS).
# VC_STATIC (the Lambda bootstrap) links every one of them statically.
if(VC_STATIC)
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  set(Boost_USE_STATIC_LIBS ON)
  set(OPENSSL_USE_STATIC_LIBS ON)
endif()
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 CONFIG REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
if(VC_REDIS)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(hiredis REQUIRED IMPORTED_TARGET hiredis)
endif()
