// A local stand-in for Deepgram's API, speaking its documented protocol so the real LiveKit
// plugin talks to it unchanged (DEEPGRAM_BASE_URL): streaming speech to text on the /v1/listen
// WebSocket, text to speech on the /v1/speak WebSocket and REST request. It is as strict as
// Deepgram where the plugin could notice: a missing or wrong `Authorization: Token <key>` is
// refused with 401 before any WebSocket opens, malformed parameters with 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import * as z from 'zod';
import { ListenSession } from './deepgram-listen.js';
import { errorBody, listenQuery, queryOf, speakQuery } from './deepgram-protocol.js';
import { SpeakSession, speakRest } from './deepgram-speak.js';
import type { Recognizer } from './recognizer.js';
import {
  type StandIn,
  Traffic,
  createServer,
  jsonBody,
  listenOnLoopback,
} from './stand-in-http.js';

export interface DeepgramStandInOptions {
  apiKey: string;
  recognizer: Recognizer;
}

/** What one accepted stream or request asked for, as its query parameters said it. */
export interface DeepgramRequest {
  /** `/v1/listen` (a recognizer's stream) or `/v1/speak` (a voice's stream or request). */
  route: '/v1/listen' | '/v1/speak';
  /** The model (`nova-3`; an Aura voice for speak). */
  model: string;
  /** The `language` of a listen stream (Deepgram's default, `en`, when it names none). */
  language?: string;
}

export interface DeepgramStandIn extends StandIn {
  /** Every stream and request it accepted, in order (the lab's tests read what the agent asked). */
  requests: DeepgramRequest[];
}

type Refusal = { status: number; body: object };

function authorized(req: IncomingMessage, apiKey: string): Refusal | undefined {
  if (req.headers.authorization === `Token ${apiKey}`) return undefined;
  return { status: 401, body: errorBody('INVALID_AUTH', 'Invalid credentials.') };
}

function badRequest(error: z.ZodError): Refusal {
  return { status: 400, body: errorBody('Bad Request', z.prettifyError(error)) };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  500: 'Internal Server Error',
};

const SERVER_ERROR: Refusal = {
  status: 500,
  body: errorBody('INTERNAL_SERVER_ERROR', 'The service is unavailable (the lab switched it off).'),
};

/** Refuses a WebSocket handshake the way Deepgram does: an HTTP error, never a 101. */
function refuseUpgrade(socket: Duplex, r: Refusal): void {
  const body = JSON.stringify(r.body);
  const reason = ((r.body as { err_msg?: string }).err_msg ?? '').replace(/[^\x20-\x7e]+/g, ' ');
  socket.end(
    `HTTP/1.1 ${r.status} ${REASONS[r.status] ?? 'Error'}\r\n` +
      `content-type: application/json\r\ndg-error: ${reason}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function reply(res: ServerResponse, r: Refusal): void {
  res.writeHead(r.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(r.body));
}

export async function startDeepgramStandIn(opts: DeepgramStandInOptions): Promise<DeepgramStandIn> {
  const wss = new WebSocketServer({ noServer: true });
  const traffic = new Traffic();
  const requests: DeepgramRequest[] = [];
  const server = createServer((req, res) => {
    void handleRest(req, res, opts, traffic, requests).catch(() => {
      if (!res.headersSent) reply(res, { status: 500, body: errorBody('Bad Request', 'internal') });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const denied = authorized(req, opts.apiKey);
    if (denied) return refuseUpgrade(socket, denied);
    if (url.pathname === '/v1/listen') {
      const q = listenQuery.safeParse(queryOf(url));
      if (!q.success) return refuseUpgrade(socket, badRequest(q.error));
      if (!traffic.admit(url.pathname)) return refuseUpgrade(socket, SERVER_ERROR);
      requests.push({ route: '/v1/listen', model: q.data.model, language: q.data.language });
      wss.handleUpgrade(req, socket, head, (ws) => new ListenSession(ws, q.data, opts.recognizer));
    } else if (url.pathname === '/v1/speak') {
      const q = speakQuery.safeParse(queryOf(url));
      if (!q.success) return refuseUpgrade(socket, badRequest(q.error));
      if (!traffic.admit(url.pathname)) return refuseUpgrade(socket, SERVER_ERROR);
      requests.push({ route: '/v1/speak', model: q.data.model });
      wss.handleUpgrade(req, socket, head, (ws) => new SpeakSession(ws, q.data));
    } else {
      refuseUpgrade(socket, { status: 404, body: errorBody('Bad Request', 'Not Found') });
    }
  });
  return { ...(await listenOnLoopback(server, traffic, wss)), requests };
}

async function handleRest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: DeepgramStandInOptions,
  traffic: Traffic,
  requests: DeepgramRequest[],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const denied = authorized(req, opts.apiKey);
  if (denied) return reply(res, denied);
  if (req.method !== 'POST' || url.pathname !== '/v1/speak') {
    // Pre-recorded transcription (POST /v1/listen) is not served: the plugin streams.
    return reply(res, { status: 404, body: errorBody('Bad Request', 'Not Found') });
  }
  const q = speakQuery.safeParse(queryOf(url));
  if (!q.success) return reply(res, badRequest(q.error));
  const body = await jsonBody(req);
  if (body instanceof Error) {
    return reply(res, { status: 400, body: errorBody('Bad Request', 'Invalid JSON body') });
  }
  if (!traffic.admit('POST /v1/speak')) return reply(res, SERVER_ERROR);
  requests.push({ route: '/v1/speak', model: q.data.model });
  await speakRest(q.data, body, res);
}
