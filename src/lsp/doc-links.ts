// Where a diagnostic code is documented, for the link an editor shows on the code
// (`codeDescription.href`): the section of docs/diagnostics.md whose table lists the code.
// The page is the one shipped with fmc (its package files include it, and the extension's
// bundled server has a copy): on the repository's web site when the package.json next to
// std/ names a repository, else the file itself (a file: URL).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { STD_DIR } from '../frontend/program.js';

let links: Map<string, string> | undefined;

/** The URL documenting `code` (`FM0422`), or undefined when the page is not there. */
export function docLink(code: string): string | undefined {
  links ??= readLinks(path.dirname(STD_DIR));
  return links.get(code);
}

export function readLinks(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const page = path.join(root, 'docs', 'diagnostics.md');
  let text: string;
  try {
    text = fs.readFileSync(page, 'utf8');
  } catch {
    return out;
  }
  const base = repositoryPage(root) ?? pathToFileURL(page).href;
  let anchor = '';
  for (const line of text.split('\n')) {
    const heading = /^#{2,6}\s+(.*)$/.exec(line);
    if (heading) anchor = slug(heading[1]!);
    const row = /^\|\s*(FM\d{4})\s*\|/.exec(line);
    if (row && !out.has(row[1]!)) out.set(row[1]!, anchor ? `${base}#${anchor}` : base);
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** `https://github.com/o/r/blob/HEAD/docs/diagnostics.md` when package.json names a GitHub-like repository. */
function repositoryPage(root: string): string | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      repository?: string | { url?: string };
    };
    const r = manifest.repository;
    const url = typeof r === 'string' ? r : r?.url;
    if (!url) return undefined;
    const web = url
      .replace(/^git\+/, '')
      .replace(/^github:/, 'https://github.com/')
      .replace(/^git@([^:]+):/, 'https://$1/')
      .replace(/\.git$/, '');
    return /^https?:\/\//.test(web) ? `${web}/blob/HEAD/docs/diagnostics.md` : undefined;
  } catch {
    return undefined;
  }
}
