# CMake toolchain file: cross-compiles for arm64 (aarch64, AWS Graviton) on an amd64 Debian
# machine with Debian's cross compiler (g++-aarch64-linux-gnu) and Debian's arm64 development
# packages installed side by side with the machine's own (multiarch: libssl-dev:arm64 and so
# on, in /usr/lib/aarch64-linux-gnu). The lambda-arm64 preset uses it; scripts/install-deps
# arm64 installs what it needs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch puts both architectures under /usr: find packages, libraries and headers in the
# arm64 folders only, so an amd64 libcrypto.a can never be picked up by mistake (the link
# would fail, but later and less clearly).
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
