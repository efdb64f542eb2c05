/**
 * The researcher behind the MCP server: its propose() waits for the external agent (Claude Code, Codex, any MCP
 * client) to stage edits and call run_experiment. The lab's loop keeps everything else: the clock, the harness,
 * the gate, the budget and the journal, exactly as for a built-in researcher.
 * Is not: the MCP protocol (server.ts) nor a judge of the agent's change (the lab checks every Proposal).
 */
import type { ExperimentId } from '../task/ids.js';
import type { Proposal, ResearchContext, Researcher } from '../researcher/types.js';
import { ToolError, Workbench } from '../researcher/workbench.js';

interface Turn {
  context: ResearchContext;
  workbench: Workbench | null;
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

  /** Resolves when the lab next asks for a proposal, or the run ends; rejects after `timeoutMs`. */
  async waitForTurn(timeoutMs: number): Promise<Turn> {
    const deadline = Date.now() + timeoutMs;
    while (!this.turn) {
      if (this.over) throw new ToolError(`the run is over: ${this.over}; get_history and get_results still answer`);
      const left = deadline - Date.now();
      if (left <= 0) throw new ToolError('the lab is still busy (calibrating the baseline or confirming a claim); call again in a moment');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.turn;
  }

  /** The staged workspace of the current turn (from the incumbent unless `from` names another experiment). */
  async workbench(timeoutMs: number, from?: string): Promise<Workbench> {
    const turn = await this.waitForTurn(timeoutMs);
    if (from !== undefined) {
      const parent = turn.context.history.find((experiment) => experiment.id === from);
      if (!parent) throw new ToolError(`no experiment '${from}' in this run`);
      turn.workbench = new Workbench(turn.context, parent);
    }
    turn.workbench ??= new Workbench(turn.context, turn.context.incumbent);
    return turn.workbench;
  }

  /** Hands the staged change to the lab; returns the parent it was staged against. */
  submit(description: string): ExperimentId {
    const turn = this.turn;
    if (!turn?.workbench || turn.workbench.editCount === 0) throw new ToolError('nothing is staged: make your change with edit_file first');
    const { workbench } = turn;
    this.turn = null;
    turn.resolve({ parentId: workbench.parent.id, change: workbench.change(), description: description.trim().slice(0, 200) });
    return workbench.parent.id;
  }

  /** Resolves when the lab asks for the next proposal (so the last one is fully decided) or the run ends. */
  async settled(): Promise<void> {
    while (!this.turn && !this.over) await new Promise<void>((resolve) => this.listeners.push(resolve));
  }

  private settle(proposal: Proposal | null): void {
    const turn = this.turn;
    this.turn = null;
    turn?.resolve(proposal);
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
