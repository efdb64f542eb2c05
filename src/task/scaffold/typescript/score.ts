/**
 * Trusted, run after every experiment: scores what the run left against the answers it never saw, and prints one
 * JSON verdict as its last line: {"passed": bool, "score": number, "reason": string, "metrics": {...}}.
 *
 * The run must leave artifacts/predictions.csv with columns id and prediction, one row per row of inputs/test.csv.
 * The score here is accuracy or error rate (params.score: accuracy or errorRate); replace it with your metric. The
 * number comes from this script, never from what the run prints or writes about itself: a run can print anything.
 * Everything the run left is untrusted input: read it defensively, and fail the run with a reason when it is wrong.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from './csv.js';

const verdict = (fields: { passed: boolean; score?: number; reason?: string; metrics?: Record<string, number> }): never => {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
  process.exit(0);
};

const params = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { label?: string; score?: 'accuracy' | 'errorRate' };
const label = params.label ?? 'label';
const answers = new Map(parseCsv(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'answers.csv'), 'utf8')).map((row) => [row.id, row[label]]));

const predictionsPath = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'predictions.csv');
if (!process.env.SUCCESSOR_ARTIFACTS || !existsSync(predictionsPath) || !statSync(predictionsPath).isFile()) {
  verdict({ passed: false, reason: 'no artifacts/predictions.csv: the run must leave its predictions for inputs/test.csv there' });
}
if (statSync(predictionsPath).size > 64 * 2 ** 20) verdict({ passed: false, reason: 'artifacts/predictions.csv is larger than 64 MiB' });
const predictions = new Map(parseCsv(readFileSync(predictionsPath, 'utf8')).map((row) => [row.id, row.prediction]));
const missing = [...answers.keys()].filter((id) => !predictions.has(id));
if (missing.length > 0) verdict({ passed: false, reason: `${missing.length} of ${answers.size} test rows have no prediction (first: id ${missing[0]})` });

const correct = [...answers].filter(([id, answer]) => predictions.get(id) === answer).length;
const accuracy = correct / answers.size;
verdict({ passed: true, score: params.score === 'errorRate' ? 1 - accuracy : accuracy, metrics: { accuracy, testRows: answers.size } });
