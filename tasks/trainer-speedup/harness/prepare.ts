/**
 * Trusted: writes the data splits once per task version. train.txt and val.txt go to the inputs folder that the
 * sandbox sees read-only; test.txt goes to the hidden folder that no sandbox ever sees.
 */
import { labModule, requireEnvironment } from './lab.js';

type Data = typeof import('../../../src/gpt/data.js');
const data = await labModule<Data>('src/gpt/data.ts');
const splits = data.splitCorpus(data.loadMobyDick());
data.writeSplits(requireEnvironment('SUCCESSOR_INPUTS'), splits, ['train', 'val']);
data.writeSplits(requireEnvironment('SUCCESSOR_HIDDEN'), splits, ['test']);
