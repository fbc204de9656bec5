// The command line: commander definition, and argv -> Config.
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { formatNames } from '../output/registry.js';
import { indexTemplate } from '../output/fields.js';
import { ECS_VERSION } from '../core/event.js';
import { readConfigFile } from './config-file.js';
import { toConfig, type Config, type RawOptions } from './options.js';

export interface ProgramIO {
  readonly version: string;
  readonly stdoutIsTTY: boolean;
  /** Where --help and --version go. */
  readonly writeOut: (text: string) => void;
}

/** What the command line asks for: run with a Config, print a document (export), or exit now (after --help / --version). */
export type Invocation =
  | { readonly kind: 'run'; readonly config: Readonly<Config> }
  | { readonly kind: 'print'; readonly text: string }
  | { readonly kind: 'exit'; readonly code: number };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function buildProgram(io: ProgramIO): Command {
  return new Command('socketwatch')
    .description(
      "Watch the host's TCP sockets: every period, dump them over netlink sock_diag and report each new\n" +
        'one with its direction, process and user, as Metricbeat system/socket events.',
    )
    .version(io.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .option('--period <duration>', 'time between polls: 500ms, 10s, 2m', '10s')
    .option('--once', 'take one dump, print every current socket, and exit')
    .addOption(new Option('--format <format>', 'output format (default: the live view on a terminal, ndjson otherwise)').choices(formatNames))
    .option('-4, --ipv4', 'IPv4 sockets only (with -6, or with neither: both)')
    .option('-6, --ipv6', 'IPv6 sockets only')
    .option('--protocol <list>', 'transports to watch: tcp, udp, or tcp,udp', 'tcp')
    .option('--events <list>', 'what to report: opened, closed, flow (network_flow reports), comma-separated', 'opened,closed')
    .option('--flow-period <duration>', 'with flow events: report every live flow this often (negative: only final reports)', '10s')
    .option('--match <glob>', 'only sockets whose "<proto> <local> <remote> <remote-host> <state>" matches, after any container=, pod= or netns= globs (repeatable)', collect, [])
    .option('--ignore <glob>', 'not sockets whose tuple matches (repeatable)', collect, [])
    .option('--tag <name>', 'add to every event\'s tags (repeatable; the first is in event.id)', collect, [])
    .option('--field <key=value>', 'add a custom field under `fields` (repeatable; dots nest: team.name=core)', collect, [])
    .option('--fields-under-root', 'put --field fields at the top of each event instead of under `fields`')
    .option('--output <file>', 'keep <file> the current sockets as of the last poll (replaced whole, atomically), instead of events on stdout')
    .option('--output-every <duration>', 'with --output: rewrite the file at most this often, when sockets changed (and at least every 6 times this)', '10s')
    .option('--output-queue <events>', 'events that may wait for a slow output before interim flows, then opens, then closes are dropped (counted)', '100000')
    .option('--locked', "mute an event whose sensor key (system.socket.sensor_key) was written already, until unlocked: kill -USR1, or --lock-ttl")
    .option('--lock-ttl <duration>', 'with --locked: unlock each key this long after it was written')
    .option('--quiet', 'no notices on stderr (what socketwatch could not see, or had to drop); errors are still said')
    .option('--netns <which>', "network namespaces to watch: all (every container's too), or self (socketwatch's own, as Metricbeat) (default: all for root in the host's namespace, else self)")
    .option('--data-dir <dir>', 'where socketwatch keeps its state (agent.id) (default: /var/lib/socketwatch for root, else ~/.local/state/socketwatch)')
    .option('--proc-root <dir>', "the host's /proc; users are read from <dir>/../etc/passwd", '/proc')
    .option('--reverse-lookup', "look up the remote address's name (PTR) and its eTLD+1")
    .option('--success-ttl <duration>', 'keep names found for this long', '60s')
    .option('--failure-ttl <duration>', 'keep failed lookups for this long', '60s')
    .option('--dns-timeout <duration>', 'write a poll at most this long after its dump, with the names found by then', '1s')
    .option('--dns-server <ip[:port]>', "ask this DNS server instead of the system's")
    .option('--skip-local-lookups', 'do not look up loopback, link-local, private (RFC 1918, ULA) or CGNAT addresses')
    .option('--file-path <dir>', "events to rotating NDJSON files in <dir> instead of stdout (Beats' output.file)")
    .option('--file-name <name>', 'with --file-path: the files are <name>.ndjson, <name>.1.ndjson, … (default: socketwatch)')
    .option('--file-rotate-every-kb <kb>', 'with --file-path: rotate before a file passes this size (default: 10240)')
    .option('--file-number-of-files <n>', 'with --file-path: files kept, the current one included (default: 7)')
    .option('--file-permissions <mode>', 'with --file-path: the files\' mode, octal (default: 0600)')
    .option('--redis <host[:port]>', "events to Redis instead of stdout, as Beats' output.redis (the password: output.redis.password in --config, or SOCKETWATCH_REDIS_PASSWORD)")
    .option('--redis-key <key>', 'with --redis: the list or channel (default: socketwatch)')
    .option('--redis-datatype <type>', 'with --redis: list (RPUSH) or channel (PUBLISH) (default: list)')
    .option('--redis-db <n>', 'with --redis: the database (default: 0)')
    .option('--redis-timeout <duration>', 'with --redis: a command unanswered this long is tried again (default: 5s)')
    .option('--redis-backoff-init <duration>', 'with --redis: the first wait before trying again (default: 1s)')
    .option('--redis-backoff-max <duration>', 'with --redis: the longest wait, doubling up to it (default: 60s)')
    .option('--dump-every <duration>', 'a namespace in which no kernel counter moved and nothing was heard of is dumped again only this often (default: 10s; 0s: every poll, as Metricbeat)')
    .option('--metrics <host:port>', 'serve Prometheus metrics on http://<host:port>/metrics (127.0.0.1:9808, :9808 for every address)')
    .option('--metrics-label-values <n>', 'with --metrics: values kept per label (process, container, remote domain, namespace), the rest as "other" (default: 50)')
    .option('--observe-dns', 'name connections by the DNS answers their processes received (read in every watched namespace; needs CAP_NET_RAW)')
    .option('--dns-snaplen <bytes>', 'with --observe-dns: capture at most this much of each DNS packet (default: 4096)')
    .option('--config <file.yml>', 'read options from a YAML file (Metricbeat module configuration or flag names); flags win')
    .option('--record <file>', 'also save every raw dump to <file> (for bug reports and test fixtures)')
    .option('--replay <file>', 'read dumps from a --record file instead of the kernel')
    .addHelpText(
      'after',
      '\nExit status: 0 done (also after SIGINT, SIGTERM or SIGHUP, and when the reader of stdout goes away), 1 runtime failure\n' +
        '(or output the reader never took), 2 usage error, 130 a second stop signal before the poll under way was written.\n' +
        'Commands:\n  socketwatch export template [--index-pattern <pattern>]   the Elasticsearch index template for its documents\n' +
        'Examples:\n  socketwatch --period 1s\n  socketwatch --once --format json | jq -r \'.events[].process.name\'\n' +
        "  socketwatch --events closed | jq -c 'select(.network.bytes > 1000000)'\n",
    )
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: () => undefined });
}

