// Whole-pipeline fuzz, second half of the 1,000 fixed seeds (see pipeline-1.test.ts).

import { fuzzSuite } from './suite.js';

fuzzSuite(501, 1001, 10);
