// A Store on one DynamoDB table in the classic item shape (docs/architecture.md, "DynamoDB and the
// classic item shape"): partition key `id` (string), a counter's views in number attribute
// `count`, raised with `UpdateItem ADD`, so the classic Python handler and this program can
// share a table. The counting policy adds items beside it (`#` never occurs in a key):
//   <key>                      count (views), visitors
//   <key>#day#YYYY-MM-DD       views, visitors: the daily history
//   <key>#v#YYYY-MM-DD#<id>    seen, expires: a visitor mark (expires: the table's TTL)
//   #salt#YYYY-MM-DD           salt, expires: the day's salt, deleted the day after
//   #idem#<key>#<token>        claim, views, visitors, expires: an Idempotency-Key's answer
// A counter key is never empty and never holds `#`, so `<key>#` begins only that key's items.
// Every request is signed with SigV4 and retried per aws/retry.hpp, except a write whose
// outcome is unknown: that one is never repeated.
//
// One caller at a time (the write combiner). add() sends a batch's UpdateItems
// on up to `max_in_flight` threads and connections at once; every call blocks its thread
// for at most the configured deadline (retry.deadline) per DynamoDB request.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credential_provider.hpp"
#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"
#include "aws/sigv4.hpp"
#include "store/dynamodb/dynamodb_json.hpp"
#include "store/dynamodb/dynamodb_url.hpp"
#include "store/dynamodb/known_marks.hpp"
#include "store/store.hpp"
#include "util/task_queue.hpp"
#include "util/worker_pool.hpp"

namespace store {

class DynamoDbStore final : public Store {
 public:
  // Sends one signed request: headers as given (Host included), the body, the time this
  // attempt may take, and whether it may be resent after it was written. Called from
  // several threads at once when max_in_flight > 1.
  using Transport = std::function<std::expected<aws::HttpResponse, aws::HttpError>(
      const aws::HeaderList& headers, std::string_view body, std::chrono::milliseconds timeout,
      bool idempotent)>;
  // Receives one line per failed call (after its retries), already free of secrets.
  using Log = std::function<void(std::string_view line)>;

  struct Hooks {
    aws::RetryHooks retry;
    std::function<std::chrono::system_clock::time_point()> wall_clock;  // for X-Amz-Date
    Log log;
  };

  // The real thing: HTTP(S) to `config.endpoint`, system clocks, a private random generator,
  // and failures logged to stderr (at most 5 lines per 10 s, util::LogThrottle). Opens no
  // connection yet, so it cannot fail; the first call (or ping) finds out whether the table is
  // reachable.
  static std::unique_ptr<DynamoDbStore> open(dynamodb::DynamoDbConfig config,
                                             std::shared_ptr<aws::CredentialProvider> credentials);
  // Its own connections, with this store's table settings, credentials (refreshed once for
  // both) and log limit.
  std::unique_ptr<Store> open_reader() const override;

  // For tests: every outside effect injected.
  DynamoDbStore(dynamodb::DynamoDbConfig config, aws::Credentials credentials, Transport transport,
                Hooks hooks)
      : DynamoDbStore(std::move(config),
                      aws::fixed_credentials(std::move(credentials), "the caller"),
                      std::move(transport), std::move(hooks)) {}
  // Signs with whatever `credentials` holds at each request (temporary ones refresh).
  DynamoDbStore(dynamodb::DynamoDbConfig config,
                std::shared_ptr<aws::CredentialProvider> credentials, Transport transport,
                Hooks hooks);

  // For each key: one conditional UpdateItem per distinct visitor (its mark: new, returning
  // or within the repeat window), then one UpdateItem `ADD count, visitors` on the counter
  // (whose answer gives the hits their distinct values) and, at the same time, one `ADD
  // views, visitors` on the day's row. Keys are independent and run up to max_in_flight
  // requests at once; each key is reported as soon as both of its writes are done. DynamoDB
  // has no multi-item atomic ADD that returns the new values, so a day row that fails while
  // its counter was raised is logged and the hits still count (the totals are exact; the
  // history may then lag); a day row raised beside a counter that certainly failed is
  // lowered back (logged if that fails), and one whose counter's outcome is unknown is kept.
  //
  // Retries: the counter's UpdateItem is repeated only when it provably did not apply:
  // throttling (ProvisionedThroughputExceeded, RequestLimitExceeded, ...), a transaction
  // conflict, a failure to resolve, connect or handshake, or a connection lost before the
  // request was completely written. After a 5xx answer, or a timeout or reset once it was
  // written, it may have applied (AWS documents this even for a 500), so it is not
  // repeated: the key fails with `outcome_unknown`. Acknowledged ≤ stored ≤ sent therefore
  // holds under any fault, and the values handed out stay distinct. A mark may be resent:
  // a repeated mark can only make its hit count less (a repeat, or returning), never twice.
  void add(const Batch& batch, const AddCallback& done) override;

