// Command-line flags of `npm run bench -- <name> [--flags]`: `--key value`, `--key=value`, `--flag`
// (true) and `--no-flag` (false). Each bench declares its own flags; unknown ones are an error.

export class Flags {
  private readonly values = new Map<string, string | boolean>();

  constructor(
    args: readonly string[],
    known: Readonly<Record<string, string>>,
  ) {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (!arg.startsWith('--')) throw new Error(`bench: unexpected argument '${arg}'`);
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      let key: string;
      let value: string | boolean;
      if (eq >= 0) [key, value] = [body.slice(0, eq), body.slice(eq + 1)];
      else if (body.startsWith('no-') && body.slice(3) in known) [key, value] = [body.slice(3), false];
      else if (i + 1 < args.length && !args[i + 1]!.startsWith('--')) [key, value] = [body, args[++i]!];
      else [key, value] = [body, true];
      if (!(key in known)) {
        const list = Object.entries(known).map(([k, d]) => `  --${k}  ${d}`).join('\n');
        throw new Error(`bench: unknown flag '--${key}'. Flags:\n${list}`);
      }
      this.values.set(key, value);
    }
  }

  number(key: string, fallback: number): number {
    const v = this.values.get(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new Error(`bench: --${key} must be a positive number, got '${String(v)}'`);
    return n;
  }

  string(key: string): string | undefined {
    const v = this.values.get(key);
    if (typeof v === 'boolean') throw new Error(`bench: --${key} needs a value`);
    return v;
  }

  bool(key: string, fallback = false): boolean {
    const v = this.values.get(key);
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new Error(`bench: --${key} is a switch, got '${v}'`);
  }
}
