/**
 * The lab's audit-signing key: an Ed25519 private key in PEM, at `$SUCCESSOR_KEY_DIR/audit-key.pem` or
 * `~/.config/successor/audit-key.pem`, created on first use with mode 0600. It must live outside the state dir:
 * whoever can rewrite the journal must not also be able to re-sign it. Not the checkpoints themselves (checkpoint.ts).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { JournalError } from './errors.js';

export const KEY_FILE = 'audit-key.pem';

export interface AuditKey {
  path: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** sha256 of the public key's DER, first 16 hex digits. */
  keyId: string;
}

export function keyDir(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.SUCCESSOR_KEY_DIR?.trim();
  return configured ? resolve(configured) : join(homedir(), '.config', 'successor');
}

const isInside = (child: string, parent: string): boolean => {
  const path = relative(resolve(parent), resolve(child));
  return path === '' || (!path.startsWith(`..${sep}`) && path !== '..' && !path.startsWith(sep));
};

/** Throws when the key would sit inside the lab's state dir (or be that dir). */
export function assertOutsideStateDir(directory: string, stateDir: string): void {
  if (isInside(directory, stateDir)) {
    throw new JournalError(`the audit key dir ${directory} is inside the state dir ${stateDir}; keep it outside (set SUCCESSOR_KEY_DIR elsewhere)`);
  }
}

/** sha256 of the public key's DER (SPKI), first 16 hex digits: how checkpoints name the key that signed them. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

function describe(path: string, privateKey: KeyObject): AuditKey {
  const publicKey = createPublicKey(privateKey);
  return { path, privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

function parseKey(path: string): AuditKey {
  const key = createPrivateKey(readFileSync(path, 'utf8'));
  if (key.asymmetricKeyType !== 'ed25519') throw new JournalError(`${path} is a ${key.asymmetricKeyType} key, not Ed25519`);
  return describe(path, key);
}

/** Reads the key, or undefined when there is none (verification never creates one). */
export function readAuditKey(stateDir: string, environment: NodeJS.ProcessEnv = process.env): AuditKey | undefined {
  const directory = keyDir(environment);
  assertOutsideStateDir(directory, stateDir);
  const path = join(directory, KEY_FILE);
  return existsSync(path) ? parseKey(path) : undefined;
}

/** Reads the key, creating it first if missing. Safe against several labs creating it at once (link is atomic). */
export function loadOrCreateAuditKey(stateDir: string, environment: NodeJS.ProcessEnv = process.env): AuditKey {
  const existing = readAuditKey(stateDir, environment);
  if (existing) return existing;
  const directory = keyDir(environment);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, KEY_FILE);
  const { privateKey } = generateKeyPairSync('ed25519');
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(staging, 0o600); // the umask may have narrowed it further, never widened; make it exact
  try {
    linkSync(staging, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(staging, { force: true });
  }
  return parseKey(path);
}
