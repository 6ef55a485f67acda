// Names people know for what the boxes of a picture compute: the std function a call scope
// names (`relu` is ReLU, `masked_softmax` is Softmax), and for single primitive nodes a
// pattern (`max(x, 0)` is ReLU) or a short name of the primitive (`einsum ABi,oi->ABo`).

import { dimToString } from '../dims.js';
import type { Node } from '../graph.js';
import { concreteShape } from '../interp.js';

/** Std functions (and composite calls) by the name their call scope carries. */
const KNOWN: Readonly<Record<string, string>> = {
  relu: 'ReLU',
  gelu: 'GELU',
  gelu_tanh: 'GELU (tanh)',
  sigmoid: 'Sigmoid',
  silu: 'SiLU',
  swish: 'Swish',
  tanh_act: 'Tanh',
  softplus: 'Softplus',
  mish: 'Mish',
  leaky_relu: 'LeakyReLU',
  elu: 'ELU',
  hard_sigmoid: 'HardSigmoid',
  glu: 'GLU',
  softmax: 'Softmax',
  masked_softmax: 'Softmax (masked)',
  log_softmax: 'LogSoftmax',
  logsumexp: 'LogSumExp',
  mean: 'Mean',
  var: 'Variance',
  normalize: 'L2 normalize',
  attention: 'Attention',
  attention_bias: 'Attention (+bias)',
  attend_scores: 'Attend',
  rope: 'RoPE',
  split_heads: 'split heads',
  merge_heads: 'merge heads',
  repeat_kv: 'repeat KV',
  padding_mask: 'padding mask',
  self_attention_mask: 'attention mask',
  causal_mask: 'causal mask',
  sliding_window_mask: 'sliding-window mask',
  sinusoidal_positions: 'sinusoidal positions',
  max_pool2d: 'MaxPool2d',
  avg_pool2d: 'AvgPool2d',
  global_avg_pool2d: 'GlobalAvgPool2d',
  flatten: 'Flatten',
  dropout: 'Dropout',
  one_hot: 'one-hot',
  argmax: 'ArgMax',
  argmin: 'ArgMin',
  cross_entropy: 'CrossEntropy',
  nll_loss: 'NLLLoss',
  kl_div: 'KLDiv',
  mse: 'MSELoss',
  load_balancing_loss: 'load-balancing loss',
  route_capacity: 'MoE routing',
  route_dense: 'MoE routing',
};

/** The name of a call scope's function: a known one, else the function's own name. */
export const callName = (fn: string): string => KNOWN[fn] ?? fn;

const SYMBOL: Readonly<Record<string, string>> = { add: '+', sub: '−', mul: '×', div: '÷' };

const isConst = (n: Node, value?: number): boolean =>
  n.op === 'full' && n.type.shape.length === 0 && (value === undefined || n.args.value === value);

/** A primitive node's name: patterns first (ReLU, Linear's matmul), then the op. */
export function opName(n: Node): string {
  switch (n.op) {
    case 'binary': {
      const [a, b] = n.inputs;
      if (n.args.fn === 'max' && (isConst(a!, 0) || isConst(b!, 0))) return 'ReLU';
      const sym = SYMBOL[n.args.fn];
      if (n.args.fn === 'mul' && a === b) return 'square';
      return sym ? `${sym} ${n.args.fn}` : n.args.fn;
    }
    case 'unary':
      return n.args.fn;
    case 'reduce':
      return `${n.args.fn} over ${n.args.axes.join(', ')}`;
    case 'einsum':
      return n.inputs[1]?.op === 'param' && /^[A-Za-z]*i,oi->[A-Za-z]*o$/.test(n.args.spec)
        ? 'MatMul (weight)'
        : `einsum ${n.args.spec}`;
    case 'gather':
      return n.inputs[0]?.op === 'param' ? 'Embedding lookup' : 'gather';
    case 'iota':
      return 'arange';
    case 'cast':
      return `cast to ${n.args.dtype}`;
    case 'window':
      return 'sliding windows';
    case 'where':
      return 'where';
    default:
      return n.op;
  }
}

/** `f32[B, T, 256]`, or with dims bound `f32[2, 16, 256]`. */
export function typeText(n: Node, dims?: ReadonlyMap<string, number>): string {
  let shape: string[];
  try {
    shape = dims ? concreteShape(n.type.shape, dims).map(String) : n.type.shape.map(dimToString);
  } catch {
    shape = n.type.shape.map(dimToString);
  }
  return `${n.type.dtype}[${shape.join(', ')}]`;
}
