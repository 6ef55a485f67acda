// Reading input files that must be regular files, and finding where an output file really goes.
//
// A FIFO would block a read forever and a device such as /dev/zero would be read without end,
// so inputs are opened without waiting (O_NONBLOCK) and judged by fstat before a byte is read.
// Outputs are written through a temp file and a rename, which would replace a device, a FIFO
// or a symlink at the name: outputTarget() follows symlinks and refuses what is not a file.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a file that is not a regular one is, for an error: "a folder", "a device"... */
export function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Why a file cannot be read or written; `why` is the reason alone ("it is a folder"), and
 * `tooLarge` says that the file was refused for its size.
 */
export class FileAccessError extends Error {
  constructor(
    readonly why: string,
    options?: ErrorOptions,
    readonly tooLarge = false,
  ) {
    super(why, options);
  }
}

const ERRNO_WHY: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  ENXIO: 'it is a socket, not a regular file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/**
 * Opens `file` only if it is a regular file (a symlink is followed, and judged by what it
 * points at): a FIFO, a device such as /dev/zero, a socket or a folder is refused before a
 * byte is read, as a FileAccessError. O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
 */
export function openRegular(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new FileAccessError(ERRNO_WHY[code] ?? (e as Error).message, { cause: e });
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new FileAccessError(st.isDirectory() ? 'it is a folder' : `it is ${kindOf(st)}, not a regular file`);
  }
  return { fd, size: st.size };
}

/**
 * The bytes of a regular file (see openRegular), exactly as many as fstat gave: a file that
 * grows meanwhile is not followed. Over `cap` bytes is a FileAccessError.
 */
export function readRegular(file: string, cap = Number.MAX_SAFE_INTEGER): Buffer {
  const { fd, size } = openRegular(file);
  try {
    if (size > cap) throw new FileAccessError(`it is ${size} bytes, over the limit of ${cap} bytes`, undefined, true);
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const got = fs.readSync(fd, buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** The UTF-8 text of a regular file (see readRegular). */
export const readRegularText = (file: string, cap?: number): string => readRegular(file, cap).toString('utf8');

/**
 * Where a write of `file` through a temp file and a rename must go: `file` itself when it is
 * missing or a regular file; when it is a symlink, the file the link points at (the link is
 * written through and stays, as `>` in a shell keeps it), followed link by link. A folder, a
 * device, a FIFO or a socket there is a FileAccessError: the rename would replace it.
 */
export function outputTarget(file: string): string {
  let target = file;
  for (let links = 0; ; links++) {
    // The folder's real path: a relative link is relative to where the link really is.
    let dir: string;
    try {
      dir = fs.realpathSync(path.dirname(target));
    } catch {
      return target; // no such folder: the write says so
    }
    target = path.join(dir, path.basename(target));
    const st = fs.lstatSync(target, { throwIfNoEntry: false });
    if (st === undefined || st.isFile()) return target;
    if (st.isDirectory()) throw new FileAccessError('it is a folder');
    if (!st.isSymbolicLink()) throw new FileAccessError(`it is ${kindOf(st)}, not a regular file`);
    if (links >= 40) throw new FileAccessError('too many levels of symbolic links');
    // Linux's protected_symlinks rule, which a link followed by hand would skip: in a sticky
    // folder anyone can write to (/tmp), follow a link only when it is ours or the folder's
    // owner's, so that a link planted there cannot aim our write at another file.
    const folder = fs.statSync(dir);
    const uid = process.getuid?.();
    if (uid !== undefined && (folder.mode & 0o1002) === 0o1002 && st.uid !== uid && st.uid !== folder.uid)
      throw new FileAccessError('it is a symbolic link in a shared sticky folder that someone else owns');
    target = path.resolve(dir, fs.readlinkSync(target));
  }
}
