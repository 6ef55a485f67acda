// Whole-pipeline fuzz, first half of the 1,000 fixed seeds (two files so that vitest runs
// them on two cores). The long run is `npm run fuzz` (test/fuzz/run.ts).

import { fuzzSuite } from './suite.js';

fuzzSuite(1, 501, 5);
