// The OpenAI stand-in, driven by the `openai` client and the real LiveKit OpenAI plugin through
// their base URL: the dialogue engine's replies come back as OpenAI's streamed chunks, a transfer
// as a `tool_calls` delta for a tool the request offered, speech as 24 kHz PCM; a wrong key is 401.
import { initializeLogger, llm } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { loadUseCases } from '../../../contracts/use-cases.js';
import { startOpenAIStandIn } from '../../../lab/cloud/openai-server.js';
import type { StandIn } from '../../../lab/cloud/stand-in-http.js';

initializeLogger({ pretty: false, level: 'fatal' });

const KEY = 'sk-test-stand-in';
const useCases = loadUseCases(undefined, bundledUseCases);
const uc = useCases.defaultUseCase;
let standIn: StandIn;
beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: KEY, useCases });
});
afterAll(async () => {
  await standIn?.stop();
});

const client = (apiKey = KEY) =>
  new OpenAI({ apiKey, baseURL: `${standIn.url}/v1`, maxRetries: 0 });
const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'transfer_to_human',
      description: 'Hand the caller to a person',
      parameters: {
        type: 'object',
        properties: { queue: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
];

async function streamed(
  messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[],
  tools = TOOLS,
) {
  const stream = await client().chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'system', content: uc.instructions }, ...messages],
    tools,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

describe('OpenAI stand-in: chat completions', () => {
  it('streams a transfer as a tool_calls delta, its arguments in pieces, then usage', async () => {
    const chunks = await streamed([{ role: 'user', content: 'Can I talk to a real person?' }]);
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'transfer_to_human' },
    });
    expect(calls[0]!.id).toMatch(/^call_/);
    const args = JSON.parse(calls.map((c) => c.function?.arguments ?? '').join('')) as unknown;
    expect(args).toEqual({ queue: uc.defaultQueue, reason: 'caller_asked' });
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual([
      'tool_calls',
    ]);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams an answer as content deltas when the engine answers', async () => {
    const chunks = await streamed([{ role: 'user', content: 'hmm' }]);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toMatch(/didn't catch that/);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
  });

  it('calls no tool the request did not offer', async () => {
    const chunks = await streamed([{ role: 'user', content: 'Can I talk to a real person?' }], []);
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
  });

  it('answers a request without stream as one completion', async () => {
    const res = await client().chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'Can I talk to a real person?' }],
      tools: TOOLS,
    });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls?.[0]).toMatchObject({
      function: { name: 'transfer_to_human' },
    });
  });

  it('refuses a wrong key with 401 and a malformed request with 400, as OpenAI does', async () => {
    const wrong = await client('sk-wrong')
      .models.list()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrong as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_api_key');
    const bad = await client()
      .chat.completions.create({ model: 'gpt-4.1-mini', messages: [] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('gives the LiveKit plugin a FunctionCall it can run', async () => {
    const model = new openaiPlugin.LLM({
      apiKey: KEY,
      baseURL: `${standIn.url}/v1`,
      model: 'gpt-4.1-mini',
    });
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'system', content: uc.instructions });
    chatCtx.addMessage({ role: 'user', content: 'I want to speak with someone' });
    const toolCtx = {
      transfer_to_human: llm.tool({
        description: 'Hand the caller to a person',
        parameters: z.object({ queue: z.string(), reason: z.string() }),
        execute: async () => 'ok',
      }),
    };
    const calls: llm.FunctionCall[] = [];
    for await (const chunk of model.chat({ chatCtx, toolCtx }))
      calls.push(...(chunk.delta?.toolCalls ?? []));
    expect(calls.map((c) => c.name)).toEqual(['transfer_to_human']);
    expect(JSON.parse(calls[0]!.args)).toMatchObject({ reason: 'caller_asked' });
  });
});

describe('OpenAI stand-in: speech', () => {
  it('speaks through the LiveKit plugin as 24 kHz PCM', async () => {
    const t = new openaiPlugin.TTS({ apiKey: KEY, baseURL: `${standIn.url}/v1` });
    let samples = 0;
    for await (const ev of t.synthesize('Thank you for calling.')) {
      expect(ev.frame.sampleRate).toBe(24000);
      samples += ev.frame.samplesPerChannel;
    }
    expect(samples / 24000).toBeGreaterThan(0.5);
    await t.close();
  });

  it('refuses a format it cannot encode with 400', async () => {
    const res = await fetch(`${standIn.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', input: 'Hi', voice: 'alloy' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'response_format' } });
  });
});
