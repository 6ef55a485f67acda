// The one table of diagnostic codes and message templates. `{0}`, `{1}`, ... are filled
// with the arguments given where the diagnostic is made. Codes are stable: never reuse or
// renumber one; retire a code by leaving it here, marked unused in docs/diagnostics.md.

export const MESSAGES = {
  // ---- FM01xx: lexical and syntax errors
  FM0100: 'unexpected character {0}',
  FM0101: 'unterminated block comment',
  FM0102: 'unterminated string literal',
  FM0103: 'expected {0}, found {1}',
  FM0104: 'expected {0}, found {1}',
  FM0105: 'unclosed {0}',
  FM0106: 'invalid number literal `{0}`: {1}',
  FM0107: 'invalid escape sequence `{0}` in string',
  FM0108: 'too many errors; stopping after {0}',
  FM0109: 'nesting is too deep (more than {0} levels)',
  // ---- FM02xx: names and imports
  FM0200: 'cannot find `{0}` in this scope',
  FM0201: '`{0}` is defined more than once',
  FM0202: 'cannot find module `{0}`',
  FM0203: 'cyclic import: {0}',
  FM0204: 'module `{0}` has no declaration named `{1}`',
  FM0205: '`{0}` is {1}, not a block',
  FM0206: '`{0}` is {1}, not {2}',
  FM0207: '`{0}` in a result type is not bound by the parameters',
  FM0208: '`{0}` is imported from both `{1}` and `{2}`',
  FM0209: 'block `{0}` cannot contain itself',
  FM0210: '{0} has no member `{1}`',
  FM0211: 'recursive call ({0}): fmc has no recursion; use `repeat` for a stack of layers',
  // ---- FM03xx: compile-time values and hyperparameters
  FM0300: 'expected a compile-time constant, found {0}',
  FM0301: 'expected {0}, found {1}',
  FM0302: 'missing argument `{0}` of `{1}`',
  FM0303: '`{0}` takes {1} positional argument(s), but {2} were given',
  FM0304: '`{0}` has no parameter named `{1}`',
  FM0305: 'argument `{0}` is given more than once',
  FM0306: 'division by zero in a compile-time expression',
  FM0307: 'dimension `{0}` is not an integer ({1})',
  FM0308: 'requirement failed: {0}',
  FM0309: 'hyperparameter `{0}` of model `{1}` needs a default value',
  FM0310: '`{0}` is not one of {1}',
  FM0311: 'dimension `{0}` must be positive, but is {1}',
  FM0312: '{0} count must be a positive integer, found {1}',
  FM0313: 'hyperparameter `{0}` needs a type or a default value',
  FM0314: 'cannot set `{0}`: {1}',
  FM0315: 'invalid value for `{0}` (--set): {1}',
  FM0316: 'integer overflow: {0} does not fit in 64 bits',
  FM0317: '{0} has {1} block instances, more than the limit of {2}',
  FM0318: 'calls nested {0} deep ({1}), more than the limit of {2}',
  FM0319: 'a call of `{0}` inlines {1} calls, more than the limit of {2}',
  // ---- FM04xx: dtypes and shapes
  FM0400: 'cannot broadcast {0} with {1}: dim {2} vs {3}',
  FM0401: 'dtype mismatch: {0} vs {1}',
  FM0402: 'expected a tensor of rank {0}, found {1}',
  FM0403: 'dim `{0}` is {1} here, but was bound to {2}',
  FM0404: 'function `{0}` returns {1}, but its signature says {2}',
  FM0405: 'cannot matrix-multiply {0} by {1}: {2}',
  FM0406: 'cannot reshape {0} ({1} elements) to {2} ({3} elements)',
  FM0407: 'axis {0} is out of range for a tensor of rank {1}',
  FM0408: '{0} is not a permutation of the {1} axes',
  FM0409: 'invalid einsum: {0}',
  FM0410: 'invalid rearrange pattern: {0}',
  FM0411: 'invalid index: {0}',
  FM0412: 'expected {0}, found {1}',
  FM0413: 'cannot destructure {0} into {1} names',
  FM0414: 'function `{0}` must end with a `return` statement',
  FM0415: 'repeated block `{0}` must return what it takes: its leading parameters are {1}, its results {2}',
  FM0416: 'stacked block `{0}` needs a leading axis of size {1} on every tensor argument, found {2}',
  FM0417: 'the condition of {1} must be a compile-time bool, found {0}',
  FM0418: 'the branches of `if` have different types: {0} vs {1}',
  FM0419: '`{0}` is not defined for {1}',
  FM0420: 'expected a dimension, found {0}',
  FM0421: '`...` may appear only once in a shape',
  FM0422: 'argument {0} of `{1}`: expected {2}, found {3}',
  FM0423: 'cannot set `{0}`: {1}',
  FM0424: 'statement after `return` is never reached',
  FM0425: 'cannot concatenate {0} and {1} along axis {2}: {3}',
  FM0426: 'a tensor of rank {0}: the most axes a tensor may have is {1}',
  FM0427: '{0} has {1} elements, more than the limit of {2}',
  FM0428: 'axis {0} is given twice in the axes {1}',
  // ---- FM05xx: annotations
  FM0500: 'unknown annotation `@{0}`',
  FM0501: '`@{0}` cannot be used on {1}',
  FM0502: 'invalid argument for `@{0}`: {1}',
  FM0503: 'quantization group {0} does not divide {1} (the reduced size of `{2}`)',
  FM0504: 'invalid {0} sparsity for `{1}`: {2}',
  FM0505: 'invalid block sparsity for `{0}`: {1}',
  FM0506: '`@{0}` is given more than once',
  FM0507: '`@{0}` takes {1}',
  // ---- FM06xx: models and training
  FM0600: 'unknown train setting `{0}`',
  FM0601: 'invalid value for train setting `{0}`: {1}',
  FM0602: 'model `{0}` has no `forward` function',
  FM0603: 'loss function `{0}` must return f32[], but returns {1}',
  FM0604: '{0}',
  FM0605: 'train section of `{0}` has no `{1}`',
  // ---- FM07xx: files
  FM0700: 'cannot read `{0}`: {1}',
  FM0701: 'file is too large ({0}; the limit is {1})',
  FM0702: 'file is not UTF-8 text: {0}',
  // ---- FM08xx: compiling a model (lowering to the graph IR)
  FM0800: 'cannot compile `{0}`: {1}',
  FM0801: '{0}: {1}; its models: {2}',
  FM0802: 'model `{0}` has no function `{1}`; its functions: {2}',
  FM0803: 'cannot compile `{0}`: {1} (the limit is {2})',
  FM0804: '`require {0}` depends on sizes known only at run time and cannot be checked there: {1}',
  // ---- FM9xxx: the compiler itself
  FM9999: 'internal compiler error: {0}. This is a bug in fmc; please report it with the file that caused it',
} as const;

export type Code = keyof typeof MESSAGES;

export function formatMessage(code: Code, args: readonly (string | number)[]): string {
  // Arguments may carry user text (a `require` message): keep the message on one line.
  return MESSAGES[code].replace(/\{(\d+)\}/g, (_m, i: string) =>
    String(args[Number(i)] ?? '').replace(/[\r\n]+/g, ' '),
  );
}
