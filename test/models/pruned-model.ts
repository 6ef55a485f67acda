// An iris-sized MLP with two block-sparse weights (fc1: 2×2 blocks to density 0.25, fc2: 4×4
// to 0.5) and a dense fc3, for the gradual-pruning tests (test/cli/prune-gradual.test.ts,
// test/cuda/prune-shim.test.ts). `train` is the rest of its train section after the optimizer.

/** The model's source with train-section lines `train` (e.g. "batch = 16"). */
export const prunedModel = (train: string): string => `import { relu } from "std/act"
import { cross_entropy } from "std/loss"
import { Linear } from "std/nn"

model Pruned(features = 4, hidden = 16, classes = 3) {
  @sparse(block = 2, density = 0.25)
  fc1 = Linear(features, hidden)
  @sparse(block = 4, density = 0.5)
  fc2 = Linear(hidden, hidden)
  fc3 = Linear(hidden, classes)

  fn forward(x: f32[B, features]) -> (logits: f32[B, classes]) {
    return fc3(relu(fc2(relu(fc1(x)))))
  }

  fn loss(x: f32[B, features], labels: i32[B]) -> f32[] {
    return cross_entropy(forward(x), labels)
  }

  train {
    optimizer = adam(lr = 0.01)
    ${train}
  }
}
`;
