#include "cuda_graph.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace fmc {

namespace {

bool GraphEntryPoints(const CudaDriverApi& d) {
  return d.cuStreamBeginCapture_v2 && d.cuStreamEndCapture && d.cuGraphInstantiateWithFlags && d.cuGraphLaunch &&
         d.cuGraphExecDestroy && d.cuGraphDestroy;
}

}  // namespace

LaunchGraph::LaunchGraph() {
  const char* env = std::getenv("FMC_CUDA_GRAPHS");
  enabled_ = env == nullptr || std::strcmp(env, "0") != 0;
}

CUresult LaunchGraph::Run(const CudaDriverApi& d, CUstream stream, std::vector<uint64_t> key, size_t kernels,
                          const std::function<CUresult()>& launch) {
  if (!enabled_ || kernels < kMinGraphKernels || !GraphEntryPoints(d)) return launch();
  if (exec_ != nullptr && key == key_) {
    replays_++;
    return d.cuGraphLaunch(exec_, stream);
  }
  if (key != last_) {
    last_ = std::move(key);
    return launch();
  }
  // The second launch of the same list in a row: capture it, then run the graph.
  Reset(d);
  CUresult r = Capture(d, stream, launch);
  if (r != CUDA_SUCCESS) {
    enabled_ = false;  // the driver refused: kernel by kernel from now on
    return launch();
  }
  key_ = std::move(last_);
  last_.clear();
  captures_++;
  replays_++;
  return d.cuGraphLaunch(exec_, stream);
}

CUresult LaunchGraph::Capture(const CudaDriverApi& d, CUstream stream, const std::function<CUresult()>& launch) {
  CUresult r = d.cuStreamBeginCapture_v2(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  if (r != CUDA_SUCCESS) return r;
  CUresult queued = launch();  // captured, not run
  CUgraph graph = nullptr;
  r = d.cuStreamEndCapture(stream, &graph);  // ends the capture even after a failed launch
  if (queued != CUDA_SUCCESS || r != CUDA_SUCCESS) {
    if (graph != nullptr) d.cuGraphDestroy(graph);
    return queued != CUDA_SUCCESS ? queued : r;
  }
  CUgraphExec exec = nullptr;
  r = d.cuGraphInstantiateWithFlags(&exec, graph, 0);
  if (r != CUDA_SUCCESS) {
    d.cuGraphDestroy(graph);
    return r;
  }
  graph_ = graph;
  exec_ = exec;
  return CUDA_SUCCESS;
}

void LaunchGraph::Reset(const CudaDriverApi& d) {
  if (exec_ != nullptr) d.cuGraphExecDestroy(exec_);
  if (graph_ != nullptr) d.cuGraphDestroy(graph_);
  exec_ = nullptr;
  graph_ = nullptr;
  key_.clear();
}

}  // namespace fmc
