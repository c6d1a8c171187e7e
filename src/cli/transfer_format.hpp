// The export format, read and written: JSON Lines whose first line names the format and its
// version, then one counter per line with its totals and its daily history:
//   {"format":"visitor-counter","version":1}
//   {"key":"blog/post","views":120,"visitors":80,"days":[["2026-11-01",5,3],...]}
// Days are [date, views, visitors], ascending. Import also reads a two-column CSV `key,count`
// (the shape other counters export; an optional `key,count` header line), whose counts
// become views. Pure.
#pragma once

#include <expected>
#include <istream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace cli {

inline constexpr int kFormatVersion = 1;

// The first line of an export, without its newline.
std::string header_line();

// One counter's line, without its newline.
std::string record_line(const store::CounterRecord& record);

// Every record of `in` (an export or a CSV), each checked: a valid key at most once, whole
// numbers from 0 to 2^53 - 1, real dates in ascending order, no unknown field. Fails with
// "line N: reason" at the first bad line.
std::expected<std::vector<store::CounterRecord>, std::string> read_records(std::istream& in);

}  // namespace cli
