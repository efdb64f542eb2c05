/**
 * A run's private /tmp: a fresh folder inside its workdir, made before the run and removed after it. Inside the
 * workdir, its bytes and entries count against the run's disk and file limits, so /tmp is no way around them (a
 * tmpfs has a byte size but no entry limit bubblewrap can set, and the host cannot poll it).
 * Not here: binding it at /tmp (bubblewrap.ts) or pointing TMPDIR at it (unsandboxed.ts).
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import path from 'node:path';

/** Its name in the workdir starts so; a random suffix keeps two runs in one workdir apart. */
export const RUN_TMP_PREFIX = '.successor-tmp-';

/** Makes a fresh `<workdir>/.successor-tmp-XXXXXX` (mode 0755: searchable by bwrap's setup as well as the command). */
export async function makeRunTmp(workdir: string): Promise<string> {
  const runTmp = await mkdtemp(path.join(workdir, RUN_TMP_PREFIX));
  await chmod(runTmp, 0o755);
  return runTmp;
}
