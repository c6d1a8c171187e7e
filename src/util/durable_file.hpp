// Making a file and its name durable: the one place that fsyncs files and folders. Each call
// reports a failed sync and is never retried: after a failed fsync Linux may mark the lost
// pages clean, so a second call would "succeed" without them (docs/architecture.md).
#pragma once

#include <expected>
#include <string>

namespace util {

// fsyncs the folder that holds `path` ("." for a bare name), so that a file created, renamed
// or removed in it keeps its name after a power cut. Fails with a one-line reason.
std::expected<void, std::string> sync_folder_of(const std::string& path);

// Writes the file at `path` over itself, byte for byte, and fdatasyncs it: whatever the page
// cache holds for it reaches the disk, pages that an earlier failed sync left marked clean
// included. A missing file is fine (nothing to do). The caller makes sure nobody writes the
// file meanwhile. Fails with a one-line reason.
std::expected<void, std::string> rewrite_durably(const std::string& path);

// fsyncs the file at `path`, then renames it to `target` and syncs `target`'s folder: after
// success, `target` holds the file's content durably. Fails with a one-line reason, leaving
// `path` in place when the sync failed.
std::expected<void, std::string> sync_and_rename(const std::string& path,
                                                 const std::string& target);

}  // namespace util
