// DynamoDB JSON codec on Boost.JSON: objects built in wire order, parsing via error codes.
#include "store/dynamodb/dynamodb_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <functional>
#include <utility>

namespace store::dynamodb {
namespace json = boost::json;
namespace {

constexpr std::string_view kKeyAttribute = "id";
constexpr std::string_view kCountAttribute = "count";
constexpr std::string_view kVisitorsAttribute = "visitors";

json::object number_value(std::int64_t n) { return json::object{{"N", std::to_string(n)}}; }
json::object string_value(std::string_view s) { return json::object{{"S", s}}; }

json::object key_of(std::string_view key) {
  json::object value;
  value["S"] = key;
  json::object item_key;
  item_key[kKeyAttribute] = std::move(value);
  return item_key;
}

std::expected<json::object, std::string> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return std::unexpected("response is not JSON: " + ec.message());
  if (!parsed.is_object()) return std::unexpected(std::string("response is not a JSON object"));
  return std::move(parsed.as_object());
}

const json::object* member_object(const json::object& parent, std::string_view name) {
  const json::value* member = parent.if_contains(name);
  return member != nullptr ? member->if_object() : nullptr;
}

// The number in attribute value `{"N": "..."}`.
std::expected<std::int64_t, std::string> number_attribute(const json::object& attribute) {
  const json::value* number = attribute.if_contains("N");
  const json::string* text = number != nullptr ? number->if_string() : nullptr;
  if (text == nullptr) return std::unexpected(std::string("attribute is not a number (N)"));
  return parse_number(*text);
}

std::string_view string_member(const json::object& object, std::string_view name) {
  const json::value* member = object.if_contains(name);
  const json::string* text = member != nullptr ? member->if_string() : nullptr;
  return text != nullptr ? std::string_view(*text) : std::string_view();
}

}  // namespace

namespace {

// UpdateItem `ADD count :delta` on the item kCountersId, under `condition` (#n is `count`);
// `values` holds :delta and whatever else the condition names.
std::string counters_update(std::string_view table, std::string_view condition,
                            json::object values) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(kCountersId);
  body["UpdateExpression"] = "ADD #n :delta";
  body["ConditionExpression"] = condition;
  body["ExpressionAttributeNames"] = json::object{{"#n", "count"}};
  body["ExpressionAttributeValues"] = std::move(values);
  body["ReturnValues"] = "NONE";
  return json::serialize(body);
}

}  // namespace

std::string reserve_counter_request(std::string_view table, std::size_t max) {
  return counters_update(
      table, "attribute_not_exists(#n) OR #n < :max",
      {{":delta", number_value(1)}, {":max", number_value(static_cast<std::int64_t>(max))}});
}

std::string release_counter_request(std::string_view table) {
  return counters_update(table, "attribute_exists(#n)", {{":delta", number_value(-1)}});
}

std::string add_request(std::string_view table, std::string_view id,
                        std::initializer_list<NumberAttribute> addends, bool return_new,
                        std::optional<std::int64_t> expires) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  std::string expression = "ADD ";
  json::object names;
  json::object values;
  std::size_t i = 0;
  for (const NumberAttribute& addend : addends) {
    const std::string n = std::to_string(i++);
    if (i > 1) expression += ", ";
    expression += "#a" + n + " :v" + n;
    names["#a" + n] = addend.attribute;
    values[":v" + n] = number_value(addend.value);
  }
  if (expires) {
    expression += " SET #expires = :expires";
    names["#expires"] = "expires";
    values[":expires"] = number_value(*expires);
  }
  body["UpdateExpression"] = expression;
  body["ExpressionAttributeNames"] = std::move(names);
  body["ExpressionAttributeValues"] = std::move(values);
  body["ReturnValues"] = return_new ? "UPDATED_NEW" : "NONE";
  return json::serialize(body);
}

