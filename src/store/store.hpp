// The Store interface: where counters live. One small abstract class (leveldb's Env is the
// model) with one final implementation per backend. A Store is used by one thread at a
// time (the one applying the write combiner's batches), except sync(), which may run beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace store {

// Why a store call failed. `message` is for the operator's log, never for clients.
struct StoreError {
  enum class Kind {
    failed,           // refused or unreachable: nothing was applied
    outcome_unknown,  // may have been applied (an answer lost after the write was sent, or
                      // applied but not made durable); never resent blindly
    overloaded,       // shed before it reached the store: nothing was applied
    halted,           // refused: a sync failed earlier, so the store writes nothing more
                      // until the process restarts (see Store::ping); nothing was applied
    refused,          // a new counter past Batch::max_counters: nothing was applied
  };
  std::string message;
  Kind kind = Kind::failed;
};

template <typename T>
using StoreResult = std::expected<T, StoreError>;

// A counter's two totals: `views` (every counted hit; the classic `count`) and `visitors`
// (distinct visitors per UTC day, summed over days).
struct Totals {
  std::int64_t views = 0;
  std::int64_t visitors = 0;
  friend bool operator==(const Totals&, const Totals&) = default;
};

// One counting request on a counter, as the write combiner hands it over.
struct Hit {
  // The visitor's id on this counter and day (a salted hash, never an address), or empty
  // when the hit is not tied to a visitor (an image proxy fetching for many): then it
  // counts a view and no visitor.
  std::string_view visitor;
  // The request's Idempotency-Key, or empty. A key already answered on this counter in
  // the last 24 hours replays that answer and counts nothing.
  std::string_view idempotency_key;
};

// How long an Idempotency-Key is remembered.
inline constexpr std::int64_t kIdempotencySeconds = 24 * 60 * 60;

// What a hit did.
enum class Seen : std::uint8_t {
  new_visitor,  // first hit of this visitor on this counter today: +1 view, +1 visitor
  returning,    // seen today, outside the repeat window (or untracked): +1 view
  repeat,       // seen within the repeat window: nothing counted
  replayed,     // its Idempotency-Key was answered before: that answer, nothing counted
  conflict,     // its Idempotency-Key is being counted by another request right now
};

// A hit's outcome: what it did and the counter's totals right after it, so the counted
// hits of a batch get distinct, consecutive values.
struct HitResult {
  Seen seen = Seen::returning;
  Totals totals;
  friend bool operator==(const HitResult&, const HitResult&) = default;
};

// Every hit on one counter in a batch, in arrival order.
struct KeyHits {
  std::string_view key;
  std::span<const Hit> hits;
  // A store that sends keys one after another (DynamoDB) sends none of this key's requests
  // after this moment: it reports `overloaded` for the key instead, nothing applied.
  std::chrono::steady_clock::time_point send_by = std::chrono::steady_clock::time_point::max();
};

// One store batch: each key at most once.
struct Batch {
  std::string_view day;             // the UTC day the hits count on, "YYYY-MM-DD"
  std::int64_t now = 0;             // seconds since the epoch
  std::int64_t repeat_window = 0;   // seconds; a visitor counted less than this ago repeats
  std::int64_t marker_expires = 0;  // epoch seconds after which the day's markers may go
  std::span<const KeyHits> keys;
  // A key that has no counter yet is refused (`refused`, nothing of it applied) while the
  // store holds this many counters or more; the other keys of the batch go on. 0: no limit.
  std::size_t max_counters = 0;
  // False: every key that has no counter yet is refused so (only the owner creates them).
  bool create_counters = true;
  // False (the classic profile): only the counter's views are raised; no day rows, and on
  // DynamoDB the counter's UpdateItem adds `count` alone, the classic design's item.
  bool history = true;
};

// Receives one key's results (one per hit, in order), by the key's index in the batch, or
// why that key failed.
using AddCallback =
    std::function<void(std::size_t index, StoreResult<std::vector<HitResult>> results)>;

// What a store knew before the batch, for one key.
using SeenAt = std::function<std::optional<std::int64_t>(std::string_view visitor)>;
// The earlier answer to an Idempotency-Key: its totals, `Seen::conflict` (being counted
// elsewhere), or nullopt (not seen, or expired).
struct Answered {
  Seen seen = Seen::replayed;
  Totals totals;
};
using AnsweredOf = std::function<std::optional<Answered>(std::string_view idempotency_key)>;

