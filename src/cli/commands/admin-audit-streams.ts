// twg admin audit stream (issue 21): the organisation's audit streams from the command line, as an
// admin API key: list them with how far delivery has got, create, change, pause, resume, delete.
// A secret is read from a file or from standard input, never from a flag's value: a command line
// is kept in shell history and shown to every user of the machine by `ps`.
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { action } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { printJson, printList, tell } from '../output.ts';
import { organizationId } from './admin-people.ts';

interface AuditStream {
  id: string;
  url: string;
  format: 'JSON_LINES' | 'SPLUNK_HEC';
  paused: boolean;
  pauseReason: string | null;
  createdAt: string;
  status: { lastDeliveredEventId: string | null; lastDeliveredAt: string | null; lagEvents: number; lastError: string | null; nextAttemptAt: string | null };
}

interface SecretOptions {
  /** Refused: see secretOptions. */
  secret?: string;
  secretFile?: string;
  secretStdin?: boolean;
}

const STREAM_FIELDS = 'id url format paused pauseReason createdAt status { lastDeliveredEventId lastDeliveredAt lagEvents lastError nextAttemptAt }';
const FORMATS: Record<string, AuditStream['format']> = { 'json-lines': 'JSON_LINES', 'splunk-hec': 'SPLUNK_HEC' };
const LIST = 'twg admin audit stream list';

const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;
const formatName = (format: string) => format.toLowerCase().replace(/_/g, '-');

function formatOf(value: string): AuditStream['format'] {
  const format = FORMATS[formatName(value)];
  if (!format) throw new CliError(EXIT.usage, `--format must be json-lines or splunk-hec, got "${value}"`);
  return format;
}

const stateOf = (s: AuditStream) => (s.paused ? `paused (${s.pauseReason ?? 'no reason recorded'})` : s.status.lastError ? 'failing' : 'active');

/** One trailing line break is the file's or the pipe's (`echo`, `openssl rand -hex 32 >`), not the secret's. */
const withoutLineBreak = (text: string) => text.replace(/\r?\n$/, '');

