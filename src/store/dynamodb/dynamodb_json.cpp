// DynamoDB JSON codec on Boost.JSON: objects built in wire order, parsing via error codes.
#include "store/dynamodb/dynamodb_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

namespace store::dynamodb {
namespace json = boost::json;
namespace {

constexpr std::string_view kKeyAttribute = "id";
constexpr std::string_view kCountAttribute = "count";
constexpr std::string_view kVisitorsAttribute = "visitors";

json::object number_value(std::int64_t n) { return json::object{{"N", std::to_string(n)}}; }

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

std::string add_request(std::string_view table, std::string_view id,
                        std::initializer_list<Addend> addends, bool return_new) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  std::string expression = "ADD ";
  json::object names;
  json::object values;
  std::size_t i = 0;
  for (const Addend& addend : addends) {
    const std::string n = std::to_string(i++);
    if (i > 1) expression += ", ";
    expression += "#a" + n + " :v" + n;
    names["#a" + n] = addend.attribute;
    values[":v" + n] = number_value(addend.value);
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

std::string put_once_request(std::string_view table, std::string_view id, std::string_view name,
                             std::string_view value, std::int64_t expires) {
  json::object item = key_of(id);
  item[name] = json::object{{"S", value}};
  item["expires"] = number_value(expires);
  json::object body;
  body["TableName"] = table;
  body["Item"] = std::move(item);
  body["ConditionExpression"] = "attribute_not_exists(#id)";
  body["ExpressionAttributeNames"] = json::object{{"#id", kKeyAttribute}};
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

std::string delete_item_request(std::string_view table, std::string_view id) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(id);
  return json::serialize(body);
}

std::string describe_table_request(std::string_view table) {
  json::object body;
  body["TableName"] = table;
  return json::serialize(body);
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

std::expected<std::optional<std::string>, std::string> parse_get_string_response(
    std::string_view body, std::string_view name) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  auto item = optional_object(*object, "Item");
  if (!item) return std::unexpected(item.error());
  if (*item == nullptr) return std::optional<std::string>();
  const json::object* attribute = member_object(**item, name);
  const std::string_view text = attribute != nullptr ? string_member(*attribute, "S") : "";
  if (text.empty()) return std::unexpected("item has no string attribute " + std::string(name));
  return std::optional<std::string>(std::string(text));
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
