/**
 * One child process kept running the way a process manager keeps it: its output piped line by line,
 * and when it dies without being asked to, the death logged with its exit code and signal and the
 * same command started again with the same environment after a backoff (0.5 s, doubling up to 30 s;
 * back to 0.5 s once a child has stayed up for 60 s). A child stopped on purpose — stop(), including
 * a SIGKILL sent through it to simulate a crash — is not restarted until start() is called again.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Backoff {
  /** The wait before the first restart. */
  initialMs: number;
  /** Each restart in a row doubles the wait, up to this. */
  maxMs: number;
  /** A child that stayed up this long died of something new: its restart waits initialMs again. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export interface SupervisedOptions {
  /** Used in the supervisor's messages, e.g. 'order'. */
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Each line the child writes, on stdout or stderr. */
  output: (line: string) => void;
  /** Start the child again when it dies unasked. Default true. */
  restart?: boolean;
  backoff?: Partial<Backoff>;
  /** The supervisor's own messages (a death, a restart); default: stderr, after `folio: `. */
  log?: (message: string) => void;
  /** Called with each child started after a death (not the first start), e.g. to report its readiness. */
  onRestart?: (child: ChildProcess, restarts: number) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const launcherLog = (message: string): void => {
  process.stderr.write(`folio: ${message}\n`);
};

const TAIL_LINES = 40;
const seconds = (ms: number): string => `${ms / 1000} s`;
export const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

export class Supervised {
  readonly name: string;
  /** The current child's last lines, for error messages. */
  tail: string[] = [];
  /** How many times the child was started again after dying unasked. */
  restarts = 0;
  /**
   * Whether a death is followed by a restart. start() sets it from the `restart` option; stop()
   * clears it, and so may a caller about to stop several children in turn (so that one dying of
   * the same Ctrl-C first is not restarted meanwhile).
   */
  supervise = false;
  readonly #opts: SupervisedOptions;
  readonly #backoff: Backoff;
  readonly #log: (message: string) => void;
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #startedAt = 0;
  #delayMs: number;
  #pending: NodeJS.Timeout | undefined;

  constructor(opts: SupervisedOptions) {
    this.#opts = opts;
    this.name = opts.name;
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.#delayMs = this.#backoff.initialMs;
    this.#log = opts.log ?? launcherLog;
  }

  /** The current child: running, exited, or waiting to be restarted. */
  get child(): ChildProcess | undefined {
    return this.#child;
  }

  get running(): boolean {
    return this.#child !== undefined && !hasExited(this.#child);
  }

  /** Settles when the current child has exited. */
  get exited(): Promise<Exit> {
    return this.#exited;
  }

  /** Starts the child (cancelling a restart that was waiting), and supervises it if so configured. */
  start(): ChildProcess {
    if (this.running) throw new Error(`${this.name} is already running`);
    clearTimeout(this.#pending);
    this.#pending = undefined;
    this.#delayMs = this.#backoff.initialMs;
    this.supervise = this.#opts.restart ?? true;
    return this.#spawn();
  }

  /**
   * Stops the child on purpose: nothing is restarted. Sends `signal` (SIGTERM by default, SIGKILL to
   * simulate a crash), then SIGKILL if it is still there after graceMs, and waits until it is gone.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
    this.supervise = false;
    clearTimeout(this.#pending);
    this.#pending = undefined;
    const child = this.#child;
    if (!child || hasExited(child)) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  #spawn(): ChildProcess {
    const child = spawn(this.#opts.command, this.#opts.args ?? [], { env: this.#opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.tail = [];
    this.#startedAt = Date.now();
    this.#exited = new Promise((resolve) => {
      let done = false;
      const finish = (exit: Exit) => {
        if (done) return;
        done = true;
        resolve(exit);
        this.#died(child, exit);
      };
      child.on('exit', (code, signal) => finish({ code, signal }));
      // A child that could not be spawned at all emits no 'exit'.
      child.on('error', (err) => {
        this.#log(`${this.name}: ${err.message}`);
        if (child.pid === undefined) finish({ code: null, signal: null });
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      const emit = (line: string) => {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.#opts.output(line);
      };
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) emit(line);
      });
      stream.on('end', () => {
        if (buffer) emit(buffer);
        buffer = '';
      });
    }
    return child;
  }

  #died(child: ChildProcess, exit: Exit): void {
    if (child !== this.#child || !this.supervise) return;
    if (Date.now() - this.#startedAt >= this.#backoff.resetAfterMs) this.#delayMs = this.#backoff.initialMs;
    const delayMs = this.#delayMs;
    this.#delayMs = Math.min(this.#backoff.maxMs, delayMs * 2);
    this.#log(`${this.name} exited (code ${exit.code}, signal ${exit.signal}); restarting in ${seconds(delayMs)}`);
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      if (!this.supervise) return;
      this.restarts++;
      const next = this.#spawn();
      this.#opts.onRestart?.(next, this.restarts);
    }, delayMs);
  }
}
