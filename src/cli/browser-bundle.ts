// fmc.js, the browser loader (src/browser bundled by scripts/build-browser.mjs into
// dist/browser/fmc.js), copied next to a WGSL module by `fmc compile --target wgsl --browser`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { STD_DIR } from '../frontend/program.js';
import { CliError } from './model.js';

/** The name of the bundle next to a module (and of the import-map target that `fmc` names). */
export const BROWSER_BUNDLE = 'fmc.js';

/** Where `npm run build` writes the bundle: dist/browser/fmc.js in the package root (where std/ is). */
export const browserBundlePath = (): string => path.join(path.dirname(STD_DIR), 'dist', 'browser', 'fmc.js');

/** The bundle's text, or a CliError saying how to build it. */
export function browserBundle(): string {
  const file = browserBundlePath();
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `--browser: the browser bundle ${file} cannot be read (${(e as Error).message.split('\n')[0]}); build it with npm run build:browser`,
    );
  }
}
