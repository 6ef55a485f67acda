// The GPU copies of a model's weights (params, buffers, optimizer state), shared by the
// GpuExecutables of one model so that a run sees what an earlier run wrote. Each copy records
// the host version it was made from (weight-versions.ts): a host write since (a restore, a
// `weightsChanged`, a host buffer replaced by another) wins, and the copy is uploaded again at
// its next use. Generic over the device's memory: WebGPU buffers (GpuExecutable) or CUDA
// device memory (CudaExecutable).
//
// Two policies for what a run writes. `host` (the default, and inference's): the written
// weights are downloaded after every run, so the host copies stay the truth. `device` (the
// WGSL and CUDA trainers'): they stay on the GPU and are downloaded only at `sync()`; until then the
// copy is "ahead" of the host, which `ahead()` tells. No Node imports.

import type { Device, DeviceRange } from './device.js';
import { RunError } from './run-args.js';
import type { GpuBuffer } from './webgpu-types.js';
import { versionOf, weightsChanged } from './weight-versions.js';

interface Copy<M> {
  readonly buffer: M;
  /** Its size in bytes. */
  readonly bytes: number;
  /** The host buffer it was made from (another one in the map is uploaded again). */
  from: ArrayBuffer;
  /** The host version the copy was last equal to. */
  version: number;
  /** Written on the GPU since (policy `device`): the host copy is stale. */
  ahead: boolean;
  /** The device whose encoder last wrote it (downloads go through it). */
  device: Device<M>;
}

export type WeightPolicy = 'host' | 'device';

export class GpuWeights<M = GpuBuffer> {
  private readonly copies = new Map<string, Copy<M>>();

  constructor(
    /** The host copies by path. */
    readonly host: ReadonlyMap<string, ArrayBuffer>,
    readonly policy: WeightPolicy = 'host',
  ) {}

  /** The GPU copy of weight `path`, uploaded first when the host copy changed since it was made. */
  buffer(d: Device<M>, path: string): M {
    const host = this.host.get(path);
    if (!host) throw new RunError(`no weights for '${path}'`);
    let c = this.copies.get(path);
    if (!c || c.bytes < host.byteLength) {
      const buffer = d.allocate(host.byteLength, `the weights of '${path}'`);
      c = { buffer, bytes: host.byteLength, from: host, version: -1, ahead: false, device: d };
      this.copies.set(path, c);
    }
    const version = versionOf(host);
    if (c.version !== version || c.from !== host) {
      c.from = host;
      d.upload(c.buffer, 0, new Uint8Array(host));
      c.version = version;
      c.ahead = false;
    }
    return c.buffer;
  }

  /** Ranges to download after a run that wrote `paths` on `d` (none under policy `device`, which marks them ahead). */
  written(d: Device<M>, paths: readonly string[]): DeviceRange<M>[] {
    if (this.policy === 'device') {
      for (const p of paths) {
        const c = this.copies.get(p)!;
        c.ahead = true;
        c.device = d;
      }
      return [];
    }
    return paths.map((p) => ({ mem: this.copies.get(p)!.buffer, offset: 0, bytes: this.host.get(p)!.byteLength }));
  }

  /** Writes downloaded bytes of `paths` into the host copies, which are then what the GPU holds. */
  store(paths: readonly string[], bytes: readonly Uint8Array[]): void {
    if (paths.length === 0) return;
    paths.forEach((p, i) => new Uint8Array(this.host.get(p)!).set(bytes[i]!));
    weightsChanged(paths.map((p) => this.host.get(p)!));
    for (const p of paths) {
      const c = this.copies.get(p)!;
      c.version = versionOf(this.host.get(p)!);
      c.ahead = false;
    }
  }

  /** Sets weight `path` to `bytes` on the GPU and on the host (an update that went through the host). */
  set(d: Device<M>, path: string, bytes: Uint8Array): void {
    d.upload(this.buffer(d, path), 0, bytes);
    this.store([path], [bytes]);
  }

  /** The weights whose GPU copy is newer than the host's (a host write since makes the host the truth again). */
  ahead(): string[] {
    const out: string[] = [];
    for (const p of this.copies.keys()) if (this.isAhead(p)) out.push(p);
    return out;
  }

  private isAhead(path: string): boolean {
    const c = this.copies.get(path)!;
    const host = this.host.get(path)!;
    return c.ahead && c.from === host && c.version === versionOf(host);
  }

  /** Downloads every weight that is ahead (of those in `only`, when given) into its host copy. */
  async sync(only?: ReadonlySet<string>): Promise<void> {
    const paths = this.ahead().filter((p) => only === undefined || only.has(p));
    const byDevice = new Map<Device<M>, string[]>();
    for (const p of paths) {
      const d = this.copies.get(p)!.device;
      byDevice.set(d, [...(byDevice.get(d) ?? []), p]);
    }
    for (const [d, ps] of byDevice) {
      const got = await d.download(
        ps.map((p) => ({ mem: this.copies.get(p)!.buffer, offset: 0, bytes: this.host.get(p)!.byteLength })),
      );
      // A host write while the download was in flight wins over what was downloaded.
      const still = ps.filter((p) => this.isAhead(p));
      this.store(
        still,
        still.map((p) => got[ps.indexOf(p)]!),
      );
    }
  }
}
