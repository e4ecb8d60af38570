/**
 * What every CLI command shares: argument parsing, option validation and turning any error into
 * the one line `main()` prints.
 *
 * The rule: a problem with the command line itself (unknown command or option, missing option,
 * option value of the wrong type or out of range) is a UsageError, printed as
 * `mobilenet-wasm: error: USAGE: <message> (see mobilenet-wasm --help)` with exit status 2.
 * Everything else (bad model, bad image, file or network problem) is a MobileNetError printed as
 * `mobilenet-wasm: error: <CODE>: <message>` with exit status 1; a file-system error is always
 * code IO and names the path and the reason. An error that is neither (a bug) prints code
 * INTERNAL, exit status 1.
 */
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MobileNetError } from '../errors.js';

export const PROG = 'mobilenet-wasm';

/** A bad command line: exit status 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;

/** A number as an option value: optional sign, digits, optional fraction and exponent (no hex, no '', no spaces). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * parseArgs, strict, with two repairs: a negative number after a string option (`--top -1`) is
 * taken as its value (parseArgs calls it ambiguous, which would hide our range message), and an
 * empty value (`--model ''`) is refused. Every parse failure is a UsageError on one line.
 */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true): Parsed<O> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && next.startsWith('-') && NUMBER.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, allowPositionals, strict: true as const });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e));
  }
  for (const [name, v] of Object.entries(parsed.values)) {
    // repeated options (multiple: true) come as arrays: each value must be given
    if (v === '' || (Array.isArray(v) && v.includes(''))) throw new UsageError(`--${name} needs a value, got an empty string`);
  }
  return parsed;
}

/** parseArgs' multi-sentence messages, shortened to what the user has to change. */
function parseArgsMessage(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = oneLine(err?.message ?? String(e));
  const quoted = /'([^']*)'/.exec(message)?.[1];
  const option = quoted?.replace(/ <value>$/, '');
  switch (err?.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option}'`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}': this command takes options only`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(message)) return `${option} needs a value`;
      if (/ambiguous/.test(message)) return `${option} needs a value; to give one that starts with '-', write ${option}=VALUE`;
      if (/does not take an argument/.test(message)) return `${option} takes no value`;
  }
  return message;
}

/** A required string option. */
export function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export interface IntRange {
  min: number;
  max: number;
}

/** An integer option in [min, max], or `def` when absent. */
export function intOption(values: Record<string, unknown>, name: string, range: IntRange, def: number): number;
export function intOption(values: Record<string, unknown>, name: string, range: IntRange, def?: number): number | undefined;
export function intOption(values: Record<string, unknown>, name: string, { min, max }: IntRange, def?: number): number | undefined {
  const v = values[name];
  if (v === undefined) return def;
  const n = NUMBER.test(String(v)) ? Number(v) : NaN;
  if (!(Number.isInteger(n) && n >= min && n <= max)) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${quote(v)}`);
  }
  return n;
}

export interface NumberRange {
  /** lower bound; excluded when minExclusive */
  min: number;
  minExclusive?: boolean;
  max: number;
  /** what the number counts, for the message ('seconds', 'MiB'...) */
  unit?: string;
}

/** A number option within the range, or `def` when absent. */
export function numberOption(values: Record<string, unknown>, name: string, range: NumberRange, def: number): number;
export function numberOption(values: Record<string, unknown>, name: string, range: NumberRange, def?: number): number | undefined;
export function numberOption(values: Record<string, unknown>, name: string, r: NumberRange, def?: number): number | undefined {
  const v = values[name];
  if (v === undefined) return def;
  const n = NUMBER.test(String(v)) ? Number(v) : NaN;
  const low = r.minExclusive ? n > r.min : n >= r.min;
  if (!(Number.isFinite(n) && low && n <= r.max)) {
    const unit = r.unit ? ` (${r.unit})` : '';
    throw new UsageError(`--${name} must be a number with ${r.min} ${r.minExclusive ? '<' : '<='} ${name} <= ${r.max}${unit}, got ${quote(v)}`);
  }
  return n;
}

/**
 * `--input-range LO,HI`: the pixel range a float model was trained on (default: the caller's,
 * TF-slim's -1,1), or undefined when absent.
 */
export function inputRangeOption(values: Record<string, unknown>, name = 'input-range'): [number, number] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parts = String(v).split(',').map((p) => (NUMBER.test(p.trim()) ? Number(p) : NaN));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
    throw new UsageError(`--${name} must be LOW,HIGH with numbers LOW < HIGH (e.g. 0,1 or -1,1), got ${quote(v)}`);
  }
  return [parts[0], parts[1]];
}