async function readStdin(): Promise<string> {
  // On a terminal the secret would be echoed as it is typed.
  if (process.stdin.isTTY) throw new CliError(EXIT.usage, '--secret-stdin reads a pipe or a file (… --secret-stdin < FILE), not a terminal, where the secret would be echoed', ['or use: --secret-file FILE']);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The secret the options point at, or undefined when they name none. */
async function secretOf(options: SecretOptions): Promise<string | undefined> {
  if (options.secret !== undefined) {
    throw new CliError(EXIT.usage, '--secret is not taken on the command line, where shell history and ps keep it: use --secret-file FILE or --secret-stdin', [
      'the value just typed may be in your shell history: choose another secret',
    ]);
  }
  if (options.secretFile !== undefined && options.secretStdin) throw new CliError(EXIT.usage, 'give the secret once: --secret-file FILE or --secret-stdin, not both');
  let raw: string;
  let from: string;
  if (options.secretFile !== undefined) {
    try {
      raw = readFileSync(options.secretFile, 'utf8');
    } catch (error) {
      throw new CliError(EXIT.usage, `cannot read --secret-file ${options.secretFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    from = options.secretFile;
  } else if (options.secretStdin) {
    raw = await readStdin();
    from = 'standard input';
  } else {
    return undefined;
  }
  const secret = withoutLineBreak(raw);
  if (secret.length === 0) throw new CliError(EXIT.usage, `the secret from ${from} is empty`);
  return secret;
}

function secretOptions(command: Command): Command {
  return command
    // Known, so that it is refused with the reason and the way instead of commander's "unknown option".
    .addOption(new Option('--secret <secret>', 'refused: use --secret-file or --secret-stdin').hideHelp())
    .option('--secret-file <file>', 'read the secret from this file (one trailing line break is dropped)')
    .option('--secret-stdin', 'read the secret from standard input to its end, e.g. pass show siem | twg …');
}

function describe(s: AuditStream): string {
  return `${s.id} (${s.url}, ${formatName(s.format)})`;
}

export function registerAuditStreamCommands(audit: Command): void {
  const stream = audit
    .command('stream')
    .description("Your organisation's audit streams: the audit log sent to your security team's receiver (at most three)")
    .addHelpText(
      'after',
      `
A secret (JSON lines: the HMAC key the receiver checks X-Teamgraph-Signature with, 16 to 1024
characters; Splunk HEC: the HEC token) is read from --secret-file FILE or --secret-stdin, never
from the command line, where shell history and ps would keep it. It is never shown again.

Examples:
  openssl rand -hex 32 > siem.secret
  twg admin audit stream create --url https://siem.example.com/teamgraph --secret-file siem.secret
  pass show splunk/hec | twg admin audit stream create --url https://splunk.example.com:8088/services/collector/event --format splunk-hec --secret-stdin
  ${LIST}`,
    );

  stream
    .command('list')
    .description('List the audit streams, oldest first, with how far delivery has got')
    .action(
      action(async ({ invocation, api }) => {
        const orgId = await organizationId(api);
        const { organization } = await api.request<{ organization: { auditStreams: AuditStream[] } }>(`query($o: ID!) { organization(id: $o) { auditStreams { ${STREAM_FIELDS} } } }`, { o: orgId }, 'admin');
        printList(
          invocation,
          { items: organization.auditStreams, hasMore: false },
          [
            ['id', (s) => s.id],
            ['url', (s) => s.url],
            ['format', (s) => formatName(s.format)],
            ['state', stateOf],
            ['last delivered', (s) => s.status.lastDeliveredAt],
            ['lag', (s) => s.status.lagEvents],
            ['next attempt', (s) => s.status.nextAttemptAt],
            ['last error', (s) => s.status.lastError],
          ],
          'audit streams',
        );
      }),
    );

  secretOptions(
    stream
      .command('create')
      .description('Start sending the audit log to a receiver, from this moment on')
      .requiredOption('--url <url>', 'the receiver, an https:// URL')
      .option('--format <format>', 'json-lines (signed with HMAC-SHA256) or splunk-hec', 'json-lines'),
  ).action(
    action<{ url: string; format: string } & SecretOptions>(async ({ invocation, api, options }) => {
      const format = formatOf(options.format);
      const secret = await secretOf(options);
      if (secret === undefined) throw new CliError(EXIT.usage, 'create needs the secret: --secret-file FILE or --secret-stdin (never on the command line, where shell history and ps keep it)');
      const orgId = await organizationId(api);
      const { createAuditStream } = await api.request<{ createAuditStream: AuditStream }>(
        `mutation($input: CreateAuditStreamInput!) { createAuditStream(input: $input) { ${STREAM_FIELDS} } }`,
        { input: { orgId, url: options.url, format, secret } },
        'admin',
      );
      if (invocation.json) return printJson(createAuditStream);
      tell(`created audit stream ${describe(createAuditStream)}; its first event is its own audit-stream.created`);
      tell(`see its delivery with: ${LIST}`);
    }),
  );

  secretOptions(
    stream
      .command('update')
      .description("Change a stream's receiver: its URL, its format or its secret (rotation); delivery carries on from where it stood")
      .requiredOption('--stream <id>', `the stream, by its id from ${LIST}`)
      .option('--url <url>', 'a new receiver URL')
      .option('--format <format>', 'json-lines or splunk-hec'),
  ).action(
    action<{ stream: string; url?: string; format?: string } & SecretOptions>(async ({ invocation, api, options }) => {
      const format = options.format === undefined ? undefined : formatOf(options.format);
      const secret = await secretOf(options);
      if (options.url === undefined && format === undefined && secret === undefined) {
        throw new CliError(EXIT.usage, 'nothing to change: give --url, --format, or a new secret with --secret-file FILE or --secret-stdin');
      }
      const { updateAuditStream } = await api.request<{ updateAuditStream: AuditStream }>(
        `mutation($input: UpdateAuditStreamInput!) { updateAuditStream(input: $input) { ${STREAM_FIELDS} } }`,
        { input: { id: options.stream, ...(options.url !== undefined ? { url: options.url } : {}), ...(format ? { format } : {}), ...(secret !== undefined ? { secret } : {}) } },
        'admin',
      );
      if (invocation.json) return printJson(updateAuditStream);
      const changed = [options.url !== undefined && 'url', format && 'format', secret !== undefined && 'secret'].filter(Boolean).join(', ');
      tell(`updated audit stream ${describe(updateAuditStream)}: ${changed} changed`);
    }),
  );

  stream
    .command('pause')
    .description('Stop sending; events wait in the audit log and are sent in order on resume')
    .requiredOption('--stream <id>', `the stream, by its id from ${LIST}`)
    .action(
      action<{ stream: string }>(async ({ invocation, api, options }) => {
        const { pauseAuditStream } = await api.request<{ pauseAuditStream: AuditStream }>(`mutation($id: ID!) { pauseAuditStream(id: $id) { ${STREAM_FIELDS} } }`, { id: options.stream }, 'admin');
        if (invocation.json) return printJson(pauseAuditStream);
        tell(`paused audit stream ${describe(pauseAuditStream)}: ${events(pauseAuditStream.status.lagEvents)} waiting; resume sends them in order`);
      }),
    );

  stream
    .command('resume')
    .description('Send again, starting with the events that waited (also after delivery failed for 24 hours)')
    .requiredOption('--stream <id>', `the stream, by its id from ${LIST}`)
    .action(
      action<{ stream: string }>(async ({ invocation, api, options }) => {
        const { resumeAuditStream } = await api.request<{ resumeAuditStream: AuditStream }>(`mutation($id: ID!) { resumeAuditStream(id: $id) { ${STREAM_FIELDS} } }`, { id: options.stream }, 'admin');
        if (invocation.json) return printJson(resumeAuditStream);
        tell(`resumed audit stream ${describe(resumeAuditStream)}: ${events(resumeAuditStream.status.lagEvents)} to send`);
      }),
    );

  stream
    .command('delete')
    .description('Stop sending for good; the audit log itself keeps every event')
    .requiredOption('--stream <id>', `the stream, by its id from ${LIST}`)
    .action(
      action<{ stream: string }>(async ({ invocation, api, options }) => {
        const { deleteAuditStream } = await api.request<{ deleteAuditStream: string }>('mutation($id: ID!) { deleteAuditStream(id: $id) }', { id: options.stream }, 'admin');
        if (invocation.json) return printJson({ id: deleteAuditStream });
        tell(`deleted audit stream ${deleteAuditStream}`);
      }),
    );
}
