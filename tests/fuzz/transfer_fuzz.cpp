// Fuzz target: import files (cli/transfer_format). Each input is a whole file, an export or
// a CSV. Invariants: read_records never crashes; what it accepts keeps the rules (valid keys,
// each once, whole numbers from 0 to 2^53 - 1, real dates strictly ascending); and writing
// the accepted records back out as an export reads back to the very same records.
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include "app/key.hpp"
#include "cli/transfer_format.hpp"
#include "fuzz_check.hpp"
#include "util/utc_day.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using fuzz::check;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const auto records = cli::read_records(in);
  if (!records) {
    check(records.error().starts_with("line "), "a refusal names its line");
    return 0;
  }
  constexpr std::int64_t kMax = 9'007'199'254'740'991;
  std::set<std::string> keys;
  std::string file = cli::header_line() + "\n";
  for (const store::CounterRecord& record : *records) {
    check(app::is_valid_key(record.key), "keys are valid");
    check(keys.insert(record.key).second, "each key once");
    check(record.totals.views >= 0 && record.totals.views <= kMax, "views in range");
    check(record.totals.visitors >= 0 && record.totals.visitors <= kMax, "visitors in range");
    for (std::size_t i = 0; i < record.days.size(); ++i) {
      check(util::parse_utc_day(record.days[i].day).has_value(), "days are dates");
      check(i == 0 || record.days[i - 1].day < record.days[i].day, "days ascend");
      check(record.days[i].totals.views >= 0 && record.days[i].totals.visitors >= 0,
            "day totals are not negative");
    }
    file += cli::record_line(record) + "\n";
  }
  std::istringstream again(file);
  const auto reread = cli::read_records(again);
  check(reread.has_value() && *reread == *records, "an export of the records reads back the same");
  return 0;
}
