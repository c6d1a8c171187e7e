// AnswerInbox: a locked vector plus one posted drain per non-empty period.
#include "http/answer_inbox.hpp"

#include <boost/asio/post.hpp>

namespace http {

void AnswerInbox::post(Delivery delivery) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = pending_.empty();
    pending_.push_back(std::move(delivery));
  }
  if (first) boost::asio::post(ioc_, [this] { drain(); });
}

void AnswerInbox::drain() {
  std::vector<Delivery> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  for (Delivery& delivery : batch) delivery();
}

}  // namespace http
