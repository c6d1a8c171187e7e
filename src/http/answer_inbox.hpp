// Carries work from the counter's threads (the syncer, a worker) back to the I/O threads, and
// from a commit turn to later in the loop, with one wake-up
// per burst rather than one per answer: a commit that acknowledges 60 hits costs one
// reactor interrupt, not 60. Thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <mutex>
#include <vector>

namespace http {

class AnswerInbox {
 public:
  using Delivery = std::move_only_function<void()>;

  // `ioc` must outlive the inbox.
  explicit AnswerInbox(boost::asio::io_context& ioc) : ioc_(ioc) {}

  // Runs `delivery` soon on one of the io_context's threads.
  void post(Delivery delivery);

 private:
  void drain();

  boost::asio::io_context& ioc_;
  std::mutex mutex_;
  std::vector<Delivery> pending_;
};

}  // namespace http
