// The Twilio gateway's server (docs/twilio.md): one HTTP server for the TwiML webhook
// (./webhook.ts) and the Media Streams WebSocket (`/twilio/stream`), each stream a StreamSession
// (./stream-session.ts) with its SIP leg to livekit-sip (./sip-leg.ts). The WebSocket handshake
// must carry Twilio's signature of the stream URL; the `start` message, the call token the webhook
// signed. One stream's failure never touches another's.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { StreamSession, type StreamSessionDeps } from './stream-session.js';
import { handleWebhook, isSignedByTwilio, STREAM_PATH, type WebhookDeps } from './webhook.js';

export interface GatewayOptions {
  host: string;
  port: number;
  webhook: WebhookDeps;
  session: StreamSessionDeps;
  logger: Logger;
}

export interface TwilioGateway {
  /** http://host:port of the server (its webhook and, as ws://, its streams). */
  url: string;
  /** Streams in progress. */
  readonly sessions: ReadonlySet<StreamSession>;
  close(): Promise<void>;
}

/** The URL Twilio signed for a stream's handshake: the configured stream URL and the query. */
function signedStreamUrl(streamUrl: string, reqUrl: string): string {
  const query = new URL(reqUrl, 'http://x').search;
  return streamUrl + query;
}

export async function startTwilioGateway(opts: GatewayOptions): Promise<TwilioGateway> {
  const { logger } = opts;
  const sessions = new Set<StreamSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const server: Server = createServer((req, res) => {
    handleWebhook(req, res, opts.webhook)
      .then((handled) => {
        if (!handled) res.writeHead(404).end();
      })
      .catch((err: unknown) => {
        logger.error({ err: (err as Error).message }, 'webhook failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const url = signedStreamUrl(opts.webhook.streamUrl, req.url ?? '/');
    const signature = req.headers['x-twilio-signature'];
    if (path !== STREAM_PATH || !isSignedByTwilio(opts.webhook.authToken, signature, url, {})) {
      logger.warn(
        { reason: path === STREAM_PATH ? 'bad_signature' : 'not_found' },
        'stream refused',
      );
      socket.end(`HTTP/1.1 ${path === STREAM_PATH ? '403 Forbidden' : '404 Not Found'}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  const serve = (ws: WebSocket) => {
    const session = new StreamSession(
      {
        send: (text) => {
          if (ws.readyState === ws.OPEN) ws.send(text);
        },
        close: (code, reason) => ws.close(code, reason),
      },
      opts.session,
    );
    sessions.add(session);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void session.handle('');
      session.handle(data.toString('utf8'));
    });
    ws.on('error', (err) => logger.warn({ err: err.message }, 'stream socket error'));
    ws.on('close', () => {
      void session.closed().finally(() => sessions.delete(session));
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    sessions,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await Promise.all([...sessions].map((s) => s.closed()));
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