// The counting rules, shared by every store: each hit's result given the key's totals
// `before` the batch, `seen_at(visitor)` (when that visitor was last counted on this key
// today; nullopt: not yet) and `answered(idempotency_key)`. A visitor or key met earlier
// in the same batch is known without asking. The store then marks every visitor of a hit
// that counted (new or returning) as counted at `batch.now`, and remembers the result of
// every hit with an Idempotency-Key that was neither replayed nor in conflict.
std::vector<HitResult> decide_hits(const Batch& batch, const KeyHits& key, Totals before,
                                   const SeenAt& seen_at, const AnsweredOf& answered = {});

// Whether a hit's result raises the totals, and whether it must be remembered.
inline bool counted(Seen seen) { return seen == Seen::new_visitor || seen == Seen::returning; }
inline bool remembered(const Hit& hit, Seen seen) {
  return !hit.idempotency_key.empty() && seen != Seen::replayed && seen != Seen::conflict;
}

// What a key's results add to its totals (and to its day's row).
Totals gained(std::span<const HitResult> results);

// For stores that apply a batch all or nothing: reports `results` (one vector per key, in
// order) or the one error to every key of a batch of `size`.
inline void report_batch(const StoreResult<std::vector<std::vector<HitResult>>>& results,
                         std::size_t size, const AddCallback& done) {
  for (std::size_t i = 0; i < size; ++i) {
    if (results) {
      done(i, (*results)[i]);
    } else {
      done(i, std::unexpected(results.error()));
    }
  }
}

// One UTC day of a counter's history.
struct DayRow {
  std::string day;  // "YYYY-MM-DD"
  Totals totals;
  friend bool operator==(const DayRow&, const DayRow&) = default;
};

// A counter as an owner sees it in a listing.
struct CounterInfo {
  std::string key;
  Totals totals;
  std::string last_day;  // the latest day with a history row, "" when none
  friend bool operator==(const CounterInfo&, const CounterInfo&) = default;
};

// One page of a listing, sorted by key. `next` is the key to continue after, or "" at the end.
struct CounterPage {
  std::vector<CounterInfo> counters;
  std::string next;
};

// A counter with its whole history, as export writes it and import reads it.
struct CounterRecord {
  std::string key;
  Totals totals;
  std::vector<DayRow> days;  // ascending, each day at most once
  friend bool operator==(const CounterRecord&, const CounterRecord&) = default;
};

