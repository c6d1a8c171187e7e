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
  if (text == nullptr) return std::unexpected(std::string("attribute count is not a number (N)"));
  return parse_number(*text);
}

std::string_view string_member(const json::object& object, std::string_view name) {
  const json::value* member = object.if_contains(name);
  const json::string* text = member != nullptr ? member->if_string() : nullptr;
  return text != nullptr ? std::string_view(*text) : std::string_view();
}

}  // namespace

std::string update_item_request(std::string_view table, std::string_view key, std::int64_t delta) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(key);
  body["UpdateExpression"] = "ADD #count :n";
  body["ExpressionAttributeNames"] = json::object{{"#count", kCountAttribute}};
  body["ExpressionAttributeValues"] =
      json::object{{":n", json::object{{"N", std::to_string(delta)}}}};
  body["ReturnValues"] = "UPDATED_NEW";
  return json::serialize(body);
}

std::string get_item_request(std::string_view table, std::string_view key) {
  json::object body;
  body["TableName"] = table;
  body["Key"] = key_of(key);
  body["ConsistentRead"] = true;
  return json::serialize(body);
}

std::string describe_table_request(std::string_view table) {
  json::object body;
  body["TableName"] = table;
  return json::serialize(body);
}

std::expected<std::int64_t, std::string> parse_update_item_response(std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::object* attributes = member_object(*object, "Attributes");
  const json::object* count =
      attributes != nullptr ? member_object(*attributes, kCountAttribute) : nullptr;
  if (count == nullptr) return std::unexpected(std::string("response has no Attributes.count"));
  return number_attribute(*count);
}

std::expected<std::optional<std::int64_t>, std::string> parse_get_item_response(
    std::string_view body) {
  auto object = parse_object(body);
  if (!object) return std::unexpected(object.error());
  const json::value* item_value = object->if_contains("Item");
  if (item_value == nullptr) return std::optional<std::int64_t>();
  const json::object* item = item_value->if_object();
  if (item == nullptr) return std::unexpected(std::string("response Item is not an object"));
  const json::object* count = member_object(*item, kCountAttribute);
  if (count == nullptr) return std::optional<std::int64_t>();
  auto value = number_attribute(*count);
  if (!value) return std::unexpected(value.error());
  return std::optional<std::int64_t>(*value);
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
    return std::unexpected("count '" + std::string(text.substr(0, 40)) +
                           "' is not a 64-bit integer");
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
