// `npm run package:vscode` builds the extension offline with @vscode/vsce; the .vsix holds
// the manifest naming the fm language and its grammar, and the files it points to.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** The files of a zip archive (stored or deflated entries), by name. */
function unzip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  expect(eocd).toBeGreaterThanOrEqual(0);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const skip = nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    p += 46 + skip;
  }
  return out;
}

describe('the .vsix', () => {
  it('packages the extension with its manifest, grammar, configuration and snippets', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-vsix-'));
    try {
      const out = path.join(dir, 'fm.vsix');
      const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      // The same flags as `npm run package:vscode`, with the output elsewhere.
      execFileSync(
        process.execPath,
        [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out],
        {
          cwd: path.join(ROOT, 'grammar'),
          stdio: 'pipe',
        },
      );
      const files = unzip(fs.readFileSync(out));
      const manifest = JSON.parse(files.get('extension/package.json')!.toString('utf8')) as {
        contributes: {
          languages: { id: string; extensions: string[] }[];
          grammars: { language: string; scopeName: string; path: string }[];
        };
      };
      expect(manifest.contributes.languages.map((l) => [l.id, l.extensions])).toEqual([['fm', ['.fm']]]);
      expect(manifest.contributes.grammars).toEqual([
        { language: 'fm', scopeName: 'source.fm', path: './fm.tmLanguage.json' },
      ]);
      const vsixManifest = files.get('extension.vsixmanifest')!.toString('utf8');
      expect(vsixManifest).toContain('__ext_fm');
      for (const f of ['fm.tmLanguage.json', 'language-configuration.json', 'snippets/fm.json', 'extension.js'])
        expect(files.get(`extension/${f}`)?.toString('utf8')).toBe(
          fs.readFileSync(path.join(ROOT, 'grammar', f), 'utf8'),
        );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
