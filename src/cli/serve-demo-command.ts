// `fmc serve-demo` on the command line (serve-demo.ts does the work, loaded when it runs).

import type { Command } from 'commander';
import type { Io } from './io.js';
import type { ServeDemoOptions } from './serve-demo.js';

export function addServeDemoCommand(program: Command, io: Io, setCode: (c: number) => void): void {
  program
    .command('serve-demo')
    .description('serve the browser demo (the MNIST CNN on WebGPU classifying a drawn digit) on 127.0.0.1')
    .option('--port <n>', 'the port (0: any free one)', '8080')
    .option('--out <dir>', 'build the demo into this folder and keep it (default: a temporary folder)')
    .addHelpText(
      'after',
      `
Compiles models/cnn.fm for WGSL with the demo's trained weights (fmc compile --target wgsl
--browser) and serves the page, the module and ten MNIST digits, nothing else. Open the
address it prints in a browser with WebGPU (Chrome, Edge; Firefox and Safari where enabled).

Examples:
  fmc serve-demo
  fmc serve-demo --port 9000`,
    )
    .action(async (opts: ServeDemoOptions) => {
      const { serveDemoCli } = await import('./serve-demo.js');
      setCode(await serveDemoCli(io, opts));
    });
}
