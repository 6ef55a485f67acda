// Dims of the fuzzer's type tracking: linear forms c + Σ kᵢ·Sᵢ over symbols (dim variables
// such as B, hyperparameters of a generically checked block such as d), with a canonical key
// (two dims are equal for the generator only when their keys are: conservative, since the
// checker proves more), the .fm text, and a value under a binding.

export class D {
  private constructor(
    readonly c: number,
    /** Sorted by symbol, no zero coefficients. */
    readonly terms: readonly (readonly [string, number])[],
  ) {}

  static k(n: number): D {
    return new D(n, []);
  }
  static s(name: string): D {
    return new D(0, [[name, 1]]);
  }

  add(o: D): D {
    const m = new Map<string, number>(this.terms);
    for (const [s, k] of o.terms) m.set(s, (m.get(s) ?? 0) + k);
    const terms = [...m].filter(([, k]) => k !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new D(this.c + o.c, terms);
  }
  times(k: number): D {
    return k === 0
      ? D.k(0)
      : new D(
          this.c * k,
          this.terms.map(([s, j]) => [s, j * k] as const),
        );
  }

  get isConst(): boolean {
    return this.terms.length === 0;
  }
  /** The literal 1 (the only dim that broadcasts). */
  get isOne(): boolean {
    return this.isConst && this.c === 1;
  }
  get key(): string {
    return `${this.terms.map(([s, k]) => `${k}*${s}`).join('+')}|${this.c}`;
  }
  get text(): string {
    if (this.isConst) return String(this.c);
    const parts = this.terms.map(([s, k]) => (k === 1 ? s : `${k} * ${s}`));
    let out = parts.join(' + ');
    if (this.c > 0) out += ` + ${this.c}`;
    if (this.c < 0) out += ` - ${-this.c}`;
    return out;
  }
  val(env: ReadonlyMap<string, number>): number {
    let v = this.c;
    for (const [s, k] of this.terms) {
      const x = env.get(s);
      if (x === undefined) throw new Error(`fuzz: unbound dim ${s}`);
      v += k * x;
    }
    return v;
  }
  eq(o: D): boolean {
    return this.key === o.key;
  }
}

export const shapeKey = (s: readonly D[]): string => s.map((d) => d.key).join(',');
export const shapeText = (s: readonly D[]): string => s.map((d) => d.text).join(', ');

/** NumPy broadcasting on the generator's dims; undefined when not provably compatible. */
export function broadcast(a: readonly D[], b: readonly D[]): D[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: D[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i];
    const y = b[b.length - n + i];
    if (!x) out.push(y!);
    else if (!y) out.push(x);
    else if (x.eq(y)) out.push(x);
    else if (x.isOne) out.push(y);
    else if (y.isOne) out.push(x);
    else return undefined;
  }
  return out;
}
