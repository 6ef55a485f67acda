import { describe, expect, it } from 'vitest';
import type * as A from '../../src/frontend/ast.js';
import { type AnnotationTarget, checkAnnotations, type ParamInfo } from '../../src/frontend/checker/annotations.js';
import { Checker, type Ctx, Scope } from '../../src/frontend/checker/context.js';
import { checkTrain, trainLossName } from '../../src/frontend/checker/train.js';
import { dimConst, dimSym } from '../../src/ir/dims.js';
import { parseSource } from '../../src/frontend/parse.js';
import type { Binding, BlockInstance, Dtype } from '../../src/frontend/types.js';

const program = { source: () => undefined, moduleByPath: () => undefined, modules: new Map() };

function mkCtx(): Ctx {
  const checker = new Checker(program as never);
  const scope = new Scope(undefined);
  scope.define('G', { value: { kind: 'int', dim: dimConst(64) }, span: undefined, what: 'hyperparameter' });
  scope.define('S', { value: { kind: 'int', dim: dimSym('S') }, span: undefined, what: 'hyperparameter' });
  scope.define('P', { value: { kind: 'dtype', value: 'bf16' }, span: undefined, what: 'hyperparameter' });
  return { checker, scope, module: 't.fm', owner: undefined, allowTensors: false, fnEllipsis: undefined };
}

function parse(text: string): A.File {
  const r = parseSource('t.fm', text);
  expect(r.diagnostics).toEqual([]);
  return r.ast;
}

const span = { file: 't.fm', start: 0, end: 1 };
function param(path: string, dims: (number | string)[], dtype: Dtype = 'f32', isBuffer = false): ParamInfo {
  const shape = { prefix: undefined, dims: dims.map((d) => (typeof d === 'number' ? dimConst(d) : dimSym(d))) };
  return { path, type: { dtype, shape, origin: undefined }, isBuffer, span };
}
const W = param('w', [256, 768]);
const onParam = (p: ParamInfo): AnnotationTarget => ({ kind: 'param', param: p });
const onChild = (...params: ParamInfo[]): AnnotationTarget => ({ kind: 'child', name: 'up', params });
const onBlock: AnnotationTarget = { kind: 'block', name: 'B', isModel: true, params: [W] };

/**
 * Parses annotations. `block` is a keyword the parser does not accept as an argument name
 * (yet), so `block =` is parsed as `BLOCK =` and renamed in the AST.
 */
function parseAnns(anns: string): readonly A.Annotation[] {
  const item = parse(`${anns.replaceAll('block =', 'BLOCK =')} const X = 1`).items[0] as A.ConstDecl;
  return item.annotations.map((a) => ({
    ...a,
    args: a.args?.map((x) =>
      x.kind === 'Named' && x.name.name === 'BLOCK' ? { ...x, name: { ...x.name, name: 'block' } } : x,
    ),
  }));
}
function annMessages(anns: string, target: AnnotationTarget = onParam(W)) {
  const ctx = mkCtx();
  checkAnnotations(ctx, parseAnns(anns), target);
  return ctx.checker.diagnostics;
}
/** The diagnostic codes for `anns` (annotation source text) on `target`. */
const ann = (anns: string, target: AnnotationTarget = onParam(W)) => annMessages(anns, target).map((d) => d.code);

