/**
 * The llm researcher against a real HTTP server speaking OpenAI's and Anthropic's wire protocols, JSON and
 * streamed: a good patch, a patch that does not apply, garbage JSON, a 429 then success, a hanging response,
 * a model that tries to read secrets, a model that stops early, budgets, and a fatal error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLlmResearcher } from '../../src/researcher/llm/create.js';
import { ModelCallError } from '../../src/researcher/llm/retry.js';
import { type ModelServer, type Reply, startModelServer } from './llm-server.js';
import { sleepyContext } from './llm-context.js';

const SECRET = 'sk-test-secret-0123456789';
const fastRetry = { initialDelayMs: 20, maxDelayMs: 3000, callTimeoutMs: 2000, maxAttempts: 3 };

let server: ModelServer | null = null;
let cleanup: (() => void) | null = null;
afterEach(async () => {
  await server?.close();
  cleanup?.();
  server = null;
  cleanup = null;
});

type Wire = { provider: 'openai' | 'anthropic'; stream: boolean };

async function setUp(script: Reply[], wire: Wire = { provider: 'openai', stream: false }, tuning: Record<string, unknown> = {}) {
  server = await startModelServer(script);
  const fixture = sleepyContext();
  cleanup = fixture.cleanup;
  const researcher = createLlmResearcher({
    model: `${wire.provider}:scripted-model`,
    baseUrl: server.baseUrl,
    stream: wire.stream,
    priceInput: 1,
    priceOutput: 2,
    environment: { OPENAI_API_KEY: SECRET, ANTHROPIC_API_KEY: SECRET },
    tuning: { retry: fastRetry, ...tuning },
  });
  return { researcher, ...fixture, server };
}

const readConfig: Reply = { kind: 'tools', calls: [{ name: 'read_file', args: { path: 'config.json' } }] };
const goodEdit: Reply = { kind: 'tools', calls: [{ name: 'edit_file', args: { path: 'config.json', search: '"delayMs": 1500', replace: '"delayMs": 200' } }] };
const submit: Reply = { kind: 'tools', calls: [{ name: 'run_experiment', args: { description: 'delay 1500ms -> 200ms' } }] };

/** What the researcher sent back to the model in request `index` (tool results are in the body's messages). */
const sentText = (model: ModelServer, index: number): string => model.requests[index].text;