std::string mark_request(std::string_view table, std::string_view id, std::int64_t now,
                         std::int64_t expires, std::optional<std::int64_t> not_since) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  body["UpdateExpression"] = "SET #seen = :now, #expires = :expires";
  json::object names{{"#seen", "seen"}, {"#expires", "expires"}};
  json::object values{{":now", number_value(now)}, {":expires", number_value(expires)}};
  if (not_since) {
    body["ConditionExpression"] = "attribute_not_exists(#id) OR #seen <= :since";
    names["#id"] = kKeyAttribute;
    values[":since"] = number_value(*not_since);
  }
  body["ExpressionAttributeNames"] = std::move(names);
  body["ExpressionAttributeValues"] = std::move(values);
  body["ReturnValues"] = "ALL_OLD";
  return json::serialize(body);
}

std::string keep_first_request(std::string_view table, std::string_view id, std::string_view name,
                               std::string_view value, std::int64_t expires) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  body["UpdateExpression"] =
      "SET #name = if_not_exists(#name, :value), #expires = if_not_exists(#expires, :expires)";
  body["ExpressionAttributeNames"] = json::object{{"#name", name}, {"#expires", "expires"}};
  body["ExpressionAttributeValues"] =
      json::object{{":value", json::object{{"S", value}}}, {":expires", number_value(expires)}};
  body["ReturnValues"] = "ALL_NEW";
  return json::serialize(body);
}

std::string claim_request(std::string_view table, std::string_view id, std::string_view claim,
                          std::int64_t now, std::int64_t expires) {
  json::object item = key_of(id);
  item["claim"] = json::object{{"S", claim}};
  item["expires"] = number_value(expires);
  json::object body;
  body["TableName"] = table;
  body["Item"] = std::move(item);
  body["ConditionExpression"] = "attribute_not_exists(#id) OR #expires <= :now";
  body["ExpressionAttributeNames"] = json::object{{"#id", kKeyAttribute}, {"#expires", "expires"}};
  body["ExpressionAttributeValues"] = json::object{{":now", number_value(now)}};
  return json::serialize(body);
}

std::string answer_request(std::string_view table, std::string_view id, const Totals& totals) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  body["UpdateExpression"] = "SET #views = :v, #visitors = :u";
  body["ExpressionAttributeNames"] = json::object{{"#views", "views"}, {"#visitors", "visitors"}};
  body["ExpressionAttributeValues"] =
      json::object{{":v", number_value(totals.views)}, {":u", number_value(totals.visitors)}};
  return json::serialize(body);
}

std::string get_item_request(std::string_view table, std::string_view id) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  body["ConsistentRead"] = true;
  return json::serialize(body);
}

std::string delete_item_request(std::string_view table, std::string_view id, bool return_old) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  if (return_old) body["ReturnValues"] = "ALL_OLD";
  return json::serialize(body);
}

std::string describe_table_request(std::string_view table) {
  json::object body;
  body["TableName"] = table;
  return json::serialize(body);
}

std::string set_totals_request(std::string_view table, std::string_view id,
                               std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  std::string expression = "SET #count = ";
  json::object names{{"#count", kCountAttribute}};
  json::object values;
  if (views) {
    expression += ":v";
    values[":v"] = number_value(*views);
  } else {
    expression += "if_not_exists(#count, :zero)";
    values[":zero"] = number_value(0);
  }
  if (visitors) {
    expression += ", #visitors = :u";
    names["#visitors"] = kVisitorsAttribute;
    values[":u"] = number_value(*visitors);
  }
  body["UpdateExpression"] = expression;
  body["ExpressionAttributeNames"] = std::move(names);
  body["ExpressionAttributeValues"] = std::move(values);
  return json::serialize(body);
}

std::string batch_get_request(std::string_view table, std::span<const std::string> ids) {
  json::array keys;
  for (const std::string& id : ids) keys.push_back(key_of(id));
  json::object request{{"Keys", std::move(keys)}, {"ConsistentRead", true}};
  json::object items;
  items[table] = std::move(request);
  return json::serialize(json::object{{"RequestItems", std::move(items)}});
}

