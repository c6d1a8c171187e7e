// Durable files: fsync, rename, fsync of the folder.
#include "util/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace util {
namespace {

// "cannot WHAT PATH: REASON".
std::unexpected<std::string> failure(std::string_view what, const std::string& path,
                                     std::string_view reason) {
  std::string line = "cannot ";
  line.append(what).append(" ").append(path).append(": ").append(reason);
  return std::unexpected(std::move(line));
}

std::expected<void, std::string> sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return failure("open", path, std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!synced) return failure("sync", path, std::strerror(error));
  return {};
}

}  // namespace

std::expected<void, std::string> rewrite_durably(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return {};
  if (fd < 0) return failure("open", path, std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  off_t at = 0;
  int error = 0;
  for (;;) {
    const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), at);
    if (got <= 0) {
      error = got < 0 ? errno : 0;
      break;
    }
    if (::pwrite(fd, buffer.data(), static_cast<std::size_t>(got), at) != got) {
      error = errno != 0 ? errno : EIO;
      break;
    }
    at += got;
  }
  if (error == 0 && ::fdatasync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) return failure("rewrite", path, std::strerror(error));
  return {};
}

std::expected<void, std::string> sync_folder_of(const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  return sync_path(folder.empty() ? std::string(".") : folder.string(), O_RDONLY | O_DIRECTORY);
}

std::expected<void, std::string> sync_and_rename(const std::string& path,
                                                 const std::string& target) {
  if (auto synced = sync_path(path, O_RDONLY); !synced) return synced;
  std::error_code ec;
  std::filesystem::rename(path, target, ec);
  if (ec) return failure("rename", path, ec.message());
  return sync_folder_of(target);
}

}  // namespace util
