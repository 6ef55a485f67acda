// The values of `--quantize PATH=SPEC` (quantize-option.ts) as the quantize pass's rules.

import { parseQuantSpec } from '../ir/quantize.js';
import type { QuantRule } from '../passes/pass.js';
import { covers } from '../passes/quantize.js';
import { EXIT, type Io } from './io.js';
import { CliError } from './model.js';

/** `['all=int8', 'ffn=int4:128']` → rules; a malformed one is a usage error. */
export function parseQuantize(list: readonly string[] | undefined): QuantRule[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((item) => {
    const eq = item.indexOf('=');
    const path = item.slice(0, eq).trim();
    if (eq < 0 || !/^[A-Za-z_0-9]+(\.[A-Za-z_0-9]+)*$/.test(path))
      throw new CliError(`--quantize: expected PATH=SPEC (all=int8, ffn=int4:128), found \`${item}\``, EXIT.usage);
    const text = item.slice(eq + 1).trim();
    if (text === 'none') return { path, spec: 'none' };
    const spec = parseQuantSpec(text);
    if (typeof spec === 'string') throw new CliError(`--quantize: ${spec}`, EXIT.usage);
    return { path, spec };
  });
}

/**
 * Warns about `--quantize` paths that cover no param of the model (as `--dims` warns about
 * names the graph does not use): a misspelled path would otherwise quantize nothing, silently.
 */
export function warnUnusedQuantize(
  io: Io,
  l: { readonly model: string; readonly params: readonly { readonly path: string }[] },
  rules: readonly QuantRule[] | undefined,
): void {
  const paths = l.params.map((p) => p.path);
  const shown = paths.length > 8 ? `${paths.slice(0, 8).join(', ')}, …` : paths.join(', ') || 'none';
  for (const r of rules ?? [])
    if (!paths.some((p) => covers(r.path, p)))
      io.err(
        `fmc: warning: --quantize ${r.path}: \`${l.model}\` has no param at or under ${r.path} (its params: ${shown})\n`,
      );
}
