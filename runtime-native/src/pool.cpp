// The kernels' thread pool: the generated libraries call fmc_pool_parallel for each parallel
// loop (the C renderer outlines the loop body; the runtime hands the library this function
// through fmc_set_parallel). Why not OpenMP's fork/join: a `#pragma omp parallel for` ends in
// a barrier that every thread of the team must reach, so when the OS deschedules one thread
// (another process wants the core) every kernel waits for it to be scheduled again, and a
// model of a few hundred kernels got 5-14 times slower on a busy machine. Here a loop is done
// when its chunks are done: the caller claims chunks too, a worker that is not running claims
// none, and only a chunk already claimed can make the caller wait (docs/runtime.md).
//
// Idle workers sleep on a futex at once (FMC_POOL_SPIN_US=N makes them spin N microseconds
// first: faster on an idle machine, slower on a busy one, docs/runtime.md); the caller wakes
// sleepers only when there are any, and does not wait for them to start.
#include "pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace fmc {
namespace {

/** Chunks per thread: enough that a late or slow thread's share is taken by the others. */
constexpr int64_t kChunksPerThread = 8;
constexpr int32_t kMaxThreads = 1024;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

using Clock = std::chrono::steady_clock;

/** One loop; two of them alternate, so a worker never reads the fields being written. */
struct Job {
  std::atomic<ParallelBody> body{nullptr};
  std::atomic<const void*> ctx{nullptr};
  std::atomic<int64_t> n{0};
  std::atomic<int64_t> chunks{0};
};

int32_t DefaultThreads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  long n = env != nullptr ? std::strtol(env, nullptr, 10) : 0;
  if (n < 1) n = static_cast<long>(std::thread::hardware_concurrency());
  return static_cast<int32_t>(std::clamp<long>(n, 1, kMaxThreads));
}

/** FMC_POOL_SPIN_US, else 0: how long an idle worker spins before it sleeps. */
int32_t DefaultSpin() {
  const char* env = std::getenv("FMC_POOL_SPIN_US");
  return env != nullptr ? static_cast<int32_t>(std::strtol(env, nullptr, 10)) : 0;
}

class Pool {
 public:
  void SetThreads(int32_t n) { active_.store(std::clamp(n, 1, kMaxThreads), std::memory_order_relaxed); }
  int32_t Threads() const { return active_.load(std::memory_order_relaxed); }
  void SetSpin(int32_t us) { spinUs_.store(std::max(0, us), std::memory_order_relaxed); }

  void Parallel(ParallelBody body, const void* ctx, int64_t n) {
    const int32_t threads = Threads();
    if (inBody_ || threads <= 1 || n <= 1) return body(ctx, 0, n);
    std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
    if (!lock.owns_lock()) return body(ctx, 0, n);  // another JS thread's launch list runs now
    StartWorkers(threads - 1);

    const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    const int64_t chunks = std::min<int64_t>(n, threads * kChunksPerThread);
    Job& job = jobs_[gen & 1];
    job.body.store(body, std::memory_order_relaxed);
    job.ctx.store(ctx, std::memory_order_relaxed);
    job.n.store(n, std::memory_order_relaxed);
    job.chunks.store(chunks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    state_.store(gen << 32, std::memory_order_release);
    epoch_.store(static_cast<uint32_t>(gen), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) Futex(FUTEX_WAKE_PRIVATE, INT_MAX);

    Work();
    // Wait for chunks that workers claimed and have not finished; yield now and then, so that
    // a worker descheduled on this core gets it back.
    for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; spins++) {
      if (spins < 2000) {
        CpuRelax();
      } else {
        sched_yield();
      }
    }
  }

 private:
  /** Claims and runs chunks of the current loop until none is left. */
  void Work() {
    inBody_ = true;
    for (;;) {
      uint64_t s = state_.load(std::memory_order_acquire);
      const Job& job = jobs_[(s >> 32) & 1];
      const int64_t chunks = job.chunks.load(std::memory_order_relaxed);
      const int64_t c = static_cast<int64_t>(s & 0xffffffffu);
      if (c >= chunks) break;
      // The fields were read before the claim; a claim that succeeds proves they were this
      // loop's (the caller rewrites a slot only after the loop two generations back is done).
      ParallelBody body = job.body.load(std::memory_order_relaxed);
      const void* ctx = job.ctx.load(std::memory_order_relaxed);
      const int64_t n = job.n.load(std::memory_order_relaxed);
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      body(ctx, n * c / chunks, n * (c + 1) / chunks);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
    inBody_ = false;
  }

  void StartWorkers(int32_t want) {
    while (started_ < want) {
      std::thread([this, index = started_] { Worker(index); }).detach();
      started_++;
    }
  }

  void Worker(int32_t index) {
    uint32_t seen = epoch_.load(std::memory_order_acquire);
    for (;;) {
      WaitForEpoch(seen, index < Threads() - 1 ? spinUs_.load(std::memory_order_relaxed) : 0);
      seen = epoch_.load(std::memory_order_acquire);
      if (index < Threads() - 1) Work();
    }
  }

  /** Spins for up to spinUs microseconds, then sleeps, until the epoch differs from `seen`. */
  void WaitForEpoch(uint32_t seen, int32_t spinUs) {
    const auto until = Clock::now() + std::chrono::microseconds(spinUs);
    for (int i = 0; epoch_.load(std::memory_order_acquire) == seen; i++) {
      if (spinUs > 0 && ((i & 63) != 63 || Clock::now() < until)) {
        CpuRelax();
        continue;
      }
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (epoch_.load(std::memory_order_seq_cst) == seen) Futex(FUTEX_WAIT_PRIVATE, seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      spinUs = 0;
    }
  }

  void Futex(int op, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), op, value, nullptr, nullptr, 0);
  }

  static thread_local bool inBody_;
  std::mutex submit_;
  Job jobs_[2];
  std::atomic<uint64_t> state_{0};  // generation << 32 | next chunk to claim
  std::atomic<int64_t> done_{0};    // chunks of the current loop finished
  std::atomic<uint32_t> epoch_{0};  // the futex word: the generation's low 32 bits
  std::atomic<int32_t> sleepers_{0};
  std::atomic<int32_t> active_{DefaultThreads()};
  std::atomic<int32_t> spinUs_{DefaultSpin()};
  int32_t started_ = 0;  // under submit_
};

thread_local bool Pool::inBody_ = false;

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: detached workers use it until exit
  return *pool;
}

}  // namespace

extern "C" void fmc_pool_parallel(ParallelBody body, const void* ctx, int64_t n) {
  ThePool().Parallel(body, ctx, n);
}

void SetPoolThreads(int32_t n) { ThePool().SetThreads(n); }
int32_t PoolThreads() { return ThePool().Threads(); }
void SetPoolSpin(int32_t us) { ThePool().SetSpin(us); }

}  // namespace fmc
