/**
 * The contract suite against the bubblewrap sandbox, plus the isolation only it promises: no network, no lab
 * secrets, a read-only host with only the workdir writable, no way back to privilege. Each case attacks from the
 * inside and then checks the host from the outside.
 * Under CI=true a machine where bubblewrap cannot isolate fails this file; elsewhere the file is skipped, loudly.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBubblewrapSandbox } from '../../src/sandbox/bubblewrap.js';
import { findExecutable } from '../../src/sandbox/enforcement.js';
import { createSandbox, SandboxUnavailableError, type Sandbox } from '../../src/sandbox/index.js';
import { nodeDirectory, sandboxContract, useWorkdir } from './contract.js';

let sandbox: Sandbox | null = null;
let unavailable = '';
try {
  sandbox = await createSandbox('required');
} catch (error) {
  if (!(error instanceof SandboxUnavailableError)) throw error;
  unavailable = error.message;
}

if (!sandbox) {
  if (process.env.CI === 'true') {
    it('bubblewrap isolates on this machine (required under CI)', () => { throw new Error(unavailable); });
  } else {
    it.skip(`bubblewrap sandbox (unavailable here: ${unavailable})`, () => {});
  }
} else {
  const bubblewrap = sandbox;
  sandboxContract(bubblewrap);
  // A developer's machine (not root): namespaces still isolate and kill the tree; memory is polled, processes unlimited.
  sandboxContract(await createBubblewrapSandbox({ cgroups: null, prlimitPath: findExecutable('prlimit') }), ' without cgroups');

  describe('bubblewrap isolation', () => {
    const { state, request } = useWorkdir();
    const runNode = (source: string) => bubblewrap.run(request(['node', '-e', source]));

    it('enforces everything on this machine, and says so', () => {
      expect(bubblewrap.kind).toBe('bubblewrap');
      expect(bubblewrap.protections).toEqual(expect.arrayContaining(['network-isolation', 'filesystem-isolation', 'no-capabilities', 'pid-isolation', 'whole-tree-kill']));
    });

    describe('network', () => {
      const servers: Server[] = [];
      const listen = (host: string) => new Promise<number | null>((resolve) => {
        const server = createServer((socket) => socket.end('host-reached\n'));
        server.once('error', () => resolve(null)); // no IPv6 on this host
        server.listen(0, host, () => { servers.push(server); resolve((server.address() as { port: number }).port); });
      });
      let port4: number | null = null;
      let port6: number | null = null;
      beforeAll(async () => { port4 = await listen('127.0.0.1'); port6 = await listen('::1'); });
      afterAll(() => { for (const server of servers) server.close(); });

      const connectScript = (host: string, port: number) => `
        const socket = require('net').connect(${port}, '${host}');
        socket.setTimeout(2000, () => { console.log('timeout'); process.exit(0); });
        socket.on('data', (data) => { console.log('reached ' + data); process.exit(0); });
        socket.on('error', (error) => { console.log('error ' + error.code); process.exit(0); });`;

      it('cannot reach a TCP server on the host loopback (IPv4 and IPv6)', async () => {
        expect(port4).not.toBeNull();
        const ipv4 = await runNode(connectScript('127.0.0.1', port4!));
        expect(ipv4.stdout).toBe('error ECONNREFUSED\n');
        if (port6 !== null) {
          const ipv6 = await runNode(connectScript('::1', port6));
          expect(ipv6.stdout).toBe('error ECONNREFUSED\n');
        }
      });

      it('cannot resolve names or route outward over IPv4 or IPv6', async () => {
        const dns = await runNode(`require('dns').lookup('registry.npmjs.org', (error) => console.log(error ? 'error ' + error.code : 'resolved'))`);
        expect(dns.stdout).toMatch(/^error (EAI_AGAIN|ENOTFOUND)\n$/);
        const outward4 = await runNode(connectScript('1.1.1.1', 443));
        expect(outward4.stdout).toBe('error ENETUNREACH\n');
        const outward6 = await runNode(connectScript('2606:4700:4700::1111', 443));
        expect(outward6.stdout).toMatch(/^error (ENETUNREACH|EADDRNOTAVAIL)\n$/);
      });
    });

    it('shows no lab secret: not in the environment of pid 1, no /root, no host processes', async () => {
      process.env.SUCCESSOR_TEST_SECRET = 'lab-secret-value';
      try {
        const result = await runNode(`
          const fs = require('fs');
          const pids = fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name));
          const environments = pids.map((pid) => { try { return fs.readFileSync('/proc/' + pid + '/environ', 'utf8'); } catch { return ''; } });
          console.log(JSON.stringify({ pids: pids.length, environments, root: fs.existsSync('/root'), work: fs.existsSync('/work') }));`);
        const seen = JSON.parse(result.stdout);
        expect(seen.environments.join('')).not.toContain('lab-secret-value');
        expect(seen.root).toBe(false);
        expect(seen.work).toBe(false); // the project (and lab state) is not bound; the workdir lives under tmpdir
        expect(seen.pids).toBeLessThan(6); // bwrap's init, node, maybe a helper: not the host's hundreds
      } finally {
        delete process.env.SUCCESSOR_TEST_SECRET;
      }
    });

    it('cannot write outside the workdir: system, read-only paths, /proc/sys, remount', async () => {
      const marker = `successor-escape-${process.pid}`;
      const script = [
        `touch /usr/${marker}`, `touch /etc/${marker}`, `touch ${nodeDirectory}/${marker}`, `touch /${marker}`,
        'exec 4>>/proc/sys/vm/swappiness', 'mount -o remount,rw /', 'mount -t tmpfs none /usr',
      ].map((attempt) => `if (${attempt}) 2>/dev/null; then echo "WROTE: ${attempt}"; fi`).join('\n');
      const result = await bubblewrap.run(request(['sh', '-c', `${script}\ntouch /tmp/${marker} && echo private-tmp-ok`]));
      expect(result.stdout).toBe('private-tmp-ok\n');
      for (const hostPath of [`/usr/${marker}`, `/etc/${marker}`, `${nodeDirectory}/${marker}`, `/${marker}`, `/tmp/${marker}`]) {
        expect(existsSync(hostPath)).toBe(false);
      }
    });

    it('runs with no capabilities and cannot make a new user namespace to regain them', async () => {
      const result = await bubblewrap.run(request(['sh', '-c', 'grep CapEff /proc/self/status; unshare -U -r true 2>/dev/null && echo regained']));
      expect(result.stdout).toBe('CapEff:\t0000000000000000\n');
    });

    const python = existsSync('/usr/bin/python3');
    it.skipIf(!python)(`refuses io_uring and keyctl (seccomp), which the host allows${python ? '' : ' (skipped: no /usr/bin/python3)'}`, async () => {
      // io_uring_setup(1, NULL) fails with EFAULT when allowed; keyctl(GET_KEYRING_ID, user keyring) succeeds.
      const syscalls = { x64: { ioUring: 425, keyctl: 250 }, arm64: { ioUring: 425, keyctl: 219 } }[process.arch as 'x64' | 'arm64'];
      const script = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for name, args in (('io_uring', (${syscalls.ioUring}, 1, 0)), ('keyctl', (${syscalls.keyctl}, 0, -4, 0))):
    result = libc.syscall(*args)
    print(name, 'allowed' if result >= 0 or ctypes.get_errno() != 1 else 'EPERM')`;
      const inside = await bubblewrap.run(request(['/usr/bin/python3', '-c', script]));
      expect(inside.stdout).toBe('io_uring EPERM\nkeyctl EPERM\n');
      const host = await createSandbox('off').then((unsandboxed) => unsandboxed.run(request(['/usr/bin/python3', '-c', script])));
      expect(host.stdout).toBe('io_uring allowed\nkeyctl allowed\n');
    });

    it('cannot use a symlink planted in the workdir to write outside it', async () => {
      const outside = mkdtempSync(path.join(tmpdir(), 'successor-outside-'));
      try {
        symlinkSync(outside, path.join(state.workdir, 'to-directory'));
        symlinkSync(path.join(outside, 'target.txt'), path.join(state.workdir, 'to-file'));
        symlinkSync('/tmp', path.join(state.workdir, 'to-tmp'));
        const result = await bubblewrap.run(request(['sh', '-c', 'echo x > to-directory/new.txt; echo x > to-file; echo x > to-tmp/planted.txt; ls to-tmp']));
        expect(existsSync(path.join(outside, 'new.txt'))).toBe(false);
        expect(existsSync(path.join(outside, 'target.txt'))).toBe(false);
        expect(existsSync('/tmp/planted.txt')).toBe(false); // it went to the sandbox's private /tmp
        expect(result.stdout).toContain('planted.txt');
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it.skipIf(process.getuid?.() !== 0)('runs as an unprivileged host uid when the lab is root: root-only files stay closed, what it writes is not root\'s', async () => {
      const result = await bubblewrap.run(request(['sh', '-c', 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ls /etc/ssl/private >/dev/null 2>&1 && echo listed-private; cat /etc/shadow >/dev/null 2>&1 && echo read-shadow; echo x > mine.txt']));
      const [uid, ...status] = result.stdout.trim().split('\n');
      expect(Number(uid)).not.toBe(0);
      expect(status).toEqual(['CapEff:\t0000000000000000', 'CapBnd:\t0000000000000000', 'NoNewPrivs:\t1']);
      expect(readFileSync(path.join(state.workdir, 'mine.txt'), 'utf8')).toBe('x\n');
      expect(statSync(path.join(state.workdir, 'mine.txt')).uid).toBe(Number(uid));
    });

    it.skipIf(!existsSync('/usr/bin/python3'))('cannot make a user namespace through clone either (the call unshare -U does not make)', async () => {
      // clone(CLONE_NEWUSER | SIGCHLD): EPERM when refused; a child (0 inside, its pid outside) when allowed.
      const script = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = libc.syscall(${process.arch === 'arm64' ? 220 : 56}, 0x10000000 | 17, 0, 0, 0, 0)
if pid == 0:
    os._exit(0)
print('refused' if pid < 0 and ctypes.get_errno() == 1 else 'made %d errno %d' % (pid, ctypes.get_errno()))`;
      const result = await bubblewrap.run(request(['/usr/bin/python3', '-c', script]));
      expect(result.stdout).toBe('refused\n');
    });

    it('writes in the workdir as the host sees them', async () => {
      await bubblewrap.run(request(['sh', '-c', 'mkdir -p out && echo weights > out/model.bin']));
      expect(readFileSync(path.join(state.workdir, 'out', 'model.bin'), 'utf8')).toBe('weights\n');
    });
  });
}