/** One of a fixed set of words, or `def` when absent. */
export function choiceOption<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], def: T): T;
export function choiceOption<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], def?: T): T | undefined;
export function choiceOption<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], def?: T): T | undefined {
  const v = values[name];
  if (v === undefined) return def;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be ${orList(choices)}, got ${quote(v)}`);
  return v as T;
}

export const KERNEL_CHOICES = ['auto', 'simd', 'scalar', 'relaxed'] as const;

const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);
const quote = (v: unknown) => `'${oneLine(String(v))}'`;

/** Newlines (and the blanks around them) collapsed to one space. */
export const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** What the file operation was doing, for the message. */
export type IoAction = 'read' | 'write' | 'list' | 'create' | 'open' | 'access';

/** An errno (ENOENT, EISDIR...) in words; `action` picks the likelier reading of ENOENT / ENOTDIR. */
export function ioReason(e: unknown, action: IoAction): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return action === 'write' || action === 'create' || action === 'list' ? 'no such directory' : 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return action === 'list' ? 'not a directory' : 'a component of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
      return 'a file of that name already exists';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EFBIG':
      return 'file too large';
    case 'EBUSY':
      return 'resource busy';
    case 'EIO':
      return 'input/output error';
    default:
      return err?.code ?? oneLine(err?.message ?? String(e));
  }
}

/**
 * A file-system error as an IO MobileNetError naming the path and the reason:
 * `cannot write /x/out.bin: no such directory`. A MobileNetError passes through unchanged.
 */
export function ioError(e: unknown, action: IoAction, path: string, what = ''): MobileNetError {
  if (e instanceof MobileNetError) return e;
  const target = what ? `${what} ${path}` : path;
  let reason = ioReason(e, action);
  if (reason === 'no such directory' && (action === 'write' || action === 'create')) reason = `no such directory ${dirname(path)}`;
  const verb = action === 'list' ? 'read the folder' : action === 'create' ? 'create' : action;
  return new MobileNetError('IO', `cannot ${verb} ${target}: ${reason}`);
}

/** Run a file-system call; its failure becomes ioError(action, path). */
export async function io<T>(action: IoAction, path: string, f: () => T | Promise<T>, what = ''): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw ioError(e, action, path, what);
  }
}

/** The synchronous io(). */
export function ioSync<T>(action: IoAction, path: string, f: () => T, what = ''): T {
  try {
    return f();
  } catch (e) {
    throw ioError(e, action, path, what);
  }
}

const SYSCALL_ACTION: Record<string, IoAction> = {
  open: 'open',
  read: 'read',
  write: 'write',
  scandir: 'list',
  opendir: 'list',
  mkdir: 'create',
  stat: 'access',
  lstat: 'access',
  access: 'access',
};

export interface CliError {
  /** USAGE, INTERNAL or a MobileNetError code */
  code: string;
  /** one line */
  message: string;
  /** 2 for USAGE, 1 otherwise */
  status: 1 | 2;
}

/** Any thrown value as the CLI reports it. */
export function describeError(e: unknown): CliError {
  if (e instanceof UsageError) return { code: 'USAGE', message: `${oneLine(e.message)} (see ${PROG} --help)`, status: 2 };
  if (e instanceof MobileNetError) {
    let message = oneLine(e.message);
    // a bare errno at the end of a library message ('... file x: ENOENT') in words
    if (e.code === 'IO') message = message.replace(/: (E[A-Z]+)$/, (_, code: string) => `: ${ioReason({ code }, /cannot write/.test(message) ? 'write' : 'read')}`);
    return { code: e.code, message, status: 1 };
  }
  const err = e as NodeJS.ErrnoException;
  // a file-system error that escaped a command's own handling: still IO, with the path
  if (err && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && typeof err.syscall === 'string') {
    const action = SYSCALL_ACTION[err.syscall] ?? 'access';
    const msg = typeof err.path === 'string' ? ioError(e, action, err.path).message : `${err.syscall}: ${ioReason(e, action)}`;
    return { code: 'IO', message: oneLine(msg), status: 1 };
  }
  // a bug: one line still, with where it happened
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const at = e instanceof Error ? e.stack?.split('\n').find((l) => /^\s+at /.test(l))?.trim() : undefined;
  return { code: 'INTERNAL', message: oneLine(`${what}${at ? ` (${at})` : ''}; this is a bug in ${PROG}`), status: 1 };
}

/** `mobilenet-wasm: error: CODE: message` (newline included). */
export function errorLine(e: unknown, context?: string): string {
  const d = describeError(e);
  const where = context && !d.message.includes(context) ? `${context}: ` : '';
  return `${PROG}: error: ${d.code}: ${where}${d.message}\n`;
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line every 10% otherwise. */
export function progressBar(total: number, label = 'images'): (done: number, name: string) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  return (done, name) => {
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label} ${name.slice(-40).padEnd(40)}`);
      if (done === total) process.stderr.write('\n');
    } else {
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${done}/${total} ${label}\n`);
      }
    }
  };
}