/** Whether `flag` (as typed) is an option that takes a value: the next argument is its value. */
function takesValue(program: Command, flag: string): boolean {
  const o = program.options.find((x) => x.long === flag || x.short === flag);
  return o !== undefined && (o.required || o.optional);
}

/** `socketwatch export template [--index-pattern <pattern>]`: the Elasticsearch index template, as `metricbeat export template`. */
function exportCommand(args: readonly string[], io: ProgramIO): Invocation {
  const [what, ...rest] = args;
  if (what !== 'template') throw new UsageError(`socketwatch export ${what === undefined ? '' : `"${what}" `}is not something to export; expected: socketwatch export template [--index-pattern <pattern>]`);
  let indexPattern = 'socketwatch-*';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--index-pattern' && rest[i + 1] !== undefined && rest[i + 1] !== '') indexPattern = rest[++i]!;
    else if (a.startsWith('--index-pattern=') && a.length > 16) indexPattern = a.slice(16);
    else throw new UsageError(`socketwatch export template: unexpected "${a}"; expected --index-pattern <pattern>, like socketwatch-*`);
  }
  return { kind: 'print', text: `${JSON.stringify(indexTemplate({ indexPattern, version: io.version, ecsVersion: ECS_VERSION }), null, 2)}\n` };
}

/** Parses argv (without node and script). Throws UsageError with one line for anything wrong. */
export function parseArgs(args: readonly string[], io: ProgramIO): Invocation {
  if (args[0] === 'export') return exportCommand(args.slice(1), io);
  const program = buildProgram(io);
  try {
    program.parse([...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return { kind: 'exit', code: 0 };
      }
      if (err.code === 'commander.excessArguments') {
        // After "--" everything is an argument, dashes or not.
        const dashes = args.indexOf('--');
        const extra = dashes >= 0 && dashes < args.length - 1 ? args[dashes + 1] : args.find((a, i) => !a.startsWith('-') && !(i > 0 && takesValue(program, args[i - 1]!)));
        const after = dashes >= 0 && dashes < args.length - 1 ? ' after "--" (which ends the options)' : '';
        throw new UsageError(`unexpected argument "${extra ?? ''}"${after}; socketwatch takes options only, see socketwatch --help`);
      }
      const message = err.message
        .replace(/^error: /, '')
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\(Did you mean/, '(did you mean')
        .replace(/\.$/, '');
      throw new UsageError(`${message}; see socketwatch --help`);
    }
    throw err;
  }
  const explicit = new Set(program.options.map((o) => o.attributeName()).filter((name) => program.getOptionValueSource(name) === 'cli'));
  const opts: Record<string, unknown> = { ...program.opts() };
  if (typeof opts['config'] === 'string') {
    // The file fills in what the command line did not say.
    for (const [attr, value] of Object.entries(readConfigFile(opts['config']))) if (!explicit.has(attr)) opts[attr] = value;
  }
  return { kind: 'run', config: toConfig(opts as unknown as RawOptions, { stdoutIsTTY: io.stdoutIsTTY, explicit }) };
}