describe.each<Wire>([
  { provider: 'openai', stream: false },
  { provider: 'openai', stream: true },
  { provider: 'anthropic', stream: false },
  { provider: 'anthropic', stream: true },
])('a good patch over $provider (stream $stream)', (wire) => {
  it('reads, edits, submits: the staged change is the proposal, every call is recorded', async () => {
    const { researcher, context, recorded, server: model } = await setUp([readConfig, goodEdit, submit], wire);
    const proposal = await researcher.propose(context);
    expect(proposal).not.toBeNull();
    expect(proposal?.parentId).toBe(context.incumbent.id);
    // The config file holds the task's knobs: the edit becomes a knob setting the harness will write.
    expect(proposal?.change).toEqual({ knobs: { delayMs: 200 }, edits: [] });
    expect(proposal?.description).toContain('delay 1500ms -> 200ms');
    expect(model.requests.map((request) => request.path)).toEqual(Array(3).fill(wire.provider === 'openai' ? '/v1/chat/completions' : '/v1/messages'));
    expect(model.requests.every((request) => Boolean(request.body.stream) === wire.stream)).toBe(true);
    // The second call carries the file the first one read; the key travels only as the provider's auth header.
    expect(sentText(model, 1)).toContain('\\"delayMs\\": 1500');
    const auth = wire.provider === 'openai' ? model.requests[0].headers.authorization : model.requests[0].headers['x-api-key'];
    expect(auth).toContain(SECRET);
    const calls = recorded.filter((entry) => entry.type === 'llm.call');
    expect(calls).toHaveLength(3);
    expect(calls[0].payload.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
    expect(calls[0].payload.costDollars).toBeCloseTo((120 * 1 + 30 * 2) / 1e6, 12);
    expect(researcher.meter.snapshot().calls).toBe(3);
  });
});

describe('the llm researcher', () => {
  it('answers a patch that does not apply with an error the model can act on', async () => {
    const wrong: Reply = { kind: 'tools', calls: [{ name: 'edit_file', args: { path: 'work.mjs', search: 'const  config = JSON.parse', replace: 'const config = {}' } }] };
    const { researcher, context, server: model } = await setUp([wrong, goodEdit, submit]);
    const proposal = await researcher.propose(context);
    expect(sentText(model, 1)).toContain('the search text was not found in');
    expect(sentText(model, 1)).toContain('different whitespace');
    expect(proposal?.change).toEqual({ knobs: { delayMs: 200 }, edits: [] });
  });

  it('keeps exact search/replace edits of code files as edits', async () => {
    const codeEdit: Reply = { kind: 'tools', calls: [{ name: 'edit_file', args: { path: 'work.mjs', search: "console.log(`delay_ms: ${config.delayMs}`);", replace: "console.log(`delay_ms: ${config.delayMs} (edited)`);" } }] };
    const { researcher, context } = await setUp([codeEdit, submit]);
    const proposal = await researcher.propose(context);
    expect(proposal?.change.edits).toEqual([{ kind: 'replace', path: 'work.mjs', search: "console.log(`delay_ms: ${config.delayMs}`);", replace: "console.log(`delay_ms: ${config.delayMs} (edited)`);" }]);
  });

  it('answers a malformed tool call (garbage JSON arguments) and retries a garbage response body', async () => {
    const garbage: Reply = { kind: 'tools', calls: [{ name: 'edit_file', args: '{"path": "config.json", "search": "delayMs' }] };
    const { researcher, context, server: model } = await setUp([garbage, { kind: 'garbage-body' }, goodEdit, submit]);
    const proposal = await researcher.propose(context);
    expect(proposal?.change.knobs).toEqual({ delayMs: 200 });
    expect(model.requests).toHaveLength(4);
    // The unparseable call comes back to the model as a tool error it can fix.
    expect(sentText(model, 1)).toMatch(/Invalid input for tool edit_file|JSON parsing failed/);
    // The garbage body was retried with the same request.
    expect(model.requests[2].text).toBe(model.requests[1].text);
  });

  it('waits out a 429 as long as Retry-After says, then succeeds', async () => {
    const limited: Reply = { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
    const { researcher, context, server: model, recorded } = await setUp([limited, goodEdit, submit], { provider: 'anthropic', stream: false });
    const proposal = await researcher.propose(context);
    expect(proposal?.change.knobs).toEqual({ delayMs: 200 });
    expect(model.requests[1].atMs - model.requests[0].atMs).toBeGreaterThanOrEqual(950);
    const retries = recorded[0].payload.retries as { delayMs: number; reason: string }[];
    expect(retries).toHaveLength(1);
    expect(retries[0].delayMs).toBe(1000);
    expect(retries[0].reason).toContain('429');
  });

  it('gives up on a hanging response after the per-call timeout and tries again', async () => {
    for (const stream of [false, true]) {
      const { researcher, context, server: model, recorded } = await setUp([{ kind: 'hang' }, goodEdit, submit], { provider: 'openai', stream }, { retry: { ...fastRetry, callTimeoutMs: 400 } });
      const started = Date.now();
      const proposal = await researcher.propose(context);
      expect(proposal?.change.knobs).toEqual({ delayMs: 200 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(model.requests).toHaveLength(3);
      expect((recorded[0].payload.retries as { reason: string }[])[0].reason).toContain('no complete response within 400 ms');
      await server?.close();
      cleanup?.();
      server = null;
    }
  });

  it('refuses reads and edits outside the workspace, and never shows the model a key', async () => {
    const probes: Reply = {
      kind: 'tools',
      calls: [
        { name: 'read_file', args: { path: '../../../../../../etc/passwd' } },
        { name: 'read_file', args: { path: '/proc/self/environ' } },
        { name: 'edit_file', args: { path: '../escape.mjs', search: '', replace: 'x' } },
        { name: 'read_file', args: { path: 'config.json', experiment: 'exp_notinrun1' } },
      ],
    };
    const { researcher, context, server: model } = await setUp([probes, goodEdit, submit]);
    const proposal = await researcher.propose(context);
    const answered = sentText(model, 1);
    expect(answered.match(/is outside the workspace/g)).toHaveLength(3);
    expect(answered).toContain("no experiment 'exp_notinrun1'");
    expect(answered).not.toContain('root:x:0');
    for (const request of model.requests) expect(request.text).not.toContain(SECRET);
    expect(proposal?.change).toEqual({ knobs: { delayMs: 200 }, edits: [] });
  });

  it('nudges a model that stops early, a bounded number of times', async () => {
    const prose: Reply = { kind: 'text', text: 'I would lower the delay.' };
    const { researcher, context, server: model } = await setUp([prose, goodEdit, submit]);
    const proposal = await researcher.propose(context);
    expect(sentText(model, 1)).toContain('You stopped without submitting');
    expect(proposal?.change.knobs).toEqual({ delayMs: 200 });

    const stubborn = await setUp([prose, prose, prose, prose, prose], { provider: 'openai', stream: false }, { maxNudges: 2 });
    expect(await stubborn.researcher.propose(stubborn.context)).toBeNull();
    expect(stubborn.server.requests).toHaveLength(3);
    expect(stubborn.recorded.at(-1)?.type).toBe('llm.gave-up');
  });

  it('submits what is staged when the step bound is reached', async () => {
    const { researcher, context, server: model } = await setUp([goodEdit, readConfig, readConfig, readConfig], { provider: 'openai', stream: false }, { maxStepsPerEpisode: 3 });
    const proposal = await researcher.propose(context);
    expect(model.requests).toHaveLength(3);
    expect(proposal?.change.knobs).toEqual({ delayMs: 200 });
    expect(proposal?.description).toContain('the model stopped');
  });

  it('stops proposing when the token budget is spent', async () => {
    const { researcher, context, recorded } = await setUp([readConfig, goodEdit, submit, readConfig], { provider: 'openai', stream: false }, {});
    (researcher as unknown as { meter: { limits: { maxTokens: number } } }).meter.limits.maxTokens = 400;
    const proposal = await researcher.propose(context);
    // 150 tokens a call: the third call would start at 300 < 400, so the first episode finishes...
    expect(proposal?.change.knobs).toEqual({ delayMs: 200 });
    // ...and the next one does not start.
    expect(await researcher.propose(context)).toBeNull();
    expect(recorded.at(-1)).toMatchObject({ type: 'llm.budget' });
  });

  it('fails for good on a rejected key (no retries)', async () => {
    const { researcher, context, server: model } = await setUp([{ kind: 'status', status: 401, body: '{"error":{"message":"bad key","type":"invalid_request_error"}}' }, goodEdit]);
    await expect(researcher.propose(context)).rejects.toBeInstanceOf(ModelCallError);
    expect(model.requests).toHaveLength(1);
  });
});
