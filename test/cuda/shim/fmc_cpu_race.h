// The CPU shim's race check of __shared__ arrays (included by fmc_cuda_cpu.h). The harness
// (shim.ts) declares each `__shared__ T name[N];` of a program as
// `__shared__ fmc_cpu::Tracked<T, N, __LINE__> name;`: every element access goes through a
// reference that checks the index and keeps, per element, the last writer and the readers of
// the current barrier interval (the block's count of released barriers). Two threads touching
// one element between two barriers, at least one of them writing, is a data race: the run stops
// with an error naming the array (its declaration line), the element and both threads, whether
// or not the race changes any output. Taking an element's address (&a[i], for atomics or
// ldmatrix) hands out the storage unchecked.
#pragma once
#include "fmc_cpu_sched.h"

namespace fmc_cpu {

/** One element's accesses; all ones (the poison fill of fmc_cuda_cpu.h) is "never". */
struct Shadow {
  uint32_t writeEpoch, writer, readEpoch, reader;
};
static constexpr uint32_t kManyReaders = 0xfffffffeu;

[[noreturn]] inline void race(int line, size_t i, const char* what, uint32_t other) {
  char msg[256];
  if (other == kManyReaders)
    snprintf(msg, sizeof msg, "data race on the __shared__ array of line %d, element %zu: thread %u %s other threads",
             line, i, threadIdx.x, what);
  else
    snprintf(msg, sizeof msg, "data race on the __shared__ array of line %d, element %zu: thread %u %s thread %u", line,
             i, threadIdx.x, what, other);
  fail(msg);
}

template <class T, size_t N, int Line>
struct Tracked {
  T data[N];
  Shadow shadow[N];

  void onRead(size_t i) {
    Shadow& s = shadow[i];
    uint32_t t = threadIdx.x;
    if (s.writeEpoch == sched.epoch && s.writer != t)
      race(Line, i, "reads, since the last barrier, what was written by", s.writer);
    if (s.readEpoch != sched.epoch) s = {s.writeEpoch, s.writer, sched.epoch, t};
    else if (s.reader != t) s.reader = kManyReaders;
  }
  void onWrite(size_t i) {
    Shadow& s = shadow[i];
    uint32_t t = threadIdx.x;
    if (s.writeEpoch == sched.epoch && s.writer != t) race(Line, i, "writes, since the last barrier, over", s.writer);
    if (s.readEpoch == sched.epoch && s.reader != t) race(Line, i, "writes, since the last barrier, what was read by", s.reader);
    s.writeEpoch = sched.epoch;
    s.writer = t;
  }

  /** One element, read through conversion to T, written through assignment. */
  struct Ref {
    Tracked* a;
    size_t i;
    operator T() const {
      a->onRead(i);
      return a->data[i];
    }
    Ref& operator=(T v) {
      a->onWrite(i);
      a->data[i] = v;
      return *this;
    }
    Ref& operator=(const Ref& r) { return *this = T(r); }
    T* operator&() const { return &a->data[i]; }
#define FMC_COMPOUND_(op) \
  template <class V>      \
  Ref& operator op##=(const V& v) { return *this = T(T(*this) op v); }
    FMC_COMPOUND_(+)
    FMC_COMPOUND_(-)
    FMC_COMPOUND_(*)
    FMC_COMPOUND_(/)
    FMC_COMPOUND_(%)
    FMC_COMPOUND_(&)
    FMC_COMPOUND_(|)
    FMC_COMPOUND_(^)
    FMC_COMPOUND_(<<)
    FMC_COMPOUND_(>>)
#undef FMC_COMPOUND_
  };

  template <class I>
  Ref operator[](I i) {
    if (i < 0 || static_cast<unsigned long long>(i) >= N) {
      char msg[160];
      snprintf(msg, sizeof msg, "thread %u: index %lld out of the __shared__ array of line %d (%zu elements)",
               threadIdx.x, static_cast<long long>(i), Line, N);
      fail(msg);
    }
    return Ref{this, static_cast<size_t>(i)};
  }
};

}  // namespace fmc_cpu
