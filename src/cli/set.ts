// `--set name=value` as the command line gives it: split into overrides by name. The values
// stay text; the checker parses them as .fm compile-time expressions (src/frontend/checker/
// overrides.ts). Kept apart from model.ts so `fmc check` loads no more than it needs.

/**
 * `['d=64', 'act=relu']` → `{ d: '64', act: 'relu' }` (undefined when none), or the usage
 * error: no `=`, a name that is not an identifier, a name given twice.
 */
export function splitSet(
  list: readonly string[] | undefined,
  flag = '--set',
): { set?: Record<string, string>; error?: string } {
  if (!list || list.length === 0) return {};
  const set = Object.create(null) as Record<string, string>;
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) return { error: `${flag}: expected NAME=VALUE, found \`${item}\`` };
    const name = item.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return { error: `${flag}: \`${name}\` is not a hyperparameter name (in \`${item}\`)` };
    if (Object.hasOwn(set, name)) return { error: `${flag}: ${name} is given twice` };
    set[name] = item.slice(eq + 1).trim();
  }
  return { set };
}