std::string batch_write_request(std::string_view table, std::span<const ItemWrite> writes) {
  json::array requests;
  for (const ItemWrite& write : writes) {
    if (write.put.empty()) {
      requests.push_back(json::object{{"DeleteRequest", json::object{{"Key", key_of(write.id)}}}});
      continue;
    }
    json::object item = key_of(write.id);
    for (const NumberAttribute& number : write.put) {
      item[number.attribute] = number_value(number.value);
    }
    requests.push_back(json::object{{"PutRequest", json::object{{"Item", std::move(item)}}}});
  }
  json::object items;
  items[table] = std::move(requests);
  return json::serialize(json::object{{"RequestItems", std::move(items)}});
}

namespace {

// A strongly consistent Scan of `table` with these expressions, from after item `start`.
std::string scan_request(std::string_view table, std::string_view filter,
                         std::string_view projection, json::object names, json::object values,
                         std::string_view start) {
  json::object body;
  body["TableName"] = table;
  body["FilterExpression"] = filter;
  body["ProjectionExpression"] = projection;
  body["ExpressionAttributeNames"] = std::move(names);
  body["ExpressionAttributeValues"] = std::move(values);
  body["ConsistentRead"] = true;
  if (!start.empty()) body["ExclusiveStartKey"] = key_of(start);
  return json::serialize(body);
}

}  // namespace

std::string counters_scan_request(std::string_view table, std::string_view prefix,
                                  std::string_view start) {
  std::string filter =
      "contains(#id, :day) OR (attribute_exists(#count) AND NOT contains(#id, :hash))";
  json::object values{{":day", string_value("#day#")}, {":hash", string_value("#")}};
  if (!prefix.empty()) {  // every id begins with ""
    filter = "begins_with(#id, :prefix) AND (" + filter + ")";
    values[":prefix"] = string_value(prefix);
  }
  json::object names{{"#id", kKeyAttribute},
                     {"#count", kCountAttribute},
                     {"#views", "views"},
                     {"#visitors", kVisitorsAttribute}};
  return scan_request(table, filter, "#id, #count, #views, #visitors", std::move(names),
                      std::move(values), start);
}

std::string prefix_scan_request(std::string_view table, std::span<const std::string> prefixes,
                                std::string_view start) {
  std::string filter;
  json::object values;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const std::string name = ":p" + std::to_string(i);
    if (i > 0) filter += " OR ";
    filter += "begins_with(#id, " + name + ")";
    values[name] = string_value(prefixes[i]);
  }
  return scan_request(table, filter, "#id", json::object{{"#id", kKeyAttribute}}, std::move(values),
                      start);
}

namespace {

// `count` (required) and `visitors` (absent: 0) of an attribute map.
std::expected<Totals, std::string> totals_of(const json::object& attributes) {
  const json::object* count = member_object(attributes, kCountAttribute);
  if (count == nullptr) return std::unexpected(std::string("no count attribute"));
  auto views = number_attribute(*count);
  if (!views) return std::unexpected("count: " + views.error());
  Totals totals{.views = *views, .visitors = 0};
  if (const json::object* visitors = member_object(attributes, kVisitorsAttribute)) {
    auto value = number_attribute(*visitors);
    if (!value) return std::unexpected("visitors: " + value.error());
    totals.visitors = *value;
  }
  return totals;
}

// The answer's `name` object (Item, Attributes), nullptr when absent, an error when not an
// object.
std::expected<const json::object*, std::string> optional_object(const json::object& answer,
                                                                std::string_view name) {
  const json::value* value = answer.if_contains(name);
  if (value == nullptr) return nullptr;
  const json::object* object = value->if_object();
  if (object == nullptr)
    return std::unexpected("response " + std::string(name) + " is not an object");
  return object;
}

}  // namespace

std::expected<Totals, std::string> parse_totals_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* attributes = member_object(*object, "Attributes");
  if (attributes == nullptr) return std::unexpected(std::string("response has no Attributes"));
  return totals_of(*attributes);
}

