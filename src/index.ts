// The public API of the `fmc` package: compile a .fm model for the C target, load a module
// that `fmc compile` wrote, and run either on Tensors; train a model (compileTrainer, or the
// trainer of a module compiled with --train); Tensors to and from safetensors files and
// ONNX Runtime tensors. Everything else under src/ is internal.

export { compile, CompileError, type CompileOptions } from './api/compile.js';
export { load, type LoadOptions, terminalProgress } from './api/load.js';
export { compileTrainer, type CompiledTrainer, type TrainOptions } from './api/train.js';
export { gradualDensity, pruneWeights } from './ir/sparsity.js';
export type { SparseHint } from './ir/module.js';
export { CheckpointError } from './runtime/checkpoint.js';
export { type TrainOverrides, TrainConfigError } from './runtime/schedule.js';
export type { Dtype } from './ir/dtype.js';
export {
  type DeviceProfile,
  PROFILES as DEVICE_PROFILES,
  parseProfile,
  ProfileError,
} from './kernels/device-profile.js';
export { Model, type TensorSpec, type TrainerOptions } from './runtime/model.js';
export { Trainer, type StepResult, type TrainCounters } from './runtime/trainer.js';
export { RunError, type RunOptions } from './runtime/executable.js';
export { PlanFormatError } from './runtime/plan-json.js';
export { SafetensorsError } from './runtime/safetensors.js';
export { readTensors, writeTensors, type SafetensorsData } from './api/safetensors.js';
export { fromOrt, toOrt, type OrtTensorLike, type OrtTensorClass } from './api/ort.js';
export { Tensor, TensorError, type DataTypes } from './runtime/tensor.js';
