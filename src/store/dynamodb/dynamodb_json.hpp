// Request bodies and response parsing for the DynamoDB JSON API (aws-wire.md §C), in the
// classic item shape: partition key `id` (S), counter attribute `count` (N). Pure functions
// on Boost.JSON that never throw (except std::bad_alloc); safe on any thread.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace store::dynamodb {

// UpdateItem: `ADD #count :n` on item `key`, returning the new value (UPDATED_NEW).
std::string update_item_request(std::string_view table, std::string_view key, std::int64_t delta);
// GetItem of item `key` with a strongly consistent read.
std::string get_item_request(std::string_view table, std::string_view key);
std::string describe_table_request(std::string_view table);

// The new `count` of an UpdateItem answer.
std::expected<std::int64_t, std::string> parse_update_item_response(std::string_view body);
// The item's `count`, or nullopt when there is no item (`{}`) or the item has no `count`.
std::expected<std::optional<std::int64_t>, std::string> parse_get_item_response(
    std::string_view body);
// The `Table.TableStatus` of a DescribeTable answer, e.g. "ACTIVE".
std::expected<std::string, std::string> parse_table_status(std::string_view body);

// A DynamoDB number (`{"N": "..."}` holds a string): only a plain integer that fits int64
// is accepted, so "1.5", "1e3", "" and overflow fail.
std::expected<std::int64_t, std::string> parse_number(std::string_view text);

struct ServiceError {
  std::string type;  // the `__type` name after '#', e.g. "ResourceNotFoundException"; may be empty
  std::string message;  // `message` or `Message`; may be empty
};

// Reads an error answer's body; a body that is not the usual JSON gives empty fields.
ServiceError parse_error_response(std::string_view body);

}  // namespace store::dynamodb
