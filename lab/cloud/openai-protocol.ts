// OpenAI's wire formats for the stand-in, as its API reference documents them: the chat
// completions request (parsed once, at the edge), the conversation it carries turned into the
// dialogue engine's turns, and the engine's reply turned into a completion or its stream chunks.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Reply, Turn } from '../../agent/dialogue/engine.js';
import type { UseCase, UseCaseCatalog } from '../../contracts/use-cases.js';

const text = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: text.nullish(),
  tool_calls: z.array(z.looseObject({ id: z.string(), type: z.literal('function') })).optional(),
  tool_call_id: z.string().optional(),
});

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), description: z.string().optional() }),
});

export const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequest>;

export const speechRequest = z.looseObject({
  model: z.string().min(1),
  input: z.string().min(1).max(4096),
  voice: z.union([z.string().min(1), z.object({ id: z.string() })]),
  response_format: z.enum(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']).default('mp3'),
  speed: z.number().min(0.25).max(4).default(1),
  instructions: z.string().optional(),
});
export type SpeechRequest = z.infer<typeof speechRequest>;

/** OpenAI's error body. */
export function apiError(message: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type: 'invalid_request_error', param, code } };
}

function plain(content: z.infer<typeof text> | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? '').join('');
}

/** The conversation as the engine reads it: what the caller and the agent said, and tool results. */
export function turnsOf(req: ChatRequest): Turn[] {
  const turns: Turn[] = [];
  for (const m of req.messages) {
    if (m.role === 'user') turns.push({ role: 'user', text: plain(m.content) });
    else if (m.role === 'tool') turns.push({ role: 'tool', text: plain(m.content) });
    else if (m.role === 'assistant' && !m.tool_calls?.length) {
      turns.push({ role: 'assistant', text: plain(m.content) });
    }
  }
  return turns;
}

/** The use case whose instructions open the system prompt (the agent puts them first). */
export function useCaseOf(req: ChatRequest, catalog: UseCaseCatalog): UseCase {
  const system = req.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => plain(m.content))
    .join('\n');
  return catalog.all.find((uc) => system.startsWith(uc.instructions)) ?? catalog.defaultUseCase;
}

/** The reply, less a tool call the request did not offer (the model may only call those). */
export function allowed(reply: Reply, req: ChatRequest): Reply {
  if (reply.kind !== 'tool') return reply;
  const offered =
    req.tool_choice !== 'none' && req.tools?.some((t) => t.function.name === reply.name);
  return offered ? reply : { kind: 'silent' };
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function usageOf(req: ChatRequest, completion: string) {
  const prompt = req.messages.reduce((n, m) => n + words(plain(m.content)), 0);
  const completionTokens = words(completion);
  return {
    prompt_tokens: prompt,
    completion_tokens: completionTokens,
    total_tokens: prompt + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

interface Envelope {
  id: string;
  created: number;
  model: string;
}

export function envelope(req: ChatRequest): Envelope {
  return {
    id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model: req.model,
  };
}

function toolCall(reply: Extract<Reply, { kind: 'tool' }>) {
  return {
    id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function' as const,
    function: { name: reply.name, arguments: JSON.stringify(reply.args) },
  };
}

type Chunk = (delta: object, finish?: string | null) => object;

/** A tool call's deltas: its id and name, then the arguments in pieces, as a model streams them. */
function toolDeltas(chunk: Chunk, reply: Extract<Reply, { kind: 'tool' }>): [object[], string] {
  const call = toolCall(reply);
  const args = call.function.arguments;
  const first = { index: 0, ...call, function: { name: call.function.name, arguments: '' } };
  const out = [chunk({ role: 'assistant', content: null, tool_calls: [first] })];
  for (let i = 0; i < args.length; i += 16) {
    out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 16) } }] }));
  }
  out.push(chunk({}, 'tool_calls'));
  return [out, args];
}

/** What the agent says, a few words per delta (or nothing, for a silent reply). */
function contentDeltas(chunk: Chunk, reply: Reply): [object[], string] {
  const out = [chunk({ role: 'assistant', content: '', refusal: null })];
  const text = reply.kind === 'say' ? reply.text : '';
  const words = text ? text.split(' ') : [];
  for (let i = 0; i < words.length; i += 4) {
    out.push(
      chunk({ content: words.slice(i, i + 4).join(' ') + (i + 4 < words.length ? ' ' : '') }),
    );
  }
  out.push(chunk({}, 'stop'));
  return [out, text];
}

/** The stream's chunks, as `data:` events carry them (the `[DONE]` line is the caller's). */
export function completionChunks(req: ChatRequest, reply: Reply, env: Envelope): object[] {
  const base = { ...env, object: 'chat.completion.chunk', system_fingerprint: 'fp_callbridge' };
  const chunk: Chunk = (delta, finish = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const [out, produced] =
    reply.kind === 'tool' ? toolDeltas(chunk, reply) : contentDeltas(chunk, reply);
  if (req.stream_options?.include_usage) {
    out.push({ ...base, choices: [], usage: usageOf(req, produced) });
  }
  return out;
}

/** The whole completion, for a request without `stream`. */
export function completion(req: ChatRequest, reply: Reply, env: Envelope): object {
  const call = reply.kind === 'tool' ? toolCall(reply) : undefined;
  const content = reply.kind === 'say' ? reply.text : call ? null : '';
  return {
    ...env,
    object: 'chat.completion',
    system_fingerprint: 'fp_callbridge',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          ...(call ? { tool_calls: [call] } : {}),
        },
        logprobs: null,
        finish_reason: call ? 'tool_calls' : 'stop',
      },
    ],
    usage: usageOf(req, content ?? call?.function.arguments ?? ''),
  };
}
