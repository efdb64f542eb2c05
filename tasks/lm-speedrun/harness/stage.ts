/**
 * Trusted: gives one run its own data, drawn fresh from the secret source (language.ts) with this run's key:
 * train.txt and val.txt to the run's inputs (read-only in its sandbox), test.txt to the run's hidden folder (read by
 * the scorer only). Every run gets a new lexicon, new spellings and a new word chain, so nothing learned before the
 * run (weights shipped in the change, cached by an earlier experiment, trained on public text) fits it.
 *
 * Params (harness.params): trainBytes (default 4 MiB), valBytes (64 KiB), valEvalTokens (8192: the baseline trainer's
 * validation tokens), evalTokens (32768: the scorer's; test.txt holds a little more), language (overrides of
 * DEFAULT_LANGUAGE).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLanguage, generateText, languageOptions } from './language.js';
import { entropyRate, typicalText } from './likelihood.js';
import { requireEnvironment, taskParameters } from './lab.js';

const parameters = taskParameters();
const key = requireEnvironment('SUCCESSOR_RUN_KEY');
const language = createLanguage(key, languageOptions(parameters));
const train = Number(parameters.trainBytes ?? 4 << 20);
const val = Number(parameters.valBytes ?? 64 << 10);
const valEvalTokens = Number(parameters.valEvalTokens ?? 8192);
const evalTokens = Number(parameters.evalTokens ?? 32768);
// Val and test are typical samples (see typicalText): the trainer's stop and the scorer's verdict vary less by run.
const rate = entropyRate(language).natsPerByte;
writeFileSync(join(requireEnvironment('SUCCESSOR_RUN_INPUTS'), 'train.txt'), generateText(language, key, 'train', train));
writeFileSync(join(requireEnvironment('SUCCESSOR_RUN_INPUTS'), 'val.txt'), typicalText(language, key, 'val', val, valEvalTokens, rate));
writeFileSync(join(requireEnvironment('SUCCESSOR_RUN_HIDDEN'), 'test.txt'), typicalText(language, key, 'test', evalTokens + 1024, evalTokens, rate));
