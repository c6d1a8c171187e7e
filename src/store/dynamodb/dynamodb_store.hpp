// A Store on one DynamoDB table in the classic item shape (DESIGN.md §4 "Compatible"):
// partition key `id` (string), the counter in number attribute `count`, raised with
// `UpdateItem ADD`, so the classic Python handler and this program can share a table.
// Every request is signed with SigV4 and retried per aws/retry.hpp.
//
// Not thread-safe: one thread (the write combiner's worker) uses it. Calls block that
// thread for at most the configured deadline (retry.deadline) per DynamoDB request.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"
#include "aws/sigv4.hpp"
#include "store/dynamodb/dynamodb_url.hpp"
#include "store/store.hpp"

namespace store {

class DynamoDbStore final : public Store {
 public:
  // Sends one signed request: headers as given (Host included), the body, and the time
  // this attempt may take.
  using Transport = std::function<std::expected<aws::HttpResponse, aws::HttpError>(
      const aws::HeaderList& headers, std::string_view body, std::chrono::milliseconds timeout)>;
  // Receives one line per failed call (after its retries), already free of secrets.
  using Log = std::function<void(std::string_view line)>;

  struct Hooks {
    aws::RetryHooks retry;
    std::function<std::chrono::system_clock::time_point()> wall_clock;  // for X-Amz-Date
    Log log;
  };

  // The real thing: HTTP(S) to `config.endpoint`, system clocks, a private random generator,
  // and failures logged to stderr. Opens no connection yet, so it cannot fail; the first
  // call (or ping) finds out whether the table is reachable.
  static std::unique_ptr<DynamoDbStore> open(dynamodb::DynamoDbConfig config,
                                             aws::Credentials credentials);

  // For tests: every outside effect injected.
  DynamoDbStore(dynamodb::DynamoDbConfig config, aws::Credentials credentials, Transport transport,
                Hooks hooks);

  // One UpdateItem (`ADD #count :n`, ReturnValues UPDATED_NEW) per increment, in order.
  //
  // NOT transactional, unlike the Store contract's preferred all-or-nothing: DynamoDB has
  // no multi-item atomic ADD that returns the new values. When increment k fails, the
  // increments before it stay applied, k and the later ones are not sent, and the whole
  // batch is reported failed. The write combiner then answers every waiter of the batch
  // with an error, including those whose key did count. So a failure can leave a counter
  // higher than the acknowledged hits ("at most" the attempted hits counted), but every
  // acknowledged hit is counted exactly once ("at least" the acknowledged ones), and the
  // values handed out stay distinct.
  //
  // Retries: an UpdateItem is repeated after throttling, a 5xx answer, or a failure to
  // connect, never after a timeout or a connection lost once the request was sent (it may
  // have been applied; the call fails instead). AWS documents that even a 500 may follow an
  // applied write; retrying it, as the SDKs do, can then count one batch twice. Rare, and
  // the values handed out stay distinct, but the counter can skip numbers.
  StoreResult<std::vector<std::int64_t>> add(std::span<const Increment> batch) override;

  // GetItem with ConsistentRead; nullopt when the item or its `count` does not exist.
  StoreResult<std::optional<std::int64_t>> get(std::string_view key) override;

  // DescribeTable; succeeds when the table exists and is ACTIVE (or UPDATING, during which
  // it still serves reads and writes).
  StoreResult<void> ping() override;

 private:
  struct Attempted;
  // The answer's body after retries, or why the last attempt failed (not yet logged).
  std::expected<std::string, std::string> call(std::string_view operation, const std::string& body,
                                               bool idempotent);
  std::optional<aws::Failure> attempt(std::string_view operation, const std::string& body,
                                      bool idempotent, std::chrono::milliseconds timeout,
                                      Attempted& out);
  std::expected<aws::HeaderList, std::string> sign(std::string_view operation,
                                                   std::string_view body) const;
  std::string scrub(std::string_view text) const;
  // Logs the failure and returns it as the store's error.
  StoreError fail(std::string_view operation, std::string_view why) const;

  dynamodb::DynamoDbConfig config_;
  aws::Credentials credentials_;
  Transport transport_;
  Hooks hooks_;
  std::string host_header_;
};

}  // namespace store
