// The CPU shim's block scheduler (included by fmc_cuda_cpu.h): each thread of a block is a
// fiber (its own small stack, started once with makecontext, switched with _setjmp/_longjmp:
// no system call per switch) that runs until it reaches a barrier, a warp-collective operation
// or its end, then hands control back; fiber i serves thread i of every block. Blocks run one
// after another on the calling OS thread. Between two synchronization points the runnable
// fibers run in a chosen ORDER (forward, reverse, or a seeded shuffle drawn anew per block and
// phase), so a missing barrier changes the results in some order; the blocks of a launch run in
// that order too (launch, in fmc_cuda_cpu.h). A block whose threads cannot all proceed (some
// wait at a barrier while others returned or wait elsewhere, a warp whose lanes do not all
// reach the same collective) is reported as an error naming the kernel, the block and threads.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <setjmp.h>
#include <ucontext.h>
#include <unistd.h>

namespace fmc_cpu {

struct uint3 {
  unsigned int x, y, z;
};

enum class Order { Forward, Reverse, Shuffle };
enum class State : unsigned char { Ready, Barrier, Warp, Done };

/** A synchronization point of the source: the barrier or collective a thread waits at. */
struct Site {
  const char* file;
  int line;
};
inline bool sameSite(Site a, Site b) { return a.line == b.line && strcmp(a.file, b.file) == 0; }

struct Fiber;
/** A warp-collective operation, run once for the whole warp when every lane has reached it. */
using WarpOp = void (*)(Fiber* lanes, unsigned count);

/** What a lane deposits at a warp collective, and what it gets back. */
struct Lane {
  WarpOp op;
  const char* what;
  unsigned mask;
  int arg, width;
  uint64_t value, result;
  const void* in[3];
  void* out;
};

struct Fiber {
  jmp_buf env;
  State state;
  Site site;
  Lane lane;
};

static constexpr size_t kStackBytes = 256 * 1024;
static constexpr size_t kGuardBytes = 4096;

struct Sched {
  const char* kernel = "(none)";
  Order order = Order::Forward;
  uint64_t seed = 1;
  Fiber* fibers = nullptr;
  char* stacks = nullptr;  // capacity x (guard page + stack)
  unsigned capacity = 0;
  jmp_buf mainEnv;
  ucontext_t boot;       // where a new fiber returns once it has saved its first env
  unsigned started = 0;  // fibers 0..started-1 wait in fiberMain's loop
  Fiber* cur = nullptr;
  void (*body)(void*) = nullptr;
  void* bodyArg = nullptr;
  unsigned* perm = nullptr;
  /** The running block's barrier interval: 0 at its start, +1 at each released barrier. */
  uint32_t epoch = 0;
};
inline Sched sched;

}  // namespace fmc_cpu

// The bounds of the section holding the __shared__ variables (fmc_cuda_cpu.h), from the linker.
extern "C" char __start_fmc_shared[] __attribute__((weak)), __stop_fmc_shared[] __attribute__((weak));

inline fmc_cpu::uint3 threadIdx, blockIdx, blockDim, gridDim;
static constexpr int warpSize = 32;

namespace fmc_cpu {

[[noreturn]] inline void fail(const char* msg) {
  fprintf(stderr, "fmc_cuda_cpu error: kernel %s block (%u,%u): %s\n", sched.kernel, blockIdx.x, blockIdx.y,
          msg);
  fflush(stderr);
  _exit(86);
}

/** Whether `p` lies in a fiber stack's guard page (a stack overflow), for the fault handler. */
inline bool inStackGuard(const void* p) {
  const char* c = static_cast<const char*>(p);
  if (!sched.stacks || c < sched.stacks) return false;
  size_t off = size_t(c - sched.stacks), slot = kGuardBytes + kStackBytes;
  return off < slot * sched.capacity && off % slot < kGuardBytes;
}

inline void reserve(unsigned n) {
  if (n <= sched.capacity) return;
  if (sched.stacks) munmap(sched.stacks, (kGuardBytes + kStackBytes) * sched.capacity);
  size_t bytes = (kGuardBytes + kStackBytes) * n;
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) fail("cannot map the fiber stacks");
  sched.stacks = static_cast<char*>(m);
  for (unsigned i = 0; i < n; ++i) mprotect(sched.stacks + i * (kGuardBytes + kStackBytes), kGuardBytes, PROT_NONE);
  delete[] sched.fibers;
  delete[] sched.perm;
  sched.fibers = new Fiber[n];
  sched.perm = new unsigned[n];
  sched.capacity = n;
  sched.started = 0;
}

/** Suspends the running thread at `site` in state `s` until the scheduler resumes it. */
inline void suspend(State s, Site site) {
  Fiber* f = sched.cur;
  if (!f) fail("a barrier or warp collective outside a kernel launch");
  f->state = s;
  f->site = site;
  if (!_setjmp(f->env)) _longjmp(sched.mainEnv, 1);
}

/** A fiber's life: save its entry, then run the kernel body once per block it is resumed in. */
inline void fiberMain() {
  Fiber* const f = sched.cur;
  if (!_setjmp(f->env)) setcontext(&sched.boot);
  for (;;) {
    sched.body(sched.bodyArg);
    f->state = State::Done;
    if (!_setjmp(f->env)) _longjmp(sched.mainEnv, 1);
  }
}

/** Starts fiber i on its stack, up to its first saved entry. */
inline void start(unsigned i) {
  ucontext_t ctx;
  getcontext(&ctx);
  ctx.uc_stack.ss_sp = sched.stacks + i * (kGuardBytes + kStackBytes) + kGuardBytes;
  ctx.uc_stack.ss_size = kStackBytes;
  ctx.uc_link = nullptr;
  makecontext(&ctx, fiberMain, 0);
  sched.cur = &sched.fibers[i];
  swapcontext(&sched.boot, &ctx);
}

