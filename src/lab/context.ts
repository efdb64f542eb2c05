/** What one run's loop works with: the journal it plans from, the task, and the parts the composition root handed in. */
import type { Executor } from '../executor/types.js';
import type { Journal } from '../journal/journal.js';
import type { Researcher } from '../researcher/types.js';
import type { Task } from '../task/loader.js';
import type { LabObserver } from './events.js';

export interface LabContext {
  journal: Journal;
  task: Task;
  executor: Executor;
  researcher: Researcher;
  stateDir: string;
  observe: LabObserver;
}
