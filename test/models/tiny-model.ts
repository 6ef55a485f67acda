// The iris-sized MLP of the CLI hardening tests (train-resume, flag-limits): `hint` is a line
// of annotation put before fc1 (e.g. "@sparse(block = 1, density = 0.5)").

export const tinyModel = (hint = ''): string => `import { relu } from "std/act"
import { cross_entropy } from "std/loss"
import { Linear } from "std/nn"

model Tiny(pixels = 4, hidden = 8, classes = 3) {
${hint ? `  ${hint}\n` : ''}  fc1 = Linear(pixels, hidden)
  fc2 = Linear(hidden, classes)
  fn forward(images: f32[B, pixels]) -> (logits: f32[B, classes]) {
    return fc2(relu(fc1(images)))
  }
  fn loss(images: f32[B, pixels], labels: i32[B]) -> f32[] {
    return cross_entropy(forward(images), labels)
  }
  train {
    optimizer = adam(lr = 0.01)
    batch = 16
    steps = 20
  }
}
`;
