/**
 * Run records as columns (typed arrays plus index maps), the shape the fit and the bootstrap work on.
 * Agents, tasks and families become dense indices in order of first appearance. Not a parser (see records.ts).
 */
import { RecordsError, type RunRecord } from './records.js';

export interface RunTable {
  agents: string[];
  tasks: string[];
  families: string[];
  agentOf: Int32Array; // (N,)
  taskOf: Int32Array; // (N,)
  familyOf: Int32Array; // (N,)
  humanMinutes: Float64Array; // (N,)
  log2Minutes: Float64Array; // (N,) the regression's feature
  success: Float64Array; // (N,) in [0, 1]
  multiplier: Float64Array; // (N,) the record's `weight`, 1 when absent
  invsqrtTaskWeight: Float64Array; // (N,) METR's column, NaN when absent
  equalTaskWeight: Float64Array; // (N,) METR's column, NaN when absent
}

export function buildRunTable(records: readonly RunRecord[]): RunTable {
  const count = records.length;
  const indexer = () => {
    const names: string[] = [];
    const index = new Map<string, number>();
    return {
      names,
      of(name: string): number {
        let value = index.get(name);
        if (value === undefined) {
          value = names.length;
          index.set(name, value);
          names.push(name);
        }
        return value;
      },
    };
  };
  const agents = indexer();
  const tasks = indexer();
  const families = indexer();
  const table: RunTable = {
    agents: agents.names,
    tasks: tasks.names,
    families: families.names,
    agentOf: new Int32Array(count),
    taskOf: new Int32Array(count),
    familyOf: new Int32Array(count),
    humanMinutes: new Float64Array(count),
    log2Minutes: new Float64Array(count),
    success: new Float64Array(count),
    multiplier: new Float64Array(count),
    invsqrtTaskWeight: new Float64Array(count),
    equalTaskWeight: new Float64Array(count),
  };
  const familyOfTask = new Map<string, { family: string; line: number }>();
  for (let i = 0; i < count; i++) {
    const record = records[i];
    const seen = familyOfTask.get(record.taskId);
    if (seen && seen.family !== record.taskFamily) {
      throw new RecordsError(`line ${record.line}: task ${record.taskId} is in family ${record.taskFamily}, but line ${seen.line} puts it in ${seen.family}`);
    }
    if (!seen) familyOfTask.set(record.taskId, { family: record.taskFamily, line: record.line });
    table.agentOf[i] = agents.of(record.agent);
    table.taskOf[i] = tasks.of(record.taskId);
    table.familyOf[i] = families.of(record.taskFamily);
    table.humanMinutes[i] = record.humanMinutes;
    table.log2Minutes[i] = Math.log2(record.humanMinutes);
    table.success[i] = record.success;
    table.multiplier[i] = record.weight ?? 1;
    table.invsqrtTaskWeight[i] = record.invsqrtTaskWeight ?? Number.NaN;
    table.equalTaskWeight[i] = record.equalTaskWeight ?? Number.NaN;
  }
  return table;
}

/** Run indices per agent, in file order. */
export function runsByAgent(table: RunTable): number[][] {
  const groups: number[][] = table.agents.map(() => []);
  for (let i = 0; i < table.agentOf.length; i++) groups[table.agentOf[i]].push(i);
  return groups;
}
