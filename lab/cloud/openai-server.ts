// A local stand-in for OpenAI's API, speaking its documented protocol so the `openai` client (and
// the LiveKit plugin over it) talks to it unchanged through OPENAI_BASE_URL: chat completions,
// streamed as server-sent events or whole, with tool calls; the model list; and speech
// (/v1/audio/speech, pcm or wav). The "model" is the project's own dialogue engine, so a lab call
// goes where the offline one goes, transfer included. Strict as OpenAI is: no or a wrong bearer
// key is 401, a malformed request 400, an unknown route 404, each with OpenAI's error body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { nextReply } from '../../agent/dialogue/engine.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import {
  type ChatRequest,
  allowed,
  apiError,
  chatRequest,
  completion,
  completionChunks,
  envelope,
  speechRequest,
  turnsOf,
  useCaseOf,
} from './openai-protocol.js';
import { synthesize, wavHeader } from './speech-synth.js';
import {
  type StandIn,
  Traffic,
  createServer,
  jsonBody,
  listenOnLoopback,
} from './stand-in-http.js';

export interface OpenAIStandInOptions {
  apiKey: string;
  useCases: UseCaseCatalog;
}

const SERVER_ERROR = {
  error: {
    message: 'The server had an error while processing your request.',
    type: 'server_error',
    param: null,
    code: null,
  },
};

/** OpenAI's speech comes as 24 kHz 16-bit mono for pcm (and wav). */
const SPEECH_RATE = 24000;

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': crypto.randomUUID(),
  });
  res.end(JSON.stringify(body));
}

function unauthorized(req: IncomingMessage, apiKey: string): object | undefined {
  const auth = req.headers.authorization;
  if (auth === `Bearer ${apiKey}`) return undefined;
  if (!auth?.startsWith('Bearer ') || auth === 'Bearer ') {
    return apiError(
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  }
  return apiError('Incorrect API key provided.', 'invalid_api_key');
}

export async function startOpenAIStandIn(opts: OpenAIStandInOptions): Promise<StandIn> {
  const traffic = new Traffic();
  const server = createServer((req, res) => {
    void route(req, res, opts, traffic).catch(() => {
      if (!res.headersSent)
        json(res, 500, {
          error: { message: 'internal', type: 'server_error', param: null, code: null },
        });
      else res.destroy();
    });
  });
  return listenOnLoopback(server, traffic);
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  opts: OpenAIStandInOptions,
  traffic: Traffic,
) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const denied = unauthorized(req, opts.apiKey);
  if (denied) return json(res, 401, denied);
  const at = `${req.method ?? 'GET'} ${path}`;
  if (at === 'GET /v1/models') return json(res, 200, models());
  if (at !== 'POST /v1/chat/completions' && at !== 'POST /v1/audio/speech') {
    return json(res, 404, apiError(`Invalid URL (${at})`));
  }
  const body = await jsonBody(req);
  if (body instanceof Error || body === undefined) {
    return json(res, 400, apiError('We could not parse the JSON body of your request.'));
  }
  if (!traffic.admit(path)) return json(res, 500, SERVER_ERROR);
  if (at === 'POST /v1/audio/speech') return speech(body, res);
  const parsed = chatRequest.safeParse(body);
  if (!parsed.success) return json(res, 400, apiError(z.prettifyError(parsed.error)));
  return chat(parsed.data, res, opts.useCases);
}

function models() {
  const created = 1_700_000_000;
  return {
    object: 'list',
    data: ['gpt-4.1-mini', 'gpt-4.1', 'tts-1', 'gpt-4o-mini-tts'].map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'system',
    })),
  };
}

function chat(req: ChatRequest, res: ServerResponse, useCases: UseCaseCatalog): void {
  const reply = allowed(nextReply(useCaseOf(req, useCases), turnsOf(req)), req);
  const env = envelope(req);
  if (!req.stream) return json(res, 200, completion(req, reply, env));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': crypto.randomUUID(),
  });
  for (const chunk of completionChunks(req, reply, env))
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  res.end('data: [DONE]\n\n');
}

async function speech(body: unknown, res: ServerResponse): Promise<void> {
  const parsed = speechRequest.safeParse(body);
  if (!parsed.success) return json(res, 400, apiError(z.prettifyError(parsed.error)));
  const format = parsed.data.response_format;
  if (format !== 'pcm' && format !== 'wav') {
    // Encoding mp3, opus, aac or flac would need a codec the lab does not carry.
    return json(
      res,
      400,
      apiError(`the stand-in speaks pcm and wav, not ${format}`, null, 'response_format'),
    );
  }
  const audio = await synthesize(parsed.data.input, {
    sampleRate: SPEECH_RATE,
    encoding: 'linear16',
  });
  res.writeHead(200, { 'content-type': format === 'wav' ? 'audio/wav' : 'audio/pcm' });
  if (format === 'wav') res.write(wavHeader(audio.length, SPEECH_RATE, 'linear16'));
  res.end(audio);
}
