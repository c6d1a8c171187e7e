// Redis Store: batches and imports as Lua scripts, everything else as plain commands.
#include "store/redis/redis_store.hpp"

#include <charconv>
#include <map>

#include "store/redis/scripts.hpp"
#include "util/crypto.hpp"
#include "util/utc_day.hpp"

namespace store {
namespace {

using redis::Command;
using redis::Reply;

constexpr int kSaltSeconds = 2 * 24 * 60 * 60;

// A number from a reply that holds one (an integer, or a string of digits); nullopt for nil.
std::optional<std::int64_t> number_of(const Reply& reply) {
  if (reply.type == Reply::Type::integer) return reply.integer;
  if (reply.type != Reply::Type::string) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] =
      std::from_chars(reply.text.data(), reply.text.data() + reply.text.size(), value);
  if (ec != std::errc() || end != reply.text.data() + reply.text.size()) return std::nullopt;
  return value;
}

// Glob characters in `text` escaped for SCAN MATCH.
std::string glob_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

StoreError RedisStore::failure(const redis::ClientError& error) {
  failure_log_->log("redis: " + error.message +
                    (error.outcome_unknown ? " (the write may have applied; not resent)" : ""));
  return {error.message,
          error.outcome_unknown ? StoreError::Kind::outcome_unknown : StoreError::Kind::failed};
}

std::string RedisStore::name(std::string_view kind, std::string_view rest) const {
  std::string out = client_.config().prefix;
  out.append(kind).append(rest);
  return out;
}

std::expected<std::vector<Reply>, StoreError> RedisStore::run(std::span<const Command> commands) {
  auto replies = client_.run(commands);
  if (!replies) return std::unexpected(failure(replies.error()));
  for (const Reply& reply : *replies) {
    if (reply.type == Reply::Type::error) {
      return std::unexpected(StoreError{"Redis answered: " + reply.text});
    }
  }
  return std::move(*replies);
}

std::expected<Reply, StoreError> RedisStore::run(const Command& command) {
  auto replies = run(std::span<const Command>(&command, 1));
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

std::expected<Reply, redis::ClientError> RedisStore::script(std::string_view script_name,
                                                            const std::vector<std::string>& args) {
  const std::string body(redis::scripts::find_asset(script_name).value_or(""));
  auto sha = shas_.find(script_name);
  if (sha == shas_.end()) {
    auto loaded = client_.run(Command{"SCRIPT", "LOAD", body});
    if (!loaded) return std::unexpected(loaded.error());
    if (loaded->type != Reply::Type::string) {
      return std::unexpected(redis::ClientError{"SCRIPT LOAD failed: " + loaded->text});
    }
    sha = shas_.emplace(std::string(script_name), loaded->text).first;
  }
  Command call{"EVALSHA", sha->second, "0"};
  call.insert(call.end(), args.begin(), args.end());
  auto reply = client_.run(call);
  if (!reply || reply->type != Reply::Type::error || !reply->text.starts_with("NOSCRIPT")) {
    return reply;
  }
  call[0] = "EVAL";  // NOSCRIPT: Redis lost its script cache, and nothing ran
  call[1] = body;
  return client_.run(call);
}

StoreResult<bool> RedisStore::forget_before(std::string_view day) {
  if (keep_days_ == 0) return true;
  constexpr int kRetentionChunk = 100;  // counters per script: a few ms of Redis's time
  const std::vector<std::string> args{client_.config().prefix, retention_cursor_,
                                      std::to_string(kRetentionChunk),
                                      util::days_before(day, keep_days_ - 1)};
  auto reply = script("/forget_days.lua", args);
  if (!reply) return std::unexpected(failure(reply.error()));
  if (reply->type != Reply::Type::array || reply->elements.size() != 2) {
    return std::unexpected(StoreError{"the retention script failed: " + reply->text});
  }
  const bool reached_end = reply->elements[0].integer < kRetentionChunk;
  retention_cursor_ = reached_end ? std::string() : reply->elements[1].text;
  return reached_end;
}

std::expected<void, std::string> RedisStore::keep_days(int days) {
  keep_days_ = days;
  return {};
}

void RedisStore::add(const Batch& batch, const AddCallback& done) {
  std::vector<std::string> args{
      client_.config().prefix,
      std::string(batch.day),
      std::to_string(batch.now),
      std::to_string(batch.repeat_window),
      std::to_string(batch.marker_expires),
      std::to_string(kIdempotencySeconds),
      std::to_string(batch.keys.size()),
      batch.create_counters ? std::to_string(batch.max_counters) : std::string("-1"),
      batch.history ? "1" : "0"};
  std::size_t hit_count = 0;
  for (const KeyHits& key : batch.keys) {
    hit_count += key.hits.size();
    args.emplace_back(key.key);
    args.push_back(std::to_string(key.hits.size()));
    for (const Hit& hit : key.hits) {
      args.emplace_back(hit.visitor);
      args.emplace_back(hit.idempotency_key);
    }
  }
  const auto reply = script("/count_batch.lua", args);
  if (!reply) return report_batch(std::unexpected(failure(reply.error())), batch.keys.size(), done);
  if (reply->type != Reply::Type::array || reply->elements.size() != 3 * hit_count) {
    // A script error may come after some of its writes: the hits may have counted.
    const StoreError error{"the batch script failed: " + reply->text,
                           StoreError::Kind::outcome_unknown};
    return report_batch(std::unexpected(error), batch.keys.size(), done);
  }
  constexpr std::int64_t kRefused = 4;  // count_batch.lua: a new counter past the limit
  std::size_t at = 0;
  for (std::size_t k = 0; k < batch.keys.size(); ++k) {
    std::vector<HitResult> key_results;
    bool refused = false;
    for (std::size_t h = 0; h < batch.keys[k].hits.size(); ++h) {
      const auto seen = number_of(reply->elements[at]).value_or(1);
      refused = refused || seen == kRefused;
      key_results.push_back(
          {.seen = static_cast<Seen>(seen),
           .totals = {.views = number_of(reply->elements[at + 1]).value_or(0),
                      .visitors = number_of(reply->elements[at + 2]).value_or(0)}});
      at += 3;
    }
    if (refused) {
      done(k, std::unexpected(StoreError{"too many counters", StoreError::Kind::refused}));
    } else {
      done(k, std::move(key_results));
    }
  }
}

namespace {

// The totals of an HMGET of views and visitors; nullopt for a counter that never counted.
std::optional<Totals> totals_of(const Reply& reply) {
  if (reply.elements.size() != 2 || !number_of(reply.elements[0])) return std::nullopt;
  return Totals{.views = *number_of(reply.elements[0]),
                .visitors = number_of(reply.elements[1]).value_or(0)};
}

}  // namespace

StoreResult<std::optional<Totals>> RedisStore::get(std::string_view key) {
  auto reply = run(Command{"HMGET", name("c:", key), "views", "visitors"});
  if (!reply) return std::unexpected(reply.error());
  return totals_of(*reply);
}

StoreResult<std::vector<std::optional<Totals>>> RedisStore::get_many(
    std::span<const std::string> keys) {
  std::vector<Command> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) {
    commands.push_back(Command{"HMGET", name("c:", key), "views", "visitors"});
  }
  auto replies = run(commands);
  if (!replies) return std::unexpected(replies.error());
  std::vector<std::optional<Totals>> out;
  out.reserve(replies->size());
  for (const Reply& reply : *replies) out.push_back(totals_of(reply));
  return out;
}

StoreResult<std::string> RedisStore::salt(std::string_view day) {
  std::optional<std::string> fresh = util::random_bytes(32);
  if (!fresh) return std::unexpected(StoreError{"no random bytes for the day's salt"});
  const std::string key = name("salt:", day);
  const Command commands[] = {{"SET", key, *fresh, "NX", "EX", std::to_string(kSaltSeconds)},
                              {"GET", key}};
  auto replies = run(commands);
  if (!replies) return std::unexpected(replies.error());
  if ((*replies)[1].type != Reply::Type::string) {
    return std::unexpected(StoreError{"the day's salt is missing"});
  }
  return (*replies)[1].text;
}

StoreResult<std::vector<DayRow>> RedisStore::history(std::string_view key, std::string_view from,
                                                     std::string_view to) {
  const auto first = util::parse_utc_day(from);
  const auto last = util::parse_utc_day(to);
  if (!first || !last || *last - *first > std::chrono::days(366)) {
    return std::unexpected(StoreError{"bad day range"});
  }
  Command command{"HMGET", name("c:", key)};
  std::vector<std::string> days;
  for (auto day = *first; day <= *last; day += std::chrono::days(1)) {
    days.push_back(util::utc_day(day));
    command.push_back("v:" + days.back());
    command.push_back("u:" + days.back());
  }
  if (days.empty()) return std::vector<DayRow>{};
  auto reply = run(command);
  if (!reply) return std::unexpected(reply.error());
  std::vector<DayRow> rows;
  for (std::size_t i = 0; i < days.size() && 2 * i + 1 < reply->elements.size(); ++i) {
    const auto views = number_of(reply->elements[2 * i]);
    if (!views) continue;
    rows.push_back({days[i], {*views, number_of(reply->elements[2 * i + 1]).value_or(0)}});
  }
  return rows;
}

StoreResult<CounterPage> RedisStore::list(std::string_view prefix, std::string_view after,
                                          std::size_t limit) {
  CounterPage page;
  if (limit == 0) return page;
  const std::string min = after >= prefix ? "(" + std::string(after) : "[" + std::string(prefix);
  const std::string max = prefix.empty() ? "+" : "[" + std::string(prefix) + "\xff";
  auto keys = run(
      Command{"ZRANGEBYLEX", name("keys", ""), min, max, "LIMIT", "0", std::to_string(limit + 1)});
  if (!keys) return std::unexpected(keys.error());
  std::vector<Command> reads;
  for (std::size_t i = 0; i < keys->elements.size() && i < limit; ++i) {
    reads.push_back({"HMGET", name("c:", keys->elements[i].text), "views", "visitors", "last_day"});
  }
  if (keys->elements.size() > limit) page.next = keys->elements[limit - 1].text;
  if (reads.empty()) return page;
  auto rows = run(reads);
  if (!rows) return std::unexpected(rows.error());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const std::vector<Reply>& fields = (*rows)[i].elements;
    if (fields.size() != 3) continue;
    page.counters.push_back({keys->elements[i].text,
                             {number_of(fields[0]).value_or(0), number_of(fields[1]).value_or(0)},
                             fields[2].type == Reply::Type::string ? fields[2].text : ""});
  }
  return page;
}

