/**
 * Configuration from environment variables, validated once at start-up. A bad or missing
 * variable stops the process with a message that names it; nothing reads process.env later.
 *
 * Hand-written rather than env-schema/envalid: the checks we need (a parseable postgres URL,
 * a broker list of host:port) are not JSON-schema formats, and each variable carries a
 * description so the README table and start-up errors come from the same place.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface VarSpec<T> {
  description: string;
  /** Parses a present, non-empty value; throws an Error whose message says what is wrong. */
  parse(raw: string): T;
  /** Used when the variable is absent or empty; without it the variable is required. */
  fallback?: () => T;
  /** Shown instead of the value in error messages. */
  secret?: boolean;
}

export type ConfigOf<S extends Record<string, VarSpec<unknown>>> = {
  readonly [K in keyof S]: ReturnType<S[K]['parse']> | (S[K]['fallback'] extends () => infer F ? F : never);
};

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig<S extends Record<string, VarSpec<unknown>>>(specs: S, env: Env = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      if (spec.fallback) out[name] = spec.fallback();
      else problems.push({ variable: name, message: `is required (${spec.description})` });
      continue;
    }
    try {
      out[name] = spec.parse(raw);
    } catch (err) {
      const shown = spec.secret ? '' : ` (got "${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}")`;
      problems.push({ variable: name, message: `${(err as Error).message}${shown}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

interface Common<T> {
  description: string;
  default?: T;
  secret?: boolean;
}

function spec<T>(opts: Common<T>, parse: (raw: string) => T): VarSpec<T> {
  const s: VarSpec<T> = { description: opts.description, parse, secret: opts.secret ?? false };
  if (opts.default !== undefined) {
    const d = opts.default;
    s.fallback = () => d;
  }
  return s;
}

/** Builders for the kinds of variable Folio uses. */
export const env = {
  string(opts: Common<string> & { maxLength?: number; pattern?: { regex: RegExp; says: string } }): VarSpec<string> {
    return spec(opts, (raw) => {
      if (opts.maxLength !== undefined && raw.length > opts.maxLength) throw new Error(`must be at most ${opts.maxLength} characters`);
      if (opts.pattern && !opts.pattern.regex.test(raw)) throw new Error(`must be ${opts.pattern.says}`);
      return raw;
    });
  },

  int(opts: Common<number> & { min?: number; max?: number }): VarSpec<number> {
    return spec(opts, (raw) => {
      if (!/^-?\d+$/.test(raw)) throw new Error('must be a whole number');
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`must be at least ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`must be at most ${opts.max}`);
      return n;
    });
  },

  port(opts: Common<number>): VarSpec<number> {
    return env.int({ ...opts, min: 0, max: 65535 });
  },

  bool(opts: Common<boolean>): VarSpec<boolean> {
    return spec(opts, (raw) => {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error('must be true or false');
    });
  },

  oneOf<const V extends string>(values: readonly V[], opts: Common<V>): VarSpec<V> {
    return spec(opts, (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
      return raw as V;
    });
  },

  url(opts: Common<string> & { protocols: readonly string[] }): VarSpec<string> {
    return spec(opts, (raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error(`must be a URL like ${opts.protocols[0]}//host:port/...`);
      }
      if (!opts.protocols.includes(u.protocol)) throw new Error(`must use ${opts.protocols.join(' or ')} (found ${u.protocol})`);
      if (!u.hostname) throw new Error('must name a host');
      return raw;
    });
  },

  /** A comma-separated list of host:port pairs, as Kafka bootstrap servers are given. */
  hostPorts(opts: Common<string[]>): VarSpec<string[]> {
    return spec(opts, (raw) => {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const item of items) {
        const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(item);
        if (!m || Number(m[2]) > 65535) throw new Error(`"${item}" is not host:port`);
      }
      if (items.length === 0) throw new Error('must list at least one host:port');
      return items;
    });
  },

  /** Makes any variable optional: absent means undefined. */
  optional<T>(s: VarSpec<T>): VarSpec<T | undefined> {
    return { ...s, fallback: () => undefined } as VarSpec<T | undefined>;
  },
};