  // One UpdateItem of `#salt#DAY` that keeps the salt already there, else writes a new one
  // (`if_not_exists`), and answers the one kept.
  StoreResult<std::string> salt(std::string_view day) override;
  // Deletes the salts of the two days before `day` (marks expire through the TTL).
  StoreResult<bool> forget_before(std::string_view day) override;
  // From now on, each day row written carries `expires` (the table's TTL attribute) at the
  // end of the last day it is kept, and DynamoDB deletes it after that, usually within a few
  // days. Rows written before, or without it, stay.
  std::expected<void, std::string> keep_days(int days) override;

  // GetItem with ConsistentRead; nullopt when the item or its `count` does not exist.
  StoreResult<std::optional<Totals>> get(std::string_view key) override;
  // BatchGetItem, 100 counters a request, consistent reads (dynamodb_owner.cpp).
  StoreResult<std::vector<std::optional<Totals>>> get_many(
      std::span<const std::string> keys) override;

  // DescribeTable; succeeds when the table exists and is ACTIVE (or UPDATING, during which
  // it still serves reads and writes).
  StoreResult<void> ping() override;

  // The owner's calls. Several requests each; a batch request's UnprocessedKeys or
  // UnprocessedItems are sent again after a throttling backoff, within the retry options'
  // attempts and deadline (counted per batch request), else the call fails.

  // BatchGetItem (strongly consistent) of the day rows `<key>#day#D` for each day, 100 per
  // request. Fails for a range of more than 366 days or a bad day; `from` after `to` gives
  // no rows.
  StoreResult<std::vector<DayRow>> history(std::string_view key, std::string_view from,
                                           std::string_view to) override;
  // A Scan of the WHOLE table, every page, filtered to the counters and day rows under
  // `prefix` (a counter's last_day comes from its day rows). Its cost grows with the table,
  // visitor marks included: for the owner's occasional use, never per hit. A classic item
  // without `visitors` lists 0 visitors.
  StoreResult<CounterPage> list(std::string_view prefix, std::string_view after,
                                std::size_t limit) override;
  // The same Scan of the WHOLE table, without a prefix; every counter and day row is held in
  // memory before the first call of `each`. Day rows of a key without a counter item (left
  // by a remove that failed halfway) are skipped.
  StoreResult<void> dump(const DumpSink& each) override;
  // One UpdateItem `SET`; safe to resend. Fails for a key that is empty or holds `#`.
  StoreResult<void> set_totals(std::string_view key, std::optional<std::int64_t> views,
                               std::optional<std::int64_t> visitors) override;
  // DeleteItem of the counter (ALL_OLD tells whether it existed; a resent delete may say it
  // did not), then a Scan of the WHOLE table for its day rows, visitor marks and
  // Idempotency-Key records, deleted with BatchWriteItem, 25 per request. Those go even when
  // the counter was not there, so a remove that failed halfway can simply be run again. A
  // key that is empty or holds `#` names no counter: false, nothing is touched.
  StoreResult<bool> remove(std::string_view key) override;
  // Not atomic. `set`: BatchWriteItem PutRequests (25 per request) of the counter items
  // {id, count, visitors} and day rows {id, views, visitors}; safe to resend, so a failed set
  // import (error `failed`, though some items may be written) can be run again. `add`: one
  // UpdateItem `ADD` per counter and day row, up to max_in_flight at once, never resent once
  // it may have applied; the first failure stops the rest, and the error is `failed` only
  // when nothing was applied, else `outcome_unknown` (running it again would add twice).
  // Fails before writing anything when a key is empty or holds `#`, or a day is not a date.
  StoreResult<void> import(std::span<const CounterRecord> records, ImportMode mode) override;

