// A Store on Redis, shared by a fleet of `serve` processes (docs/redis.md). Keys, under the
// URL's prefix P (default "vc:"; `#` never occurs in a counter key, `:` may not either):
//   P c:KEY             hash: views, visitors, last_day, v:DAY and u:DAY (the day's views and
//                       visitors): one hash per counter, its totals and its history
//   P keys              sorted set of every counter's key (score 0, read in key order)
//   P m:DAY:KEY         hash: visitor id -> when counted; EXPIREAT the day after DAY
//   P salt:DAY          the day's salt; EX 2 days
//   P i:KEY:TOKEN       hash: views, visitors: an Idempotency-Key's answer; EX 24 h
// With keep_days, forget_days.lua deletes the day fields of older days, a chunk of counters
// per forget_before() call.
// A batch is one EVALSHA of count_batch.lua: atomic, one round trip, whatever other processes
// do at the same time, and each hit's totals come from the same script, so answers are
// distinct across the fleet. NOSCRIPT (a restarted or flushed Redis) resends it as EVAL:
// nothing ran. A batch whose answer is lost after it was sent fails with `outcome_unknown`
// and is never resent. Durability is Redis's: with `appendfsync always` an acknowledged hit
// is on disk; with `everysec`, up to a second of hits may go on power loss.
//
// One thread at a time (the write combiner's); one connection.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_url.hpp"
#include "store/store.hpp"
#include "util/log_throttle.hpp"

namespace store {

class RedisStore final : public Store {
 public:
  // Connects on first use, so it cannot fail; a down Redis fails calls (and /healthz) until
  // it is back, and the client reconnects with backoff.
  explicit RedisStore(redis::RedisConfig config)
      : RedisStore(std::move(config), std::make_shared<util::LogThrottle>(util::log_to_stderr)) {}
  // Its own connection; its failures count in this store's log limit.
  std::unique_ptr<Store> open_reader() const override {
    return std::unique_ptr<Store>(new RedisStore(client_.config(), failure_log_));
  }

  void add(const Batch& batch, const AddCallback& done) override;
  StoreResult<std::optional<Totals>> get(std::string_view key) override;
  // One pipeline of HMGETs: one round trip whatever the number of keys.
  StoreResult<std::vector<std::optional<Totals>>> get_many(
      std::span<const std::string> keys) override;
  StoreResult<std::string> salt(std::string_view day) override;
  // Marks, salts and answers expire by themselves (EXPIREAT, EX). With keep_days, the day
  // fields of older days go, 100 counters per call (one EVALSHA of forget_days.lua).
  StoreResult<bool> forget_before(std::string_view day) override;
  std::expected<void, std::string> keep_days(int days) override;
  StoreResult<std::vector<DayRow>> history(std::string_view key, std::string_view from,
                                           std::string_view to) override;
  StoreResult<CounterPage> list(std::string_view prefix, std::string_view after,
                                std::size_t limit) override;
  StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors) override;
  // The counter's hash and index entry; its marks and answers, found with SCAN.
  StoreResult<bool> remove(std::string_view key) override;
  // One EVAL of import.lua per call: atomic.
  StoreResult<void> import(std::span<const CounterRecord> records, ImportMode mode) override;
  StoreResult<void> dump(const DumpSink& each) override;
  StoreResult<void> ping() override;

 private:
  // Runs a script by its SHA-1 (loading it first when this connection has not), or by its
  // body after NOSCRIPT.
  std::expected<redis::Reply, redis::ClientError> script(std::string_view name,
                                                         const std::vector<std::string>& args);
  std::expected<std::vector<redis::Reply>, StoreError> run(
      std::span<const redis::Command> commands);
  std::expected<redis::Reply, StoreError> run(const redis::Command& command);
  std::string name(std::string_view kind, std::string_view rest) const;
  // The store's error for a failed call, logged on stderr (rate-limited: an outage fails
  // every batch).
  StoreError failure(const redis::ClientError& error);

  redis::RedisClient client_;
  RedisStore(redis::RedisConfig config, std::shared_ptr<util::LogThrottle> failure_log)
      : client_(std::move(config)), failure_log_(std::move(failure_log)) {}
  std::shared_ptr<util::LogThrottle> failure_log_;        // shared with its reader
  std::map<std::string, std::string, std::less<>> shas_;  // script name -> SHA-1, once loaded
  int keep_days_ = 0;                                     // retention: 0 keeps every day
  std::string retention_cursor_;  // the last counter of the pass so far ("" to start)
};

}  // namespace store
