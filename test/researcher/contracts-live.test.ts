/**
 * The Researcher contract (contract.ts) on the researchers that talk to something live: `llm` over the real local
 * OpenAI-protocol server (a scripted model that stages a note and submits it, every episode alike), and the MCP
 * researcher with an agent that does what an MCP client's tool calls do (the server's tools call the same methods).
 */
import { afterAll, beforeAll } from 'vitest';
import { McpResearcher } from '../../src/mcp/researcher.js';
import { createLlmResearcher } from '../../src/researcher/llm/create.js';
import type { Researcher } from '../../src/researcher/types.js';
import { researcherContract } from './contract.js';
import { type ModelServer, type RecordedRequest, type Reply, startModelServer } from './llm-server.js';

let server: ModelServer;
/** A model that reacts: with no tool result yet it stages a note, after one it submits. */
const scriptedModel = (request: RecordedRequest): Reply => (request.text.includes('"role":"tool"')
  ? { kind: 'tools', calls: [{ name: 'run_experiment', args: { description: 'write down the next idea' } }] }
  : { kind: 'tools', calls: [{ name: 'edit_file', args: { path: 'notes/idea.md', search: '', replace: 'try a larger batch\n' } }] });

beforeAll(async () => {
  server = await startModelServer(scriptedModel);
});
afterAll(async () => {
  await server.close();
});

researcherContract('llm (local OpenAI-protocol server)', () => createLlmResearcher({
  model: 'openai:scripted', baseUrl: server.baseUrl, priceInput: 0, priceOutput: 0, environment: { OPENAI_API_KEY: 'sk-test' },
  tuning: { retry: { initialDelayMs: 10, maxDelayMs: 100, callTimeoutMs: 2000, maxAttempts: 2 } },
}));

/** What an MCP client does through the server's tools: wait for its turn, stage an edit, run the experiment. */
function mcpWithAgent(): Researcher {
  const researcher = new McpResearcher();
  return {
    name: researcher.name,
    propose(context) {
      const proposal = researcher.propose(context);
      void (async () => {
        const workbench = await researcher.workbench(5_000);
        workbench.editFile('notes/idea.md', '', 'try a larger batch\n');
        researcher.submit('write down the next idea');
      })().catch(() => undefined);
      return proposal;
    },
  };
}

researcherContract('mcp (an agent through the tools\' methods)', () => mcpWithAgent());
