// The few JSON bodies the API answers, built directly (no allocation-heavy DOM on the hot
// path), and the error format of docs/http-api.md. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "app/message.hpp"
#include "store/store.hpp"

namespace app {

// `text` as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

// `{"count": N}`
std::string count_body(std::int64_t count);

// A JSON error response: {"error": code, "message": message}, plus "outcome": outcome when
// given (a failed counting request: "not_counted" or "unknown"). A 503 carries
// Retry-After: 1 (a 429's caller sets its own). `message` must not contain internals.
Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view outcome = {});

// A 200 with a JSON body, never cached.
Response json_ok(std::string body);

// The answer to a failed store call: 503, or 403 `too_many_counters` for a new counter past
// --max-counters. A counting answer (`counting`) says whether the hit may have counted:
// "outcome" is "not_counted" when nothing was applied, "unknown" when the write may have been.
Response unavailable(const store::StoreError& error, bool counting);

// `{"key":K,"count":C,"views":V,"visitors":U}`: a counter as GET /counters/{key} answers it,
// `count` being the total the counting endpoints answer.
std::string counter_body(std::string_view key, std::int64_t count, const store::Totals& totals);

}  // namespace app