std::expected<std::optional<Totals>, std::string> parse_get_totals_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto item = optional_object(*object, "Item");
  if (!item) return std::unexpected(item.error());
  if (*item == nullptr || member_object(**item, kCountAttribute) == nullptr) {
    return std::optional<Totals>();
  }
  auto totals = totals_of(**item);
  if (!totals) return std::unexpected(totals.error());
  return std::optional<Totals>(*totals);
}

std::expected<std::optional<std::int64_t>, std::string> parse_mark_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto attributes = optional_object(*object, "Attributes");
  if (!attributes) return std::unexpected(attributes.error());
  if (*attributes == nullptr) return std::optional<std::int64_t>();
  const json::object* seen = member_object(**attributes, "seen");
  if (seen == nullptr) return std::optional<std::int64_t>();  // an item with no mark yet
  auto value = number_attribute(*seen);
  if (!value) return std::unexpected("seen: " + value.error());
  return std::optional<std::int64_t>(*value);
}

std::expected<std::string, std::string> parse_updated_string(std::string_view body,
                                                             std::string_view name) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* attributes = member_object(*object, "Attributes");
  const json::object* attribute =
      attributes != nullptr ? member_object(*attributes, name) : nullptr;
  const std::string_view text = attribute != nullptr ? string_member(*attribute, "S") : "";
  if (text.empty()) return std::unexpected("no string attribute " + std::string(name));
  return std::string(text);
}

std::expected<std::optional<AnswerRecord>, std::string> parse_answer_record(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto item = optional_object(*object, "Item");
  if (!item) return std::unexpected(item.error());
  if (*item == nullptr) return std::optional<AnswerRecord>();
  AnswerRecord record;
  if (const json::object* claim = member_object(**item, "claim")) {
    record.claim = std::string(string_member(*claim, "S"));
  }
  const json::object* views = member_object(**item, "views");
  const json::object* visitors = member_object(**item, "visitors");
  if (views != nullptr && visitors != nullptr) {
    auto v = number_attribute(*views);
    auto u = number_attribute(*visitors);
    if (!v || !u) return std::unexpected(std::string("answer record: bad views or visitors"));
    record.totals = Totals{.views = *v, .visitors = *u};
  }
  return std::optional<AnswerRecord>(std::move(record));
}

std::expected<std::string, std::string> parse_table_status(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* table = member_object(*object, "Table");
  const std::string_view status = table != nullptr ? string_member(*table, "TableStatus") : "";
  if (status.empty()) return std::unexpected(std::string("response has no Table.TableStatus"));
  return std::string(status);
}

