#pragma once
// BoundedQueue: the hand-off from prethread-dispatch's accepting thread to its workers (UNP
// 30.12 uses an array, a mutex and a condition variable; this is the same with back-pressure).
// When the queue is full, push() waits: the acceptor stops accepting and connections wait in
// the kernel's backlog, rather than being dropped or queued without limit.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace tcplab {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // Waits for room, in slices of `slice` so the caller can look at a stop flag in between.
  // Returns false, leaving `item` with the caller, if the queue is closed or the slice passed.
  bool push(T& item, std::chrono::milliseconds slice) {
    std::unique_lock lock(mutex_);
    if (!not_full_.wait_for(lock, slice, [&] { return closed_ || items_.size() < capacity_; }))
      return false;
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits for an item; nullopt once the queue is closed and empty.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  // No more pushes; pop() hands out what is left, then nullopt.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace tcplab
