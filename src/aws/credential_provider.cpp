// Fixed and refreshing credential providers.
#include "aws/credential_provider.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace aws {
namespace {

class FixedProvider final : public CredentialProvider {
 public:
  FixedProvider(Credentials credentials, std::string source)
      : credentials_(std::move(credentials)), source_(std::move(source)) {}
  std::expected<Credentials, std::string> current() override { return credentials_; }
  std::string source() const override { return source_; }

 private:
  Credentials credentials_;
  std::string source_;
};

class RefreshingProvider final : public CredentialProvider {
 public:
  RefreshingProvider(FetchCredentials fetch, std::string source, RefreshOptions options,
                     TemporaryCredentials first)
      : fetch_(std::move(fetch)),
        source_(std::move(source)),
        options_(std::move(options)),
        held_(std::move(first)),
        refresher_([this](std::stop_token stop) { run(stop); }) {}

  ~RefreshingProvider() override {
    refresher_.request_stop();
    wake_.notify_all();
  }

  std::expected<Credentials, std::string> current() override {
    std::lock_guard lock(mutex_);
    if (now() < held_.expires) return held_.credentials;
    return std::unexpected("the temporary credentials from " + source_ +
                           " expired and could not be refreshed: " + last_error_);
  }

  std::string source() const override { return source_; }

 private:
  std::chrono::system_clock::time_point now() const {
    return options_.clock ? options_.clock() : std::chrono::system_clock::now();
  }

  // When to fetch again: `ahead` before expiry, or at half the remaining life if sooner.
  std::chrono::system_clock::time_point due() const {
    const auto left = held_.expires - now();
    const auto early = std::min<std::chrono::system_clock::duration>(options_.ahead, left / 2);
    return held_.expires - early;
  }

  void run(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    auto next = due();
    while (!stop.stop_requested()) {
      // Waits on the steady clock for the time left on the (injectable) wall clock.
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now());
      if (wait.count() > 0) {
        wake_.wait_for(lock, stop, std::min(wait, std::chrono::milliseconds(1000)),
                       [] { return false; });
        continue;
      }
      lock.unlock();
      auto fetched = fetch_();
      lock.lock();
      if (fetched) {
        held_ = std::move(*fetched);
        last_error_.clear();
        next = due();
      } else {
        last_error_ = fetched.error();
        next = now() + options_.retry;
      }
    }
  }

  FetchCredentials fetch_;
  const std::string source_;
  const RefreshOptions options_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  TemporaryCredentials held_;
  std::string last_error_;
  std::jthread refresher_;  // last: starts once everything above exists
};

}  // namespace

std::shared_ptr<CredentialProvider> fixed_credentials(Credentials credentials, std::string source) {
  return std::make_shared<FixedProvider>(std::move(credentials), std::move(source));
}

std::expected<std::shared_ptr<CredentialProvider>, std::string> refreshing_credentials(
    FetchCredentials fetch, std::string source, RefreshOptions options) {
  auto first = fetch();
  if (!first) return std::unexpected(source + ": " + first.error());
  return std::shared_ptr<CredentialProvider>(std::make_shared<RefreshingProvider>(
      std::move(fetch), std::move(source), std::move(options), std::move(*first)));
}

}  // namespace aws
