/**
 * Picks the Sandbox implementation for this machine. 'required': bubblewrap or a `SandboxUnavailableError`;
 * 'auto': bubblewrap when it isolates here, else the unsandboxed fallback with the reason in `notes`;
 * 'off': unsandboxed. Detection (bubblewrap probe, cgroups, prlimit) runs once per call; reuse the result.
 */
import { createBubblewrapSandbox } from './bubblewrap.js';
import { detectEnforcement } from './enforcement.js';
import { SandboxUnavailableError, type Sandbox, type SandboxMode } from './types.js';
import { createUnsandboxedSandbox } from './unsandboxed.js';

export async function createSandbox(mode: SandboxMode): Promise<Sandbox> {
  const enforcement = await detectEnforcement();
  if (mode === 'off') return createUnsandboxedSandbox(enforcement, ['sandbox turned off (mode "off")']);
  try {
    return await createBubblewrapSandbox(enforcement);
  } catch (error) {
    if (mode === 'required' || !(error instanceof SandboxUnavailableError)) throw error;
    return createUnsandboxedSandbox(enforcement, [`bubblewrap unavailable: ${error.message}`]);
  }
}
