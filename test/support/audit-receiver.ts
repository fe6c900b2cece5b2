// A security team's collector for audit streams, on loopback: it answers each post as the test
// scripts it (accept, refuse with a status, reset the connection, or hold it without answering)
// and keeps what it accepted, checking the JSON_LINES signature as a receiver would.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverAnswer = 'accept' | 'reset' | 'hold' | number;

export interface ReceivedPost {
  headers: http.IncomingHttpHeaders;
  body: string;
  answer: ReceiverAnswer;
  /** For JSON_LINES: whether X-Teamgraph-Signature verified under the secret. */
  signatureValid: boolean | null;
}

/** One streamed event as posted: its chain fields and the event as hashed. */
export interface StreamedEvent {
  id: string;
  seq: number;
  prevHash: string;
  hash: string;
  event: Record<string, any>;
}

export interface AuditReceiver {
  url: string;
  posts: ReceivedPost[];
  /** Answers for the coming posts, in order; once used up, `then` answers. */
  script(answers: ReceiverAnswer[], then?: ReceiverAnswer): void;
  /** Every event of every accepted post, in the order received (duplicates included). */
  accepted(): StreamedEvent[];
  close(): Promise<void>;
}

export function verifySignature(secret: string, header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(match[2], 'hex'));
}

export function eventsOf(post: ReceivedPost): StreamedEvent[] {
  const lines = post.body.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return post.headers.authorization?.startsWith('Splunk ') ? lines.map((line) => line.event) : lines;
}

export async function startAuditReceiver(secret: string): Promise<AuditReceiver> {
  let queue: ReceiverAnswer[] = [];
  let fallback: ReceiverAnswer = 'accept';
  const posts: ReceivedPost[] = [];
  const held: http.ServerResponse[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const answer = queue.length > 0 ? queue.shift()! : fallback;
      const header = request.headers['x-teamgraph-signature'];
      const signatureValid = header === undefined ? null : verifySignature(secret, String(header), body);
      posts.push({ headers: request.headers, body, answer, signatureValid });
      if (answer === 'accept') return void response.writeHead(200).end('{"ok":true}');
      if (answer === 'reset') return void request.socket.destroy();
      if (answer === 'hold') return void held.push(response);
      response.writeHead(answer).end('{"error":"scripted"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`,
    posts,
    script(answers, then = 'accept') {
      queue = [...answers];
      fallback = then;
    },
    accepted: () => posts.filter((p) => p.answer === 'accept').flatMap(eventsOf),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held.splice(0)) response.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
