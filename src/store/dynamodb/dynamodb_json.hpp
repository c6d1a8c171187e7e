// Request bodies and response parsing for the DynamoDB JSON API, in the classic item shape
// (partition key `id` (S); a counter's views in `count` (N), its visitors in `visitors`)
// plus the items of the counting policy (see dynamodb_store.hpp for the layout). Pure functions
// on Boost.JSON that never throw (except std::bad_alloc); safe on any thread.
#pragma once

#include <cstdint>
#include <expected>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace store::dynamodb {

// The item that marks `visitor` as counted on counter `key` on `day`.
inline std::string mark_id(std::string_view key, std::string_view day, std::string_view visitor) {
  std::string id(key);
  id.append("#v#").append(day).append("#").append(visitor);
  return id;
}

// The item that remembers an Idempotency-Key's answer on counter `key`.
inline std::string answer_id(std::string_view key, std::string_view token) {
  std::string id = "#idem#";
  id.append(key).append("#").append(token);
  return id;
}

// One number attribute: to ADD, or of an item to put. `attribute` is a name that outlives
// the request (a literal).
struct NumberAttribute {
  std::string_view attribute;
  std::int64_t value;
};

// The item that counts counters, for --max-counters (not a counter: its id holds `#`).
inline constexpr std::string_view kCountersId = "#counters";

// UpdateItem on kCountersId: one counter more, only while fewer than `max` are counted; a
// ConditionalCheckFailedException when `max` are.
std::string reserve_counter_request(std::string_view table, std::size_t max);
// UpdateItem on kCountersId: one counter less, only where that count exists (a table that
// never had --max-counters gets no such item); a ConditionalCheckFailedException otherwise.
std::string release_counter_request(std::string_view table);

// UpdateItem: `ADD` each addend on item `id`; with `return_new`, the answer holds the new
// values (UPDATED_NEW); with `expires`, also `SET expires` (the TTL attribute) to it.
std::string add_request(std::string_view table, std::string_view id,
                        std::initializer_list<NumberAttribute> addends, bool return_new,
                        std::optional<std::int64_t> expires = std::nullopt);
// UpdateItem of a visitor mark: `SET seen = :now, expires = :expires`, returning the old
// item (ALL_OLD). With `not_since`, only when the mark is absent or its `seen` is at most
// that (else ConditionalCheckFailedException: the visitor is within the repeat window).
std::string mark_request(std::string_view table, std::string_view id, std::int64_t now,
                         std::int64_t expires, std::optional<std::int64_t> not_since);
// UpdateItem of item `id` that sets string attribute `name` to `value` and `expires`, each
// only where it is not set yet (`if_not_exists`), and answers the whole item (ALL_NEW): the
// first value written wins, in one request, and resending it changes nothing.
std::string keep_first_request(std::string_view table, std::string_view id, std::string_view name,
                               std::string_view value, std::int64_t expires);
// PutItem of an Idempotency-Key's record: `claim` (who counts it) and `expires`, only if
// absent or expired at `now`.
std::string claim_request(std::string_view table, std::string_view id, std::string_view claim,
                          std::int64_t now, std::int64_t expires);
// UpdateItem `SET views = :v, visitors = :u` on item `id`: an answer to remember.
std::string answer_request(std::string_view table, std::string_view id, const Totals& totals);
// GetItem of item `id` with a strongly consistent read.
std::string get_item_request(std::string_view table, std::string_view id);
// DeleteItem of item `id`; with `return_old`, the answer holds the deleted item (ALL_OLD).
std::string delete_item_request(std::string_view table, std::string_view id,
                                bool return_old = false);
std::string describe_table_request(std::string_view table);
// UpdateItem `SET` of a counter's `count` (views) and `visitors`: each given total is set; a
// missing `count` becomes 0 (so the item reads as a counter); a missing `visitors` is left as
// it is.
std::string set_totals_request(std::string_view table, std::string_view id,
                               std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors);
// BatchGetItem of items `ids` (1-100, distinct) with strongly consistent reads.
std::string batch_get_request(std::string_view table, std::span<const std::string> ids);

// One request of a BatchWriteItem on item `id`: a PutRequest of the item {id, `put`...}, or
// a DeleteRequest when `put` is empty.
struct ItemWrite {
  std::string id;
  std::vector<NumberAttribute> put;
};
// BatchWriteItem of `writes` (1-25, distinct ids).
std::string batch_write_request(std::string_view table, std::span<const ItemWrite> writes);

// Scan (strongly consistent) for the counters (ids without `#` that have `count`) and day
// rows (ids containing `#day#`) whose ids begin with `prefix` ("": all), projected to id,
// count, views and visitors; from after item `start` ("" from the beginning).
std::string counters_scan_request(std::string_view table, std::string_view prefix,
                                  std::string_view start);
// Scan (strongly consistent) for the ids (only) of the items whose id begins with any of
// `prefixes` (1 or more, none empty); from after item `start` ("" from the beginning).
std::string prefix_scan_request(std::string_view table, std::span<const std::string> prefixes,
                                std::string_view start);

// The new values of number attributes `count` and `visitors` in an UpdateItem answer
// (UPDATED_NEW); `visitors` may be absent (0).
std::expected<Totals, std::string> parse_totals_response(std::string_view body);
// A GetItem answer's `count` and `visitors` (absent: 0), or nullopt when there is no item
// or it has no `count`.
std::expected<std::optional<Totals>, std::string> parse_get_totals_response(std::string_view body);
// An ALL_OLD UpdateItem answer's `seen`: nullopt when there was no item.
std::expected<std::optional<std::int64_t>, std::string> parse_mark_response(std::string_view body);
// String attribute `name` of an UpdateItem answer's `Attributes`.
std::expected<std::string, std::string> parse_updated_string(std::string_view body,
                                                             std::string_view name);
// An Idempotency-Key's record in a GetItem answer: its `claim`, and its `views` and
// `visitors` once answered; nullopt when there is no item.
struct AnswerRecord {
  std::string claim;
  std::optional<Totals> totals;
};
std::expected<std::optional<AnswerRecord>, std::string> parse_answer_record(std::string_view body);
// The `Table.TableStatus` of a DescribeTable answer, e.g. "ACTIVE".
std::expected<std::string, std::string> parse_table_status(std::string_view body);

// An item read back: its id and the number attributes of counters and day rows, each
// nullopt when absent.
struct ReadItem {
  std::string id;
  std::optional<std::int64_t> count;  // a counter's views
  std::optional<std::int64_t> views;  // a day row's views
  std::optional<std::int64_t> visitors;
};
// One page of a Scan: its items, and the id to continue after (`LastEvaluatedKey`), or ""
// on the last page.
struct ScanPage {
  std::vector<ReadItem> items;
  std::string last_key;
};
std::expected<ScanPage, std::string> parse_scan_response(std::string_view body);
// A BatchGetItem answer on `table`: the items found (in no particular order) and the ids
// left unprocessed (to ask again).
struct BatchGetAnswer {
  std::vector<ReadItem> items;
  std::vector<std::string> unprocessed;
};
std::expected<BatchGetAnswer, std::string> parse_batch_get_response(std::string_view body,
                                                                    std::string_view table);
// The ids a BatchWriteItem answer on `table` left unprocessed (to write again).
std::expected<std::vector<std::string>, std::string> parse_batch_write_response(
    std::string_view body, std::string_view table);
// Whether an ALL_OLD DeleteItem answer says an item was deleted.
std::expected<bool, std::string> parse_deleted_response(std::string_view body);

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
