/**
 * The task file (`task.json`) schema. A task is a folder: this file, markdown instructions, an editable
 * workspace, and a trusted harness (prepare + score scripts and the data they own). See docs/tasks.md.
 */
import { z } from 'zod';
import { ProgressSpec } from './progress.js';
import { Space } from './space.js';

const RelativePath = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/'), 'must be a path relative to the task folder');

/** A glob of workspace paths: `*` within a segment, `**` across segments. No absolute paths, no `..`. */
export const Glob = z
  .string()
  .min(1)
  .refine((glob) => !glob.startsWith('/') && !glob.split('/').includes('..'), 'a glob must stay inside the workspace (no leading / or ..)')
  .refine((glob) => !/[[\]{}]/.test(glob), 'only * and ** are supported in globs');

export const Limits = z
  .object({
    wallSeconds: z.number().positive().max(24 * 3600),
    memoryMb: z.number().int().positive().default(4096),
    processes: z.number().int().positive().default(256),
    fileSizeMb: z.number().int().positive().default(512),
    diskMb: z.number().int().positive().default(1024),
    /** Entries (files, folders, links) the run's workdir and /tmp may hold together; also caps its artifacts. */
    files: z.number().int().positive().default(10_000),
    outputKb: z.number().int().positive().default(1024),
    threads: z.number().int().positive().default(2),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

/**
 * Limits of the harness's own scripts (prepare, stage, score), each run in the lab's sandbox too: they read what
 * untrusted code left (a checkpoint built to be costly, a FIFO), so they get a clock, memory and CPU time of their
 * own, and their CPU time is counted into the experiment's. `prepare` runs once per task version and gets twice
 * the wall and CPU time.
 */
export const HarnessLimits = z
  .object({
    wallSeconds: z.number().positive().max(24 * 3600).default(300),
    cpuSeconds: z.number().positive().default(600),
    memoryMb: z.number().int().positive().default(4096),
    diskMb: z.number().int().positive().default(4096),
    files: z.number().int().positive().default(100_000),
  })
  .strict();
export type HarnessLimits = z.infer<typeof HarnessLimits>;

/**
 * A harness script: a TypeScript/JavaScript module inside `harness.dir` (a path; the lab's loader runs it), or a
 * command in any language (an argv, e.g. `["python3", "score.py"]`): an argument naming a file in the harness
 * folder is passed as its absolute path, and placeholders are filled in (harness-script.ts). Either way it
 * speaks one protocol (docs/tasks.md): environment variables in, one JSON verdict as the last line of stdout out.
 */
export const HarnessScript = z.union([
  RelativePath,
  z.array(z.string().min(1)).min(1, 'a command needs at least a program'),
]);
export type HarnessScript = z.infer<typeof HarnessScript>;

const VariableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and _, not starting with a digit');

/** Variables the harness sets itself: a task cannot pass the lab's own values of them. */
const RESERVED_VARIABLES = new Set(['PATH', 'HOME', 'TMPDIR', 'LANG', 'UV_THREADPOOL_SIZE', 'PYTHONDONTWRITEBYTECODE']);

/** Words that mark a variable as a credential (HF_TOKEN, OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, PGPASSWORD, ...). */
const SECRET_WORDS = new Set(['KEY', 'KEYS', 'APIKEY', 'TOKEN', 'TOKENS', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASSPHRASE', 'PASS', 'PAT', 'CREDENTIAL', 'CREDENTIALS', 'CREDS', 'AUTH', 'COOKIE', 'SESSION', 'PRIVATE', 'SIGNING', 'DSN']);
const SECRET_PARTS = /PASSWORD|APIKEY|SECRET|TOKEN/;

/** Whether a variable's name says it holds a credential: one of its `_`-separated words is a secret word. */
export function looksLikeSecret(name: string): boolean {
  return name.toUpperCase().split('_').some((word) => SECRET_WORDS.has(word) || SECRET_PARTS.test(word));
}

const MountPath = z.string().min(1).refine((path) => !path.split('/').includes('..'), 'no .. in a mount path');

/** A device a run may use: `gpu` (the NVIDIA nodes and driver libraries found on the machine) or a character device under /dev. */
const Device = z.union([
  z.literal('gpu'),
  z.string().regex(/^\/dev\/[A-Za-z0-9._/-]+$/, "a device is 'gpu' or a path under /dev, such as /dev/dri/renderD128").refine((path) => !path.split('/').includes('..'), 'no .. in a device path'),
]);

/**
 * What the run (and the harness's own scripts) may see of the host besides the sandbox's defaults: read-only
 * mounts (a virtualenv, a model or dataset folder; relative paths are inside the task folder), mounts for the
 * harness scripts alone, environment variables passed through by name, and devices. Host-side checks (a path that exists, not the lab's state dir; a
 * device that is present) are environment.ts's, made where the run happens.
 */
export const Environment = z
  .object({
    /** Folders the run and the harness scripts read (a virtualenv, model weights). The run can read all of it. */
    mounts: z.array(MountPath).default([]),
    /** Folders only the harness scripts read: raw data that holds the held-out answers, which prepare splits. */
    harnessMounts: z.array(MountPath).default([]),
    variables: z.array(VariableName.refine((name) => !RESERVED_VARIABLES.has(name) && !name.startsWith('SUCCESSOR_'), 'the harness sets this variable itself')).default([]),
    /** Variables whose names look like credentials, passed anyway: each must be named here as well as in `variables`. */
    allowSecrets: z.array(VariableName).default([]),
    devices: z.array(Device).default([]),
  })
  .strict()
  .superRefine((environment, context) => {
    environment.variables.forEach((name, index) => {
      if (looksLikeSecret(name) && !environment.allowSecrets.includes(name)) {
        context.addIssue({
          code: 'custom', path: ['variables', index],
          message: `'${name}' looks like a secret: a run is untrusted code, and what it reads can end in its logs and artifacts, which the researcher reads; if the run really needs it, name it in environment.allowSecrets too`,
        });
      }
    });
    environment.allowSecrets.forEach((name, index) => {
      if (!environment.variables.includes(name)) context.addIssue({ code: 'custom', path: ['allowSecrets', index], message: `'${name}' is not in environment.variables` });
    });
  });
export type Environment = z.infer<typeof Environment>;

export const Metric = z
  .object({
    name: z.string().min(1),
    direction: z.enum(['minimize', 'maximize']),
    unit: z.string().optional(),
    /** `wall-seconds`: the harness's own clock is the score (the scorer only passes or fails the run). `scorer`: the scorer's number. */
    source: z.enum(['wall-seconds', 'scorer']),
  })
  .strict();
export type Metric = z.infer<typeof Metric>;

export const TaskFile = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    version: z.string().min(1),
    title: z.string().min(1),
    instructions: RelativePath,
    workspace: z
      .object({
        dir: RelativePath,
        editable: z.array(Glob).min(1),
        /** Paths (globs) never copied back as artifacts or shown in diffs, e.g. build outputs. */
        ignore: z.array(Glob).default([]),
      })
      .strict(),
    harness: z
      .object({
        dir: RelativePath,
        /** Trusted script run once per task version: writes `inputs/` (mounted read-only into the sandbox) and `hidden/` (never mounted). */
        prepare: HarnessScript.optional(),
        /**
         * Trusted script run before each experiment: writes this run's own data (`inputs/` for the sandbox, `hidden/`
         * for the scorer), e.g. drawn fresh from a secret source keyed by a per-run key (not a disguise of public
         * data), so nothing computed before the run (copied weights, cached answers) fits the data it is scored on.
         */
        stage: HarnessScript.optional(),
        /** Trusted script run after each experiment, in a sandbox of its own: prints one JSON verdict (see docs/tasks.md). */
        score: HarnessScript,
        params: z.record(z.string(), z.unknown()).default({}),
        limits: HarnessLimits.prefault({}),
      })
      .strict(),
    run: z
      .object({
        /** argv; placeholders {node}, {tsx}, {inputs}, {artifacts}, {workdir} are filled in by the harness. */
        command: z.array(z.string().min(1)).min(1),
        artifacts: RelativePath.default('artifacts'),
        /** The workspace file the space's knobs are written into (JSON), keys as dotted paths. */
        configFile: RelativePath.optional(),
        /** Dotted key in configFile that the harness sets to its own seed for every run, so a seed is never a researcher's lever. */
        seedKey: z.string().min(1).optional(),
        /**
         * The run's own progress lines (untrusted): a pattern with a `value` group the run prints as it goes (a
         * validation loss). The lab shows them as the run's claim and may stop a candidate early on them, never accept one.
         */
        progress: ProgressSpec.optional(),
        limits: Limits,
      })
      .strict(),
    metric: Metric,
    /** What the run and the harness scripts see of the host besides the sandbox's defaults (mounts, variables, devices). */
    environment: Environment.prefault({}),
    space: Space.default({}),
    human: z.object({ minutes: z.number().positive(), score: z.number().optional(), source: z.string().optional() }).strict().optional(),
    reference: z.object({ score: z.number(), description: z.string().optional() }).strict().optional(),
    /** The baseline's expected score on the reference machine, for documentation; the lab always measures its own. */
    baseline: z.object({ score: z.number().optional(), description: z.string().optional() }).strict().optional(),
  })
  .strict()
  .superRefine((task, context) => {
    if (task.space && Object.keys(task.space).length > 0 && !task.run.configFile) {
      context.addIssue({ code: 'custom', path: ['run', 'configFile'], message: 'a task with a space needs run.configFile to write knob values into' });
    }
    if (task.run.seedKey && !task.run.configFile) {
      context.addIssue({ code: 'custom', path: ['run', 'seedKey'], message: 'run.seedKey needs run.configFile' });
    }
  });
export type TaskFile = z.infer<typeof TaskFile>;
