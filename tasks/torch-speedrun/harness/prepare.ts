/**
 * Trusted: writes the data splits once per task version, with the lab's own split of its corpus (Moby Dick, 90/5/5
 * by bytes, the same splits as lm-speedrun): train.txt and val.txt to the inputs folder, test.txt to the hidden
 * folder that no run ever sees. The one TypeScript script of this task: the lab's code owns the corpus.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.SUCCESSOR_LAB_ROOT;
const inputs = process.env.SUCCESSOR_INPUTS;
const hidden = process.env.SUCCESSOR_HIDDEN;
if (!root || !inputs || !hidden) throw new Error('SUCCESSOR_LAB_ROOT, SUCCESSOR_INPUTS and SUCCESSOR_HIDDEN are set by the lab: run this task through it');
const data = (await import(pathToFileURL(join(root, 'src/gpt/data.ts')).href)) as typeof import('../../../src/gpt/data.js');
const splits = data.splitCorpus(data.loadMobyDick());
data.writeSplits(inputs, splits, ['train', 'val']);
data.writeSplits(hidden, splits, ['test']);
