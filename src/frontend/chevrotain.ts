// Chevrotain, loaded from the single-file build the package ships (lib/chevrotain.mjs)
// instead of its hundreds of ES modules: this cuts `fmc check` start-up by about 300 ms.
// Same package, same version; types still come from 'chevrotain'. It is loaded with
// require (Node >= 20.19 requires ES modules synchronously), not a top-level await, so
// that CommonJS code can `require('fmc')`.

import { createRequire } from 'node:module';
import * as path from 'node:path';

type Chevrotain = typeof import('chevrotain');

const require = createRequire(import.meta.url);
const bundled = path.join(path.dirname(require.resolve('chevrotain')), '..', 'chevrotain.mjs');
const chevrotain = require(bundled) as Chevrotain;

export const { createToken, CstParser, EOF, Lexer } = chevrotain;
