// The CPU shim's job runner (included by the .cpp that test/cuda/shim.ts writes, after the
// programs): `main` reads job files, each a set of buffers, dim slots, a launch list and a thread
// order, runs the launches on the shim (fmc_cuda_cpu.h) and writes the buffers back.
//
// Job file (little-endian): u32 magic "FMCJ"; u32 order (0 forward, 1 reverse, 2 shuffle);
// u64 seed; u32 buffer count, then per buffer u64 bytes and the bytes; u32 slot count, then the
// slots as i64; u32 launch count, then per launch u32 kernel (index into the table), gridX,
// gridY, block, argument count and the arguments' buffer indices. Output: the buffers' bytes,
// concatenated. Each buffer ends at a page boundary followed by an inaccessible page, so reading
// or writing past its end stops the run with an error naming the kernel, block and thread.
#pragma once
#include <signal.h>

#include <type_traits>
#include <utility>

#include "fmc_cuda_cpu.h"

namespace fmc_cpu {

struct Kernel {
  const char* name;
  void (*run)(const char* name, const unsigned* launch, void** buffers, const int64_t* slots, unsigned nslots);
};

template <class P>
P kernelArg(void* buffer, const int64_t* slots, unsigned nslots) {
  if constexpr (std::is_pointer_v<P>) {
    return static_cast<P>(buffer);
  } else {
    static_assert(std::is_trivially_copyable_v<P>, "a kernel's by-value parameter is the dims struct");
    if (sizeof(P) > nslots * sizeof(int64_t)) fail("the dims struct has more slots than the job gives");
    P r;
    memcpy(&r, slots, sizeof r);
    return r;
  }
}

template <class... P, size_t... I>
void runWith(const char* name, void (*k)(P...), const unsigned* l, void** buffers, const int64_t* slots,
             unsigned nslots, std::index_sequence<I...>) {
  constexpr unsigned pointers = (0u + ... + unsigned(std::is_pointer_v<P>));
  if (l[4] != pointers) fail("the launch's argument count differs from the kernel's buffer parameters");
  const unsigned* args = l + 5;
  launch(name, k, l[1], l[2], l[3], kernelArg<P>(I < pointers ? buffers[args[I]] : nullptr, slots, nslots)...);
}

template <class... P>
constexpr size_t arity(void (*)(P...)) {
  return sizeof...(P);
}

/** The table entry of kernel K: launches it with a job's buffers and dims. */
template <auto K>
void entry(const char* name, const unsigned* launch, void** buffers, const int64_t* slots, unsigned nslots) {
  runWith(name, K, launch, buffers, slots, nslots, std::make_index_sequence<arity(K)>{});
}

// ---------- guarded buffers and fault reports ----------

/** A buffer's mapping: `span` bytes of data ending at `lo`, the inaccessible page. */
struct Guard {
  char* lo;
  size_t span;
};
static constexpr unsigned kMaxBuffers = 4096;
inline Guard guards[kMaxBuffers];
inline unsigned guardCount = 0;

inline void* guardedBuffer(uint64_t bytes) {
  size_t page = 4096, span = (bytes + page - 1) / page * page;
  char* m = static_cast<char*>(mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (m == MAP_FAILED || guardCount == kMaxBuffers) fail("cannot map a buffer");
  mprotect(m + span, page, PROT_NONE);
  guards[guardCount++] = {m + span, span};
  return m + span - bytes;
}

inline void releaseBuffers() {
  for (unsigned i = 0; i < guardCount; ++i) munmap(guards[i].lo - guards[i].span, guards[i].span + 4096);
  guardCount = 0;
}

inline void onFault(int sig, siginfo_t* info, void*) {
  const char* p = static_cast<const char*>(info->si_addr);
  char what[96] = "an invalid address";
  if (sig == SIGFPE) snprintf(what, sizeof what, "an integer division by zero or overflow");
  else if (inStackGuard(p)) snprintf(what, sizeof what, "a fiber stack overflow (locals over %zu KiB)", kStackBytes / 1024);
  for (unsigned i = 0; i < guardCount && sig != SIGFPE; ++i)
    if (p >= guards[i].lo && p < guards[i].lo + 4096)
      snprintf(what, sizeof what, "past the end of buffer %u, by %td bytes", i, p - guards[i].lo);
  char msg[256];
  snprintf(msg, sizeof msg, "thread %u: %s", sched.cur ? unsigned(sched.cur - sched.fibers) : 0u, what);
  fail(msg);
}

inline void installFaultHandler() {
  static char altStack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = altStack;
  ss.ss_size = sizeof altStack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = onFault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  sigaction(SIGFPE, &sa, nullptr);
}

// ---------- jobs ----------

struct Reader {
  FILE* f;
  template <class T>
  T get() {
    T v;
    if (fread(&v, sizeof v, 1, f) != 1) fail("truncated job file");
    return v;
  }
};

inline void runJob(const char* in, const char* out, const Kernel* table, unsigned count) {
  FILE* f = fopen(in, "rb");
  if (!f) fail("cannot open a job file");
  Reader r{f};
  if (r.get<uint32_t>() != 0x4a434d46u) fail("not a job file");
  uint32_t order = r.get<uint32_t>();
  sched.order = order == 1 ? Order::Reverse : order == 2 ? Order::Shuffle : Order::Forward;
  sched.seed = r.get<uint64_t>();
  unsigned nbuf = r.get<uint32_t>();
  void** buffers = new void*[nbuf + 1];
  uint64_t* sizes = new uint64_t[nbuf + 1];
  for (unsigned i = 0; i < nbuf; ++i) {
    sizes[i] = r.get<uint64_t>();
    buffers[i] = guardedBuffer(sizes[i]);
    if (sizes[i] && fread(buffers[i], sizes[i], 1, f) != 1) fail("truncated job file");
  }
  unsigned nslots = r.get<uint32_t>();
  int64_t* slots = new int64_t[nslots + 1]();
  for (unsigned i = 0; i < nslots; ++i) slots[i] = r.get<int64_t>();
  unsigned nlaunch = r.get<uint32_t>();
  for (unsigned i = 0; i < nlaunch; ++i) {
    unsigned l[5 + 64];
    for (unsigned j = 0; j < 5; ++j) l[j] = r.get<uint32_t>();
    if (l[0] >= count || l[4] > 64) fail("bad launch in the job file");
    for (unsigned j = 0; j < l[4]; ++j) {
      l[5 + j] = r.get<uint32_t>();
      if (l[5 + j] >= nbuf) fail("a launch argument names no buffer");
    }
    table[l[0]].run(table[l[0]].name, l, buffers, slots, nslots);
  }
  fclose(f);
  FILE* o = fopen(out, "wb");
  if (!o) fail("cannot write the output file");
  for (unsigned i = 0; i < nbuf; ++i)
    if (sizes[i] && fwrite(buffers[i], sizes[i], 1, o) != 1) fail("cannot write the output file");
  fclose(o);
  releaseBuffers();
  delete[] buffers;
  delete[] sizes;
  delete[] slots;
}

/** main: `binary job1 out1 [job2 out2 ...]`. */
inline int runJobs(int argc, char** argv, const Kernel* table, unsigned count) {
  installFaultHandler();
  for (int i = 1; i + 1 < argc; i += 2) runJob(argv[i], argv[i + 1], table, count);
  return 0;
}

}  // namespace fmc_cpu
