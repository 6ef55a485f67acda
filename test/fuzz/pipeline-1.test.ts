// Whole-pipeline fuzz, first half of the 1,000 fixed seeds (two files so that vitest runs
// them on two cores), C on every 10th seed (the long run, `npm run fuzz` (test/fuzz/run.ts),
// builds C for every seed).

import { fuzzSuite } from './suite.js';

fuzzSuite(1, 501, 10);
