// A CUDA graph for a device's launch list: when the same list (the same module, kernels,
// arguments, grids and dims) is launched twice in a row, the second time it is captured from
// the stream into a graph, and from then on each launch of it is one cuGraphLaunch instead of
// one cuLaunchKernel per kernel (a benchmark or a serving loop launches the same list with
// inputs uploaded into the same buffers). A list of fewer than kMinGraphKernels launches, a
// driver without the graph entry points, FMC_CUDA_GRAPHS=0, or a capture the driver refuses
// (graphs are then off for the device) launches kernel by kernel as before.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "cuda_loader.h"

namespace fmc {

class LaunchGraph {
 public:
  /** Graphs pay for lists of at least this many kernels (a launch costs a few microseconds). */
  static constexpr size_t kMinGraphKernels = 2;

  LaunchGraph();

  /**
   * Runs a launch list on `stream`: `launch()` queues its kernels (returning the first failing
   * result, CUDA_SUCCESS else). `key` identifies the list (everything its launches read);
   * `kernels` is how many it queues.
   */
  CUresult Run(const CudaDriverApi& d, CUstream stream, std::vector<uint64_t> key, size_t kernels,
               const std::function<CUresult()>& launch);

  /** Destroys the graph (the context must be current). */
  void Reset(const CudaDriverApi& d);

  /** Lists captured into graphs, and launches of a graph, since the device opened. */
  uint64_t captures() const { return captures_; }
  uint64_t replays() const { return replays_; }

 private:
  CUresult Capture(const CudaDriverApi& d, CUstream stream, const std::function<CUresult()>& launch);

  bool enabled_;
  std::vector<uint64_t> last_;   // the key of the last list launched kernel by kernel
  std::vector<uint64_t> key_;    // the key of the graph
  CUgraph graph_ = nullptr;
  CUgraphExec exec_ = nullptr;
  uint64_t captures_ = 0;
  uint64_t replays_ = 0;
};

}  // namespace fmc
