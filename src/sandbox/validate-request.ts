/**
 * Parses a `SandboxRequest` at the boundary: the schema, then what only the host can check (paths absolute,
 * normalised, existing; devices character devices). A bad request is the caller's bug, reported as a `SandboxError` naming the problem.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { SandboxError, SandboxRequest } from './types.js';

export function validateRequest(input: unknown): SandboxRequest {
  const parsed = SandboxRequest.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`);
    throw new SandboxError(`invalid sandbox request: ${problems.join('; ')}`);
  }
  const request = parsed.data;
  for (const hostPath of [request.workdir, ...request.readOnlyPaths]) {
    // A path with '..' or '//' would be bound at a different place than the caller reads it.
    if (path.posix.normalize(hostPath) !== hostPath.replace(/(.)\/$/, '$1') || hostPath === '/') {
      throw new SandboxError(`sandbox path must be absolute, normalised and not '/': ${hostPath}`);
    }
    if (!statSync(hostPath, { throwIfNoEntry: false })) throw new SandboxError(`sandbox path does not exist: ${hostPath}`);
  }
  for (const device of request.devices ?? []) {
    const stats = statSync(device, { throwIfNoEntry: false });
    if (path.posix.normalize(device) !== device || !stats) throw new SandboxError(`device must be an absolute, normalised path that exists: ${device}`);
    if (!stats.isCharacterDevice() && !stats.isDirectory()) throw new SandboxError(`not a character device (or a folder of them): ${device}`);
  }
  if (!statSync(request.workdir).isDirectory()) throw new SandboxError(`workdir is not a directory: ${request.workdir}`);
  if (request.readOnlyPaths.includes(request.workdir)) throw new SandboxError('the workdir cannot also be read-only');
  return request;
}