 private:
  struct Attempted;
  // Why a call failed after its retries (not yet logged), and whether it may have applied.
  // Whether a key's requests may go out at all: its send_by has not passed, and with
  // Batch::max_counters, its counter exists or takes one of the places left in the item
  // dynamodb::kCountersId (without Batch::create_counters, it exists). Nothing of the key
  // is written when it fails.
  StoreResult<void> admit_key(const Batch& batch, const KeyHits& key);
  struct CallError {
    std::string why;
    bool outcome_unknown = false;
    std::string type;  // the service's error type, e.g. "ConditionalCheckFailedException"
  };
  // When a visitor was last counted, from the conditional update of its mark `id`
  // (dynamodb::mark_id): nullopt if new, `now` if within the repeat window.
  StoreResult<std::optional<std::int64_t>> mark(const Batch& batch, const std::string& id);
  // Claims an Idempotency-Key's record for this batch: nullopt when this batch counts the
  // hit, else the earlier answer (or a conflict while another request counts it).
  StoreResult<std::optional<Answered>> claim(const Batch& batch, std::string_view key,
                                             std::string_view token);
  // Deletes an Idempotency-Key's claim whose hit did not count (best effort; logged).
  void release(std::string_view key, std::string_view token);
  // The counter's and the day row's updates for one key, side by side (the day row on
  // `queue`, the batch's), given its visitors' marks and its Idempotency-Keys' claims, then
  // the answers to remember.
  StoreResult<std::vector<HitResult>> add_key(const Batch& batch, const KeyHits& key,
                                              const SeenAt& seen_at, const AnsweredOf& answered,
                                              util::TaskQueue& queue);
  // Runs `round` (one batch request; how many of its items are left unprocessed, or why it
  // failed) until none is left, backing off between rounds as after throttling.
  using Round = std::function<StoreResult<std::size_t>()>;
  StoreResult<void> until_processed(std::string_view operation, const Round& round);
  // The items among `ids` (1-100) that exist, by BatchGetItem.
  StoreResult<std::vector<dynamodb::ReadItem>> get_batch(std::vector<std::string> ids);
  // All of `writes` by BatchWriteItem, 25 per request, in order.
  StoreResult<void> write_batches(std::span<const dynamodb::ItemWrite> writes);
  // Every counter whose key begins with `prefix`, with its day rows (ascending), by key.
  using CounterMap = std::map<std::string, CounterRecord, std::less<>>;
  StoreResult<CounterMap> scan_counters(std::string_view prefix);
  // Every item of a Scan, page after page: `request(start)` is the page after item `start`.
  StoreResult<void> scan(const std::function<std::string(std::string_view start)>& request,
                         const std::function<void(dynamodb::ReadItem item)>& each);
  // import() in add mode.
  StoreResult<void> add_records(std::span<const CounterRecord> records);
  // The answer's body after retries, or why the last attempt failed.
  std::expected<std::string, CallError> call(std::string_view operation, const std::string& body,
                                             bool idempotent);
  std::optional<aws::Failure> attempt(std::string_view operation, const std::string& body,
                                      bool idempotent, std::chrono::milliseconds timeout,
                                      Attempted& out);
  std::expected<aws::HeaderList, std::string> sign(std::string_view operation,
                                                   std::string_view body) const;
  std::string scrub(std::string_view text) const;
  // Logs the failure and returns it as the store's error.
  StoreError fail(std::string_view operation, std::string_view why,
                  StoreError::Kind kind = StoreError::Kind::failed) const;

  dynamodb::DynamoDbConfig config_;
  std::shared_ptr<aws::CredentialProvider> credentials_;
  Transport transport_;
  Hooks hooks_;
  std::string host_header_;
  util::WorkerPool pool_;
  // 20,000 ids of about 80 bytes: a few MB at most, even in a 128 MB Lambda function.
  dynamodb::KnownMarks known_marks_{20'000};
  // The counters this process has seen exist (under the day ""), for --max-counters: only
  // a counter not among them is raised conditionally (add_key).
  dynamodb::KnownMarks known_counters_{20'000};
  int keep_days_ = 0;  // keep_days(): 0 writes day rows without a TTL
};

}  // namespace store