describe('annotations', () => {
  it('accepts valid annotations', () => {
    expect(ann('@quantize(int4, group = 128) @sparse(2:4)')).toEqual([]);
    expect(ann('@quantize(int8) @sparse(block = 16, density = 0.5)')).toEqual([]);
    expect(ann('@quantize(int8, group = G)')).toEqual([]);
    expect(ann('@quantize(int4, group = 128, scheme = asym)')).toEqual([]);
    expect(ann('@quantize(int8, scheme = sym)')).toEqual([]);
    expect(ann('@precision(bf16) @checkpoint', onBlock)).toEqual([]);
    expect(ann('@precision(P) @checkpoint()', onChild(W))).toEqual([]);
    expect(ann('@precision(f32)', { kind: 'fn', name: 'f' })).toEqual([]);
    expect(ann('@quantize(int4, group = 128)', onChild(W, param('b', [768]), param('s', [7, 7], 'f32', true)))).toEqual(
      [],
    );
  });

  it('reports unknown annotations with a suggestion (FM0500)', () => {
    const [d] = annMessages('@quantise(int4)');
    expect(d?.code).toBe('FM0500');
    expect(d?.help).toContain('@quantize');
    // Names of Object.prototype members are not annotations (built by hand: the parser trips on them).
    const ctx = mkCtx();
    const [c] = parseAnns('@checkpoint');
    checkAnnotations(ctx, [{ ...c!, name: { ...c!.name, name: 'constructor' } }], onBlock);
    expect(ctx.checker.diagnostics.map((x) => x.code)).toEqual(['FM0500']);
  });

  it('reports wrong targets (FM0501)', () => {
    const [d] = annMessages('@checkpoint', onParam(W));
    expect(d?.message).toBe('`@checkpoint` cannot be used on a param');
    expect(ann('@precision(f32)', onParam(W))).toEqual(['FM0501']);
    expect(ann('@quantize(int8)', { kind: 'fn', name: 'f' })).toEqual(['FM0501']);
    expect(ann('@sparse(2:4)', { kind: 'other', what: 'a constant' })).toEqual(['FM0501']);
  });

  it('reports repeated annotations (FM0506)', () => {
    expect(ann('@checkpoint @checkpoint', onBlock)).toEqual(['FM0506']);
  });

  it('reports wrong argument counts (FM0507)', () => {
    expect(ann('@precision', onBlock)).toEqual(['FM0507']);
    expect(ann('@precision(f32, f16)', onBlock)).toEqual(['FM0507']);
    expect(ann('@checkpoint(1)', onBlock)).toEqual(['FM0507']);
    expect(ann('@quantize')).toEqual(['FM0507']);
    expect(ann('@quantize(group = 4)')).toEqual(['FM0507']);
    expect(ann('@quantize(int4, int8)')).toEqual(['FM0507']);
    expect(ann('@sparse')).toEqual(['FM0507']);
    expect(ann('@sparse(block = 4)')).toEqual(['FM0507']);
    expect(ann('@sparse(2:4, 1:2)')).toEqual(['FM0507']);
  });

  it('reports bad argument values (FM0502)', () => {
    const [d] = annMessages('@precision(fp16)', onBlock);
    expect(d?.code).toBe('FM0502');
    expect(d?.help).toContain('f16');
    expect(ann('@precision(i8)', onBlock)).toEqual(['FM0502']);
    expect(ann('@precision(1)', onBlock)).toEqual(['FM0502']);
    expect(ann('@quantize(int3)')).toEqual(['FM0502']);
    expect(ann('@quantize(int4, group = 0)')).toEqual(['FM0502']);
    expect(ann('@quantize(int4, group = 1.5)')).toEqual(['FM0502']);
    expect(ann('@quantize(int4, groups = 4)')).toEqual(['FM0502']);
    expect(ann('@quantize(int4, group = true)')).toEqual(['FM0502']);
    expect(ann('@quantize(int4, scheme = symmetric)')).toEqual(['FM0502']);
    expect(ann('@sparse(block = 4, density = 0.5, foo = 1)')).toEqual(['FM0502']);
    expect(ann('@sparse(block = 2.5, density = 0.5)')).toEqual(['FM0502']);
    expect(ann('@sparse(block = 4, density = true)')).toEqual(['FM0502']);
    expect(ann('@sparse(1.5:4)')).toEqual(['FM0502']);
  });

  it('rejects params that cannot be quantized or sparsified (FM0502)', () => {
    expect(annMessages('@quantize(int8)', onParam(param('b', [768])))[0]?.message).toContain(
      'rank 1; `@quantize` applies to params of rank 2 or more',
    );
    expect(annMessages('@quantize(int8)', onParam(param('s', [4, 4], 'f32', true)))[0]?.message).toContain('buffer');
    expect(annMessages('@quantize(int8)', onParam(param('e', [4, 4], 'i32')))[0]?.message).toContain(
      'float params only',
    );
    expect(ann('@sparse(2:4)', onParam(param('b', [768])))).toEqual(['FM0502']);
  });

  it('checks quantization groups (FM0503)', () => {
    const [d] = annMessages('@quantize(int4, group = 100)');
    expect(d?.message).toBe('quantization group 100 does not divide 768 (the reduced size of `w`)');
    expect(d?.notes[0]?.span).toBe(span);
    const two = annMessages('@quantize(int4, group = 100)', onChild(W, param('v', [3, 7])));
    expect(two.map((x) => x.code)).toEqual(['FM0503']);
    expect(ann('@quantize(int4, group = 7)', onParam(param('x', [3, 'S'])))).toEqual([]);
    expect(ann('@quantize(int4, group = 2)', onParam(param('x', [3, 'S', 4])))).toEqual([]);
  });

  it('checks n:m sparsity (FM0504)', () => {
    expect(ann('@sparse(4:4)')).toEqual(['FM0504']);
    expect(ann('@sparse(0:4)')).toEqual(['FM0504']);
    const [d] = annMessages('@sparse(2:5)', onBlock);
    expect(d?.message).toContain('invalid 2:5 sparsity for `w`');
  });

  it('checks block sparsity (FM0505)', () => {
    expect(ann('@sparse(block = 48, density = 0.5)')).toEqual(['FM0505']);
    expect(ann('@sparse(block = 0, density = 0.5)')).toEqual(['FM0505']);
    expect(ann('@sparse(block = 16, density = 0)')).toEqual(['FM0505']);
    expect(ann('@sparse(block = 16, density = 1.5)')).toEqual(['FM0505']);
    expect(ann('@sparse(block = 16, density = 1)', onChild(W, param('v', [12, 12])))).toEqual(['FM0505']);
  });
});

