/**
 * The researcher behind the MCP server: its propose() waits for the external agent (Claude Code, Codex, any MCP
 * client) to stage edits and submit them. The lab's loop keeps everything else: the clock, the harness, the gate,
 * the budget and the journal, exactly as for a built-in researcher. With `--parallel N` the loop asks again as soon
 * as a submitted experiment is running, so an agent may have several in flight; each submission carries a token
 * (its origin) by which the server finds the candidate the lab journaled.
 * Is not: the MCP protocol (server.ts) nor a judge of the agent's change (the lab checks every Proposal).
 */
import { createHash } from 'node:crypto';
import type { Change } from '../task/change.js';
import type { Proposal, ProposalOrigin, ResearchContext, Researcher } from '../researcher/types.js';
import { ToolError, Workbench } from '../researcher/workbench.js';

interface Turn {
  context: ResearchContext;
  workbench: Workbench | null;
  /** How the staged change was made, when the server made it (a crossover). */
  origin?: ProposalOrigin;
  resolve: (proposal: Proposal | null) => void;
  reject: (reason: unknown) => void;
}

export class McpResearcher implements Researcher {
  readonly name = 'mcp';
  private turn: Turn | null = null;
  private over: string | null = null;
  private listeners: (() => void)[] = [];

  propose(context: ResearchContext): Promise<Proposal | null> {
    if (context.signal.aborted) return Promise.reject(context.signal.reason);
    if (this.over) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const turn: Turn = { context, workbench: null, resolve, reject };
      this.turn = turn;
      // The lab stopped asking: the turn ends with the stop's reason, as every researcher's does.
      context.signal.addEventListener('abort', () => {
        if (this.turn === turn) this.turn = null;
        reject(context.signal.reason);
        this.notify();
      }, { once: true });
      this.notify();
    });
  }

  /** The run ended (budget spent, stopped): every waiting tool call hears why. */
  end(reason: string): void {
    this.over = reason;
    this.settle(null);
    this.notify();
  }

  get endReason(): string | null {
    return this.over;
  }

  /** Whether the lab is waiting for a proposal right now. */
  get open(): boolean {
    return this.turn !== null;
  }

  /** Resolves when the lab next asks for a proposal, or the run ends; rejects after `timeoutMs`. */
  async waitForTurn(timeoutMs: number): Promise<Turn> {
    const deadline = Date.now() + timeoutMs;
    while (!this.turn) {
      if (this.over) throw new ToolError(`the run is over: ${this.over}; get_history and get_results still answer`);
      const left = deadline - Date.now();
      if (left <= 0) throw new ToolError('the lab is busy (calibrating the baseline, confirming a claim, or all --parallel slots are running): call again in a moment, or wait_for_experiments');
      await this.changed(left);
    }
    return this.turn;
  }

  /** Resolves at the next change of turn (or after `timeoutMs`). */
  changed(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.listeners.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The staged workspace of the current turn (from the incumbent unless `from` names another experiment). */
  async workbench(timeoutMs: number, from?: string): Promise<Workbench> {
    const turn = await this.waitForTurn(timeoutMs);
    if (from !== undefined) {
      const parent = turn.context.history.find((experiment) => experiment.id === from);
      if (!parent) throw new ToolError(`no experiment '${from}' in this run`);
      turn.workbench = new Workbench(turn.context, parent);
      turn.origin = undefined;
    }
    turn.workbench ??= new Workbench(turn.context, turn.context.incumbent);
    return turn.workbench;
  }

  /** The current turn's context (the history, the notebook, probes): waits for the lab to ask. */
  async context(timeoutMs: number): Promise<ResearchContext> {
    return (await this.waitForTurn(timeoutMs)).context;
  }

  /** Stages `change` on a fresh workbench of `base` (a crossover, say); `origin` is journaled with the submission. */
  async stage(timeoutMs: number, base: string, change: Change, origin?: ProposalOrigin): Promise<string> {
    const workbench = await this.workbench(timeoutMs, base);
    workbench.reset();
    const staged = workbench.stageChange(change);
    if (this.turn) this.turn.origin = origin;
    return staged;
  }

  /**
   * Hands the staged change to the lab, unless the lab would refuse it as a repeat (the agent hears why and keeps
   * its turn). Returns the token the journaled candidate will carry in its origin.
   */
  submit(description: string): { token: string; parentId: string } {
    const turn = this.turn;
    if (!turn?.workbench || turn.workbench.editCount === 0) throw new ToolError('nothing is staged: make your change with edit_file first');
    const { workbench } = turn;
    const proposal: Proposal = { parentId: workbench.parent.id, change: workbench.change(), description: description.trim().slice(0, 200) };
    const refusal = turn.context.checkProposal?.(proposal);
    if (refusal) throw new ToolError(`the lab would not run this: ${refusal}`);
    // Derived, not random, so a researcher is deterministic for one history (the contract): unique in the run, since
    // the lab journals each candidate before it asks again, so no two proposals of a run see the same history.
    const seen = turn.context.history;
    const token = createHash('sha256').update(JSON.stringify([seen.length, seen.at(-1)?.id ?? null, proposal])).digest('hex').slice(0, 16);
    this.turn = null;
    turn.resolve({ ...proposal, origin: { strategy: 'mcp', parents: [workbench.parent.id], ...turn.origin, token } });
    this.notify();
    return { token, parentId: workbench.parent.id };
  }

  private settle(proposal: Proposal | null): void {
    const turn = this.turn;
    this.turn = null;
    turn?.resolve(proposal);
  }

  /** Wakes every waiting tool call (a turn opened or closed, the run ended, the lab journaled something). */
  notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