StoreResult<void> RedisStore::set_totals(std::string_view key, std::optional<std::int64_t> views,
                                         std::optional<std::int64_t> visitors) {
  const std::string counter = name("c:", key);
  std::vector<Command> commands;
  for (const auto& [field, value] : {std::pair{"views", views}, std::pair{"visitors", visitors}}) {
    if (value) {
      commands.push_back({"HSET", counter, field, std::to_string(*value)});
    } else {
      commands.push_back({"HSETNX", counter, field, "0"});
    }
  }
  commands.push_back({"ZADD", name("keys", ""), "0", std::string(key)});
  auto replies = run(commands);
  if (!replies) return std::unexpected(replies.error());
  return {};
}

StoreResult<bool> RedisStore::remove(std::string_view key) {
  const Command removal[] = {{"DEL", name("c:", key)},
                             {"ZREM", name("keys", ""), std::string(key)}};
  auto removed = run(removal);
  if (!removed) return std::unexpected(removed.error());
  const std::string prefix = glob_escaped(client_.config().prefix);
  for (const std::string& pattern :
       {prefix + "m:*:" + std::string(key), prefix + "i:" + std::string(key) + ":*"}) {
    std::string cursor = "0";
    do {
      auto page = run(Command{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (!page) return std::unexpected(page.error());
      if (page->elements.size() != 2) return std::unexpected(StoreError{"SCAN answered oddly"});
      cursor = page->elements[0].text;
      Command del{"DEL"};
      for (const Reply& found : page->elements[1].elements) del.push_back(found.text);
      if (del.size() > 1) {
        if (auto deleted = run(del); !deleted) return std::unexpected(deleted.error());
      }
    } while (cursor != "0");
  }
  return (*removed)[1].integer > 0;
}

StoreResult<void> RedisStore::import(std::span<const CounterRecord> records, ImportMode mode) {
  std::vector<std::string> args{client_.config().prefix, mode == ImportMode::set ? "set" : "add",
                                std::to_string(records.size())};
  for (const CounterRecord& record : records) {
    args.push_back(record.key);
    args.push_back(std::to_string(record.totals.views));
    args.push_back(std::to_string(record.totals.visitors));
    args.push_back(std::to_string(record.days.size()));
    for (const DayRow& row : record.days) {
      args.push_back(row.day);
      args.push_back(std::to_string(row.totals.views));
      args.push_back(std::to_string(row.totals.visitors));
    }
  }
  auto reply = script("/import.lua", args);
  if (!reply) return std::unexpected(failure(reply.error()));
  if (reply->type == Reply::Type::error) {
    return std::unexpected(
        StoreError{"the import script failed: " + reply->text, StoreError::Kind::outcome_unknown});
  }
  return {};
}

StoreResult<void> RedisStore::dump(const DumpSink& each) {
  auto total = run(Command{"ZCARD", name("keys", "")});
  if (!total) return std::unexpected(total.error());
  std::string min = "-";
  for (;;) {
    auto keys = run(Command{"ZRANGEBYLEX", name("keys", ""), min, "+", "LIMIT", "0", "500"});
    if (!keys) return std::unexpected(keys.error());
    if (keys->elements.empty()) return {};
    std::vector<Command> reads;
    for (const Reply& key : keys->elements) reads.push_back({"HGETALL", name("c:", key.text)});
    auto hashes = run(reads);
    if (!hashes) return std::unexpected(hashes.error());
    for (std::size_t i = 0; i < hashes->size(); ++i) {
      CounterRecord record{.key = keys->elements[i].text, .totals = {}, .days = {}};
      std::map<std::string, Totals> days;
      const std::vector<Reply>& fields = (*hashes)[i].elements;
      for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
        const std::string& field = fields[f].text;
        const std::int64_t value = number_of(fields[f + 1]).value_or(0);
        if (field == "views") record.totals.views = value;
        if (field == "visitors") record.totals.visitors = value;
        if (field.starts_with("v:")) days[field.substr(2)].views = value;
        if (field.starts_with("u:")) days[field.substr(2)].visitors = value;
      }
      for (auto& [day, totals] : days) record.days.push_back({day, totals});
      each(std::move(record), static_cast<std::size_t>(total->integer));
    }
    min = "(" + keys->elements.back().text;
  }
}

StoreResult<void> RedisStore::ping() {
  auto reply = run(Command{"PING"});
  if (!reply) return std::unexpected(reply.error());
  return {};
}

}  // namespace store