// ---------------------------------------------------------------- train

const lossFn: Binding = {
  value: { kind: 'fn', fn: 'builtin-elementwise', name: 'loss' },
  span: undefined,
  what: 'function',
};
const dModel: Binding = { value: { kind: 'int', dim: dimConst(8) }, span: undefined, what: 'hyperparameter' };

function train(body: string, withLoss = true) {
  const ctx = mkCtx();
  ctx.scope.define('d', dModel);
  const decl = parse(`model M { train { ${body} } }`).items[0] as A.BlockDecl;
  const t = decl.members.find((m): m is A.TrainDecl => m.kind === 'Train')!;
  const scope = new Map<string, Binding>([['d', dModel]]);
  if (withLoss) scope.set('loss', lossFn);
  const inst: BlockInstance = { decl, module: 't.fm', key: '', scope, site: undefined, label: 'M' };
  checkTrain(ctx, inst, t);
  return { t, diags: ctx.checker.diagnostics, codes: ctx.checker.diagnostics.map((d) => d.code) };
}
const opt = 'optimizer = adamw(lr = 3e-4)';

describe('train', () => {
  it('accepts the documented example', () => {
    const { codes, t } = train(`loss = loss
      optimizer = adamw(lr = 3e-4, betas = (0.9, 0.95), eps = 1e-8, weight_decay = 0.1)
      schedule = cosine(warmup = 200, steps = 10000, min_lr = 3e-5)
      precision = bf16 loss_scale = dynamic accumulate = 4 clip = 1.0 batch = 32 steps = 10000`);
    expect(codes).toEqual([]);
    expect(trainLossName(t)?.name).toBe('loss');
    expect(
      train(`optimizer = sgd(0.1, momentum = 0.9, nesterov = true) schedule = step(every = 100, gamma = 0.5)`).codes,
    ).toEqual([]);
    expect(train(`${opt} schedule = constant() loss_scale = 1024 precision = P`).codes).toEqual([]);
    expect(train(`${opt} schedule = linear(steps = 100)`).codes).toEqual([]);
    expect(train(`${opt} prune = gradual(start = 100, end = 1000, every = 50)`).codes).toEqual([]);
    expect(train(`${opt} prune = gradual(end = 10)`).codes).toEqual([]);
    expect(trainLossName(train(opt).t)).toBeUndefined();
  });

  it('requires an optimizer and a loss function (FM0605)', () => {
    const { diags } = train('batch = 8');
    expect(diags.map((d) => d.message)).toEqual(['train section of `M` has no `optimizer`']);
    expect(train(opt, false).codes).toEqual(['FM0605']);
    expect(train(`${opt} loss = d`, false).codes).toEqual(['FM0601']);
  });

  it('reports unknown keys with a suggestion (FM0600)', () => {
    const { diags } = train(`${opt} optimiser = 1`);
    expect(diags.map((d) => [d.code, d.help])).toEqual([['FM0600', 'did you mean `optimizer`?']]);
  });

  it('reports keys given twice (FM0201)', () => {
    expect(train(`${opt} batch = 8 batch = 16`).codes).toEqual(['FM0201']);
  });

  it('reports annotations on the train section (FM0501)', () => {
    const ctx = mkCtx();
    const decl = parse(`model M { @checkpoint train { ${opt} } }`).items[0] as A.BlockDecl;
    const t = decl.members.find((m): m is A.TrainDecl => m.kind === 'Train')!;
    const inst: BlockInstance = {
      decl,
      module: 't.fm',
      key: '',
      scope: new Map([['loss', lossFn]]),
      site: undefined,
      label: 'M',
    };
    checkTrain(ctx, inst, t);
    expect(ctx.checker.diagnostics.map((d) => d.code)).toEqual(['FM0501']);
  });

  it.each([
    ['optimizer = adamx(lr = 1)', 'unknown optimizer `adamx`'],
    ['optimizer = adamw', 'must be called'],
    ['optimizer = 3', 'expected an optimizer call'],
    ['optimizer = adamw()', 'needs `lr`'],
    ['optimizer = adamw(lr = 0)', 'must be a positive number, found 0'],
    ['optimizer = adamw(lr = true)', 'must be a positive number, found bool'],
    ['optimizer = adamw(lr = 1, momentum = 0.9)', 'has no argument `momentum`'],
    ['optimizer = adamw(lr = 1, lr = 2)', 'given more than once'],
    ['optimizer = adamw(1, 2)', 'named arguments only'],
    ['optimizer = constructor(lr = 1)', 'unknown optimizer `constructor`'],
    ['optimizer = adamw(lr = 1, toString = 1)', 'has no argument `toString`'],
    ['optimizer = adamw(lr = 1, betas = (0.9, 1.0))', 'pair of numbers in [0, 1), found 1'],
    ['optimizer = adamw(lr = 1, betas = 0.9)', 'pair of numbers'],
    ['optimizer = adamw(lr = 1, eps = -1)', '`eps` must be a positive number'],
    ['optimizer = adamw(lr = 1, weight_decay = -0.1)', '`weight_decay` must be a number ≥ 0'],
    ['optimizer = sgd(lr = 1, momentum = 1)', '`momentum` must be a number in [0, 1)'],
    ['optimizer = sgd(lr = 1, nesterov = 1)', '`nesterov` must be `true` or `false`'],
    [`${opt} schedule = cosin(steps = 10)`, 'unknown schedule `cosin`'],
    [`${opt} schedule = cosine(warmup = 10)`, 'needs `steps`'],
    [`${opt} schedule = step()`, 'needs `every`'],
    [`${opt} schedule = cosine(steps = 10, warmup = 20)`, 'warmup (20) is longer'],
    [`${opt} schedule = linear(steps = 1.5)`, 'positive integer, found float'],
    [`${opt} prune = gradul(end = 10)`, 'unknown pruning schedule `gradul`'],
    [`${opt} prune = gradual(start = 10)`, 'needs `end`'],
    [`${opt} prune = gradual(start = 10, end = 10)`, 'pruning must end after it starts (end 10 ≤ start 10)'],
    [`${opt} prune = gradual(end = 10, every = 0)`, '`every` must be a positive integer, found 0'],
    [`${opt} prune = gradual(start = -1, end = 10)`, '`start` must be an integer ≥ 0'],
    [`${opt} precision = i8`, 'found `i8`'],
    [`${opt} precision = fp16`, 'found `fp16`'],
    [`${opt} loss_scale = dynamc`, 'expected `none`, `dynamic` or a positive number'],
    [`${opt} loss_scale = -1`, 'expected a positive number ≤ 3.4028234663852886e+38 (the largest f32), found -1'],
    [`${opt} loss_scale = 1e39`, 'expected a positive number ≤ 3.4028234663852886e+38 (the largest f32), found 1e+39'],
    [`${opt} loss_scale = 3.4028234663852886e38`, ''],
    [`${opt} accumulate = 0`, 'expected an integer from 1 to 65536, found 0'],
    [`${opt} accumulate = 1000000000`, 'expected an integer from 1 to 65536, found 1000000000'],
    [`${opt} accumulate = 65536`, ''],
    [`${opt} accumulate = 2.0`, 'expected an integer from 1 to 65536, found float'],
    [`${opt} batch = 2.0`, 'positive integer'],
    [`${opt} steps = d`, ''],
    [`${opt} clip = 0`, 'expected a positive number, found 0'],
    [`${opt} loss = lost`, 'model `M` has no function `lost`'],
    [`${opt} loss = d`, 'is a hyperparameter, not a function'],
    [`${opt} loss = loss + 1`, 'expected the name of a function'],
  ])('reports invalid values (FM0601): %s', (body, text) => {
    const { diags } = train(body);
    if (text === '') return expect(diags).toEqual([]); // valid: `d` is a constant 8, the bounds themselves
    expect(diags.map((d) => d.code)).toEqual(['FM0601']);
    expect(diags[0]?.message).toContain(text);
  });

  it('rejects positional schedule arguments, then the missing one (FM0601)', () => {
    const { diags } = train(`${opt} schedule = linear(100)`);
    expect(diags.map((d) => d.message)).toEqual([
      'invalid value for train setting `schedule`: `linear` takes named arguments only',
      'invalid value for train setting `schedule`: `linear` needs `steps`',
    ]);
  });

  it('suggests close names', () => {
    expect(train('optimizer = adamww(lr = 1)').diags[0]?.help).toBe('did you mean `adamw`?');
    expect(train(`${opt} loss = los`).diags[0]?.help).toBe('did you mean `loss`?');
    expect(train(`${opt} loss_scale = dynamc`).diags[0]?.help).toBe('did you mean `dynamic`?');
  });
});
