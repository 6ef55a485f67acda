// The kernels' thread pool (pool.cpp): one per process, shared by every loaded library.
#pragma once

#include <cstdint>

namespace fmc {

/** A parallel loop's body, outlined by the C renderer: runs iterations [lo, hi) of the loop. */
using ParallelBody = void (*)(const void* ctx, int64_t lo, int64_t hi);

/**
 * Runs body(ctx, lo, hi) over [0, n) split in chunks that the calling thread and the pool's
 * workers claim one at a time; returns when every chunk is done. It never waits for a worker
 * that has not claimed a chunk, so a worker the OS has descheduled costs nothing unless it is
 * in the middle of a chunk. Called from inside a body, or while another thread is using the
 * pool, it runs the whole range on the calling thread. The C ABI of `fmc_set_parallel`.
 */
extern "C" void fmc_pool_parallel(ParallelBody body, const void* ctx, int64_t n);

/** Threads that run a parallel loop, the caller included (1 = the caller alone); >= 1. */
void SetPoolThreads(int32_t n);
int32_t PoolThreads();

/** How long (microseconds) an idle worker spins for the next loop before it sleeps. */
void SetPoolSpin(int32_t us);

}  // namespace fmc