// How import applies a record: `set` makes the totals and each listed day's row equal to
// the record's (so a second run changes nothing); `add` adds them to what is there.
enum class ImportMode { set, add };

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Applies every key's hits durably and reports each key's results through `done`, exactly
  // once per index, before add() returns: views, visitors, the day's row and the visitor
  // marks, by the rules of decide_hits(). Transactional backends (SQLite) apply all or
  // nothing and report after the commit; others (DynamoDB) apply keys independently and
  // concurrently, and report each key as soon as it is done, possibly from other threads
  // and concurrently for different indexes.
  virtual void add(const Batch& batch, const AddCallback& done) = 0;

  // The counter's totals, or nullopt when it has never counted.
  virtual StoreResult<std::optional<Totals>> get(std::string_view key) = 0;

  // get() of each of `keys`, in order; fails as a whole. By default one get() after
  // another; a store on the network sends them together (Redis: one pipeline).
  virtual StoreResult<std::vector<std::optional<Totals>>> get_many(
      std::span<const std::string> keys) {
    std::vector<std::optional<Totals>> out;
    out.reserve(keys.size());
    for (const std::string& key : keys) {
      auto totals = get(key);
      if (!totals) return std::unexpected(totals.error());
      out.push_back(*totals);
    }
    return out;
  }

  // The salt of UTC day `day`: created at random (32 bytes) by the first caller, then the
  // same for every process that shares the store.
  virtual StoreResult<std::string> salt(std::string_view day) = 0;

  // Deletes what no longer serves: salts and visitor marks of days before `day`, the salts
  // first. Bounded work per call: true when nothing is left, false when the caller should
  // call again (between batches) for the rest.
  virtual StoreResult<bool> forget_before(std::string_view day) = 0;

  // Retention (--keep-days): from now on, the history rows of days before the last `days`
  // (the current day included) go; the totals stay. SQLite, memory and Redis delete them in
  // forget_before(day), in its bounded chunks; DynamoDB lets its TTL delete the rows it
  // writes from then on. 0, the default, keeps every day. Fails, changing nothing, on a
  // store that cannot.
  virtual std::expected<void, std::string> keep_days(int days) {
    if (days == 0) return {};
    return std::unexpected("this store cannot keep fewer days (--keep-days)");
  }

  // The rows of `key`'s history for the days from `from` to `to` (inclusive, "YYYY-MM-DD"),
  // ascending; days without hits have no row.
  virtual StoreResult<std::vector<DayRow>> history(std::string_view key, std::string_view from,
                                                   std::string_view to) = 0;

  // Up to `limit` counters whose key starts with `prefix` and sorts after `after` ("" from
  // the start), sorted by key. Never lists the store's own records (salts, marks, answers).
  virtual StoreResult<CounterPage> list(std::string_view prefix, std::string_view after,
                                        std::size_t limit) = 0;

  // Sets a counter's totals (creating it when absent); nullopt leaves that total as it is.
  // The history is unchanged.
  virtual StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                                       std::optional<std::int64_t> visitors) = 0;

  // Removes a counter, its history, its visitor marks and its remembered answers. False when
  // it did not exist.
  virtual StoreResult<bool> remove(std::string_view key) = 0;

  // Writes whole counters (totals and the listed days' rows) by `mode`, in as few requests
  // or transactions as the backend allows. Each record's key at most once per call.
  virtual StoreResult<void> import(std::span<const CounterRecord> records, ImportMode mode) = 0;

  // Calls `each` with every counter and its whole history, sorted by key, and the number of
  // counters it will call with in all. Stops at the first failure.
  using DumpSink = std::function<void(CounterRecord&& record, std::size_t total)>;
  virtual StoreResult<void> dump(const DumpSink& each) = 0;

  // Succeeds when the store answers (for /healthz); fails with `halted` once the store has
  // stopped writing for good.
  virtual StoreResult<void> ping() = 0;

  // Split durability. When true, add() only applies a batch (readers see it, a process
  // crash keeps it) and sync() makes every batch applied before the call durable; the
  // caller acknowledges a batch only after a sync() that began after it was applied.
  // That lets the next batch be applied while the previous one is being flushed.
  // sync() may run on another thread, concurrently with add(), get() and ping(). A failed
  // sync is never retried into a success: after one, every later sync() and add() fails.
  virtual bool defers_sync() const { return false; }
  virtual StoreResult<void> sync() { return {}; }

  // True when no call waits on the network (memory, SQLite: CPU and local disk only), so
  // batches may be applied on the HTTP server's I/O threads rather than a worker's.
  virtual bool in_process() const { return false; }

  // A second store on the same data, with connections of its own and this one's settings
  // and credentials, for reads from another thread; null where reads need none (memory,
  // SQLite). Opens no connection yet.
  virtual std::unique_ptr<Store> open_reader() const { return nullptr; }
};

// How durable SQLite commits are: `full` fsyncs every commit, `normal` may lose the
// last commits on power loss (never on a process crash).
enum class SyncMode { full, normal };

struct StoreOptions {
  SyncMode sync = SyncMode::full;
  // False for commands that only read (export): a SQLite file that does not exist is an
  // error, and nothing is created. (DynamoDB and Redis stores never create anything.)
  bool create = true;
  // --keep-days: see Store::keep_days. 0 keeps every day.
  int keep_days = 0;
};

// Returns the variable's value or nullptr, like std::getenv.
using Environment = std::function<const char*(const char*)>;

// Opens the store a URL names: `memory:`, `sqlite:PATH`, `dynamodb://TABLE?region=...`
// (see store/dynamodb/dynamodb_url.hpp). `env` supplies what the URL leaves out: the AWS
// region and credentials (AWS_REGION, AWS_ACCESS_KEY_ID, ...); an empty `env` is an empty
// environment. Fails with a one-line reason (unknown scheme, unwritable path, not a
// database, bad URL, no credentials) and never throws.
std::expected<std::unique_ptr<Store>, std::string> make_store(std::string_view url,
                                                              const StoreOptions& options,
                                                              const Environment& env = {});

}  // namespace store