inline uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/** The order the runnable threads of a block run in, for one phase. */
inline void permute(unsigned n, unsigned phase) {
  for (unsigned i = 0; i < n; ++i) sched.perm[i] = sched.order == Order::Reverse ? n - 1 - i : i;
  if (sched.order != Order::Shuffle) return;
  uint64_t s = splitmix(sched.seed ^ splitmix((uint64_t(blockIdx.y) << 32 | blockIdx.x) * 1000003u + phase));
  for (unsigned i = n; i > 1; --i) {
    s = splitmix(s);
    unsigned j = unsigned(s % i), t = sched.perm[i - 1];
    sched.perm[i - 1] = sched.perm[j];
    sched.perm[j] = t;
  }
}

inline bool alike(const Fiber& a, const Fiber& b) {
  return a.state == b.state && (a.state == State::Done || (sameSite(a.site, b.site) && a.lane.what == b.lane.what));
}

/** Describes the threads by state ("; threads 0-15 wait at __syncthreads (k.cu:12)"), for errors. */
inline void describe(char* buf, size_t cap, unsigned n) {
  size_t len = 0;
  auto put = [&](auto... a) { len += size_t(snprintf(buf + len, len < cap ? cap - len : 0, a...)); };
  for (unsigned first = 0; first < n; ++first) {
    const Fiber& f = sched.fibers[first];
    bool seen = false;
    for (unsigned i = 0; i < first && !seen; ++i) seen = alike(sched.fibers[i], f);
    if (seen) continue;
    put("; threads ");
    unsigned ranges = 0;
    for (unsigned i = first; i < n; ++i) {
      if (!alike(sched.fibers[i], f) || (i > first && alike(sched.fibers[i - 1], f))) continue;
      unsigned j = i;
      while (j + 1 < n && alike(sched.fibers[j + 1], f)) ++j;
      if (++ranges <= 8) put(ranges > 1 ? ",%u" : "%u", i);
      if (ranges <= 8 && j > i) put("-%u", j);
    }
    if (ranges > 8) put(",...");
    if (f.state == State::Done) put(" returned");
    else put(" wait at %s (%s:%d)", f.state == State::Barrier ? "__syncthreads" : f.lane.what, f.site.file, f.site.line);
    if (len >= cap) return;
  }
}

[[noreturn]] inline void stuck(unsigned n, const char* why) {
  char msg[2048];
  int len = snprintf(msg, sizeof msg, "%s", why);
  describe(msg + len, sizeof msg - size_t(len), n);
  fail(msg);
}

/** Runs the collective of every warp whose lanes all wait at one; false if none can. */
inline bool releaseWarps(unsigned n) {
  bool released = false;
  for (unsigned lo = 0; lo < n; lo += 32) {
    unsigned count = n - lo < 32 ? n - lo : 32;
    Fiber* lanes = sched.fibers + lo;
    bool all = true;
    for (unsigned i = 0; i < count; ++i) all = all && lanes[i].state == State::Warp;
    if (!all) continue;
    unsigned need = count == 32 ? ~0u : (1u << count) - 1;
    for (unsigned i = 0; i < count; ++i) {
      const Lane& l = lanes[i].lane;
      if (l.op != lanes[0].lane.op || !sameSite(lanes[i].site, lanes[0].site))
        stuck(n, "divergent warp collective (the lanes of a warp wait at different operations)");
      if ((l.mask & need) != need) stuck(n, "a warp collective's mask leaves out lanes of the warp (not emulated)");
    }
    lanes[0].lane.op(lanes, count);
    for (unsigned i = 0; i < count; ++i) lanes[i].state = State::Ready;
    released = true;
  }
  return released;
}

/** Releases a barrier every live thread waits at; an error where threads diverged. */
inline void releaseBarrier(unsigned n) {
  const Fiber* first = nullptr;
  for (unsigned i = 0; i < n; ++i) {
    const Fiber& f = sched.fibers[i];
    if (f.state == State::Warp) stuck(n, "deadlock: a warp collective some lanes of the warp never reach");
    if (f.state == State::Done) continue;
    if (first && !sameSite(first->site, f.site)) stuck(n, "divergent barrier (threads wait at different barriers)");
    first = first ? first : &f;
  }
  for (unsigned i = 0; i < n; ++i)
    if (sched.fibers[i].state == State::Done) stuck(n, "divergent barrier (some threads returned while others wait)");
  for (unsigned i = 0; i < n; ++i) sched.fibers[i].state = State::Ready;
  ++sched.epoch;
}

/** Runs one block of `n` threads to completion. */
inline void runBlock(unsigned n) {
  reserve(n);
  if (__start_fmc_shared) memset(__start_fmc_shared, 0xff, size_t(__stop_fmc_shared - __start_fmc_shared));
  sched.epoch = 0;
  for (; sched.started < n; ++sched.started) start(sched.started);
  for (unsigned i = 0; i < n; ++i) sched.fibers[i].state = State::Ready;
  for (unsigned phase = 0;; ++phase) {
    permute(n, phase);
    for (unsigned k = 0; k < n; ++k) {
      Fiber& f = sched.fibers[sched.perm[k]];
      if (f.state != State::Ready) continue;
      sched.cur = &f;
      threadIdx = {sched.perm[k], 0, 0};
      if (!_setjmp(sched.mainEnv)) _longjmp(f.env, 1);
    }
    sched.cur = nullptr;
    bool done = true;
    for (unsigned i = 0; i < n; ++i) done = done && sched.fibers[i].state == State::Done;
    if (done) return;
    if (!releaseWarps(n)) releaseBarrier(n);
  }
}

}  // namespace fmc_cpu

