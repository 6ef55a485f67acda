// The distillation loss of a student's train step (docs/training.md#distillation): the
// student's `loss` graph (the hard loss) and its `forward` graph (the logits), both lowered
// in their training variant, are rebuilt into one builder, where hash-consing makes forward's
// nodes the very nodes that the loss computes (same inputs, params and dropout keys), so the
// student's forward runs once. The teacher's logits come in as one more graph input; the
// result is
//
//   alpha · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − alpha) · hard
//
// with the KL divergence averaged over the rows (every axis but the last: PyTorch's
// F.kl_div(..., reduction = "batchmean") for 2-D logits), in f32. The teacher's logits are an
// input, not a param: autodiff gives them no gradient and the teacher's weights never change.

import type { Lowered } from '../frontend/lower.js';
import { Builder } from '../ir/build.js';
import { dimConst, dimMul, dimToString } from '../ir/dims.js';
import { type Node, type NodeOf, liveNodes } from '../ir/graph.js';
import { rewrite } from '../ir/rewrite.js';
import { CompileError } from './compile.js';

/** The train step's input that carries the teacher's logits. */
export const TEACHER_LOGITS = 'distill.teacher_logits';

export interface DistillWeights {
  /** The weight of the soft (teacher) term, in [0, 1]. */
  readonly alpha: number;
  /** The softmax temperature T > 0; the soft term is multiplied by T². */
  readonly temperature: number;
}

/** A model's logits: `forward`'s first output (the student's are distilled, the teacher's are the targets). */
export function studentLogits(forward: Lowered, who = 'student'): Node {
  const out = forward.graph.outputs[0];
  if (!out || out.node.type.shape.length === 0)
    throw new CompileError(
      `${forward.model}: distillation needs the ${who}'s logits: \`forward\`'s first output, with a class axis last` +
        (out ? `, but it is a scalar (${out.name})` : ', but forward has no output'),
    );
  return out.node;
}

/**
 * The distillation loss graph: `loss` (training variant) and `forward` (training variant) of
 * the student merged, with the teacher's logits as the last input. A CompileError when the
 * loss does not compute forward's logits (it must call `forward` on its own inputs).
 */
export function distillLossModule(loss: Lowered, forward: Lowered, w: DistillWeights): Lowered {
  const b = new Builder();
  const L = rewrite(loss.graph, {}, b);
  const byName = new Map(L.graph.inputs.map((n) => [n.args.name, n]));
  const missing = forward.graph.inputs.filter((n) => !byName.has(n.args.name)).map((n) => n.args.name);
  const fnName = `\`${loss.graph.name}\``;
  if (missing.length > 0)
    throw new CompileError(
      `${loss.model}: distillation runs \`forward\` on the inputs of ${fnName}, which has no input ${missing.map((m) => `\`${m}\``).join(', ')}`,
    );
  const F = rewrite(forward.graph, { input: (n) => byName.get(n.args.name) }, b);
  const logits = F.map.get(studentLogits(forward))!;
  if (!liveNodes(L.graph).includes(logits))
    throw new CompileError(
      `${loss.model}: distillation needs ${fnName} to compute its hard loss from \`forward\`'s logits ` +
        `(call forward on its inputs), but its value does not use them`,
    );
  const hard = L.graph.outputs[0]!;
  if (hard.node.type.shape.length !== 0)
    throw new CompileError(`${loss.model}: ${fnName} must return a scalar loss to distill`);
  const teacher = b.within('', 'distill', () =>
    b.node(
      'input',
      { name: TEACHER_LOGITS, index: L.graph.inputs.length, dtype: logits.type.dtype, shape: logits.type.shape },
      [],
    ),
  );
  // In f32 whatever the precision policy: the precision pass keeps `kl_div` scopes f32.
  const total = b.within('', 'distill/kl_div', () => {
    const soft = b.mul(klDivergence(b, logits, teacher, w.temperature), w.alpha * w.temperature * w.temperature);
    return b.add(soft, b.mul(b.cast(hard.node, 'f32'), 1 - w.alpha));
  });
  const outputs = [{ name: hard.name, node: total }, ...L.graph.outputs.slice(1)];
  const graph = b.graph(loss.graph.name, outputs, L.graph.updates, [...L.graph.inputs, teacher]);
  return { ...loss, graph };
}

/** log softmax along the last axis: z − log Σ exp z with z = x − max x. */
function logSoftmax(b: Builder, x: Node): Node {
  const last = x.type.shape.length - 1;
  const z = b.sub(x, b.amax(x, [last], true));
  return b.sub(z, b.log(b.sum(b.exp(z), [last], true)));
}

/**
 * KL(softmax(t / T) ‖ softmax(s / T)) averaged over the rows, in f32:
 * Σ p·(log p − log q) / rows with log p and log q as log-softmaxes (finite: no 0·log 0).
 */
function klDivergence(b: Builder, student: Node, teacher: Node, temperature: number): Node {
  const logQ = logSoftmax(b, b.div(b.cast(student, 'f32'), temperature));
  const logP = logSoftmax(b, b.div(b.cast(teacher, 'f32'), temperature));
  const terms = b.mul(b.exp(logP), b.sub(logP, logQ));
  const shape = terms.type.shape;
  const rows = shape.slice(0, -1).reduce(dimMul, dimConst(1));
  const total = b.sum(
    terms,
    shape.map((_, i) => i),
  );
  return b.div(total, b.dim(rows, 'f32'));
}

/** `f32[B, 10]`: a logits type for messages. */
export const typeText = (n: Pick<NodeOf<'input'>, 'type'>): string =>
  `${n.type.dtype}[${n.type.shape.map(dimToString).join(', ')}]`;