namespace {

// The `id` of an item or key (`{"id": {"S": "..."}}`), "" when it has none.
std::string_view id_of(const json::object& item) {
  const json::object* id = member_object(item, kKeyAttribute);
  return id != nullptr ? string_member(*id, "S") : std::string_view();
}

std::expected<ReadItem, std::string> read_item(const json::value& value) {
  const json::object* item = value.if_object();
  const std::string_view id = item != nullptr ? id_of(*item) : std::string_view();
  if (id.empty()) return std::unexpected(std::string("an item has no string id"));
  ReadItem read;
  read.id = id;
  using Field = std::optional<std::int64_t> ReadItem::*;
  const std::pair<std::string_view, Field> fields[] = {{kCountAttribute, &ReadItem::count},
                                                       {"views", &ReadItem::views},
                                                       {kVisitorsAttribute, &ReadItem::visitors}};
  for (const auto& [name, field] : fields) {
    const json::object* attribute = member_object(*item, name);
    if (attribute == nullptr) continue;
    auto number = number_attribute(*attribute);
    if (!number) {
      return std::unexpected("item " + read.id.substr(0, 100) + ": " + std::string(name) + ": " +
                             number.error());
    }
    read.*field = *number;
  }
  return read;
}

// The items of array `value` (absent: none).
std::expected<std::vector<ReadItem>, std::string> read_items(const json::value* value) {
  std::vector<ReadItem> items;
  if (value == nullptr) return items;
  const json::array* array = value->if_array();
  if (array == nullptr) return std::unexpected(std::string("items are not an array"));
  for (const json::value& element : *array) {
    auto item = read_item(element);
    if (!item) return std::unexpected(item.error());
    items.push_back(std::move(*item));
  }
  return items;
}

// The ids in `value` (absent: none), an array of objects whose id `id_in` finds.
std::expected<std::vector<std::string>, std::string> ids_in(
    const json::value* value, const std::function<std::string_view(const json::object&)>& id_in) {
  std::vector<std::string> ids;
  if (value == nullptr) return ids;
  const json::array* array = value->if_array();
  if (array == nullptr) return std::unexpected(std::string("unprocessed items are not an array"));
  for (const json::value& element : *array) {
    const json::object* object = element.if_object();
    const std::string_view id = object != nullptr ? id_in(*object) : std::string_view();
    if (id.empty()) return std::unexpected(std::string("an unprocessed item has no string id"));
    ids.emplace_back(id);
  }
  return ids;
}

// The id of a BatchWriteItem request: {"PutRequest": {"Item": ...}} or
// {"DeleteRequest": {"Key": ...}}.
std::string_view write_id(const json::object& request) {
  constexpr std::pair<std::string_view, std::string_view> kParts[] = {{"PutRequest", "Item"},
                                                                      {"DeleteRequest", "Key"}};
  for (const auto& [kind, part] : kParts) {
    const json::object* body = member_object(request, kind);
    const json::object* item = body != nullptr ? member_object(*body, part) : nullptr;
    if (item != nullptr) return id_of(*item);
  }
  return {};
}

}  // namespace

std::expected<ScanPage, std::string> parse_scan_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto items = read_items(object->if_contains("Items"));
  if (!items) return std::unexpected(items.error());
  ScanPage page{.items = std::move(*items), .last_key = {}};
  if (const json::value* last = object->if_contains("LastEvaluatedKey")) {
    const json::object* key = last->if_object();
    page.last_key = key != nullptr ? std::string(id_of(*key)) : std::string();
    if (page.last_key.empty()) return std::unexpected(std::string("LastEvaluatedKey has no id"));
  }
  return page;
}

std::expected<BatchGetAnswer, std::string> parse_batch_get_response(std::string_view body,
                                                                    std::string_view table) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* responses = member_object(*object, "Responses");
  auto items = read_items(responses != nullptr ? responses->if_contains(table) : nullptr);
  if (!items) return std::unexpected(items.error());
  const json::object* unprocessed = member_object(*object, "UnprocessedKeys");
  const json::object* ours = unprocessed != nullptr ? member_object(*unprocessed, table) : nullptr;
  auto ids = ids_in(ours != nullptr ? ours->if_contains("Keys") : nullptr, id_of);
  if (!ids) return std::unexpected(ids.error());
  return BatchGetAnswer{.items = std::move(*items), .unprocessed = std::move(*ids)};
}

std::expected<std::vector<std::string>, std::string> parse_batch_write_response(
    std::string_view body, std::string_view table) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* unprocessed = member_object(*object, "UnprocessedItems");
  return ids_in(unprocessed != nullptr ? unprocessed->if_contains(table) : nullptr, write_id);
}

std::expected<bool, std::string> parse_deleted_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto attributes = optional_object(*object, "Attributes");
  if (!attributes) return std::unexpected(attributes.error());
  return *attributes != nullptr && !(*attributes)->empty();
}

std::expected<std::int64_t, std::string> parse_number(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    std::string why = "number '";
    why.append(text.substr(0, 40)).append("' is not a 64-bit integer");
    return std::unexpected(std::move(why));
  }
  return value;
}

ServiceError parse_error_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return {};
  std::string_view type = string_member(*object, "__type");
  if (const std::size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  std::string_view message = string_member(*object, "message");
  if (message.empty()) message = string_member(*object, "Message");
  return ServiceError{std::string(type), std::string(message)};
}

}  // namespace store::dynamodb
