/**
 * A real HTTP server on 127.0.0.1 that speaks the two wire protocols the llm researcher's providers use:
 * OpenAI chat completions (/v1/chat/completions) and Anthropic messages (/v1/messages), each as one JSON
 * response or as server-sent events (`stream: true` in the request). Replies are scripted per test, in order;
 * every request is recorded (body, headers, arrival time) so a test can read what the model was told.
 * Is not: a model. It says exactly what the script says.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ToolCallScript = { name: string; args: Record<string, unknown> | string };

export type Reply =
  | { kind: 'tools'; calls: ToolCallScript[]; text?: string }
  | { kind: 'text'; text: string }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'garbage-body' }
  /** Accepts the request and never answers (streaming: sends the headers and one chunk, then stalls). */
  | { kind: 'hang' };

export interface RecordedRequest { path: string; body: Record<string, unknown>; headers: IncomingMessage['headers']; atMs: number; text: string }

export interface ModelServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** The replies not yet used. */
  remaining(): number;
  close(): Promise<void>;
}

const USAGE = { input: 120, output: 30 };

const argumentsOf = (call: ToolCallScript): string => (typeof call.args === 'string' ? call.args : JSON.stringify(call.args));

function openAiJson(reply: Extract<Reply, { kind: 'tools' | 'text' }>): unknown {
  const calls = reply.kind === 'tools' ? reply.calls : [];
  return {
    id: 'chatcmpl-test', object: 'chat.completion', created: 1, model: 'scripted',
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: reply.text ?? null,
        ...(calls.length ? { tool_calls: calls.map((call, index) => ({ id: `call_${index}`, type: 'function', function: { name: call.name, arguments: argumentsOf(call) } })) } : {}),
      },
      finish_reason: calls.length ? 'tool_calls' : 'stop',
    }],
    usage: { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output },
  };
}

function openAiEvents(reply: Extract<Reply, { kind: 'tools' | 'text' }>): string[] {
  const chunk = (delta: unknown, finish: string | null) => ({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model: 'scripted', choices: [{ index: 0, delta, finish_reason: finish }] });
  const events: unknown[] = [chunk({ role: 'assistant', content: '' }, null)];
  if (reply.text) events.push(chunk({ content: reply.text }, null));
  const calls = reply.kind === 'tools' ? reply.calls : [];
  calls.forEach((call, index) => {
    const text = argumentsOf(call);
    const half = Math.floor(text.length / 2);
    events.push(chunk({ tool_calls: [{ index, id: `call_${index}`, type: 'function', function: { name: call.name, arguments: text.slice(0, half) } }] }, null));
    events.push(chunk({ tool_calls: [{ index, function: { arguments: text.slice(half) } }] }, null));
  });
  events.push(chunk({}, calls.length ? 'tool_calls' : 'stop'));
  events.push({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model: 'scripted', choices: [], usage: { prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output } });
  return [...events.map((event) => `data: ${JSON.stringify(event)}\n\n`), 'data: [DONE]\n\n'];
}

function anthropicInput(call: ToolCallScript): unknown {
  return typeof call.args === 'string' ? JSON.parse(call.args) : call.args;
}

function anthropicJson(reply: Extract<Reply, { kind: 'tools' | 'text' }>): unknown {
  const calls = reply.kind === 'tools' ? reply.calls : [];
  return {
    id: 'msg_test', type: 'message', role: 'assistant', model: 'scripted',
    content: [
      ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
      ...calls.map((call, index) => ({ type: 'tool_use', id: `toolu_${index}`, name: call.name, input: anthropicInput(call) })),
    ],
    stop_reason: calls.length ? 'tool_use' : 'end_turn', stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output },
  };
}

function anthropicEvents(reply: Extract<Reply, { kind: 'tools' | 'text' }>): string[] {
  const events: [string, unknown][] = [['message_start', { type: 'message_start', message: { id: 'msg_test', type: 'message', role: 'assistant', model: 'scripted', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: USAGE.input, output_tokens: 1 } } }]];
  let index = 0;
  if (reply.text) {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
    events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: reply.text } }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  const calls = reply.kind === 'tools' ? reply.calls : [];
  for (const call of calls) {
    const text = argumentsOf(call);
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: `toolu_${index}`, name: call.name, input: {} } }]);
    events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: text.slice(0, 5) } }]);
    events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: text.slice(5) } }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: calls.length ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: USAGE.output } }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * `script`: the replies in order, or a function that answers each request from what it says (a model that reacts,
 * e.g. for the Researcher contract, where every episode must go the same way).
 */
export async function startModelServer(script: Reply[] | ((request: RecordedRequest) => Reply)): Promise<ModelServer> {
  const replies = typeof script === 'function' ? [] : [...script];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      const path = request.url ?? '';
      const recorded = { path, body, headers: request.headers, atMs: Date.now(), text };
      requests.push(recorded);
      const reply = typeof script === 'function' ? script(recorded) : replies.shift();
      const anthropic = path.endsWith('/messages');
      if (!reply || (!anthropic && !path.endsWith('/chat/completions'))) {
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: reply ? `no route ${path}` : 'the script ran out of replies' } }));
        return;
      }
      if (reply.kind === 'status') {
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}`, type: 'rate_limit_error' } }));
        return;
      }
      if (reply.kind === 'garbage-body') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "chatcmpl-test", "choices": [ this is not json');
        return;
      }
      if (reply.kind === 'hang') {
        if (body.stream) response.writeHead(200, { 'content-type': 'text/event-stream' }).write(anthropic ? 'event: ping\ndata: {"type":"ping"}\n\n' : ': waiting\n\n');
        return;
      }
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(anthropic ? anthropicJson(reply) : openAiJson(reply)));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const event of anthropic ? anthropicEvents(reply) : openAiEvents(reply)) response.write(event);
      response.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    remaining: () => replies.length,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
