/**
 * A task's search space: typed knobs that a researcher may set. Each knob names the config key it writes
 * (a dotted path into the workspace's config file) and carries its default, which is the baseline's value.
 */
import { z } from 'zod';

const KnobBase = {
  key: z.string().min(1).optional(),
  description: z.string().optional(),
  /** The task author's prior on how much this knob matters (default 1): researchers try heavier knobs more often. */
  weight: z.number().positive().max(100).optional(),
};

export const FloatKnob = z.object({
  type: z.literal('float'),
  scale: z.enum(['log', 'linear']).default('linear'),
  min: z.number(),
  max: z.number(),
  default: z.number(),
  ...KnobBase,
}).strict();
export const IntKnob = z.object({
  type: z.literal('int'),
  scale: z.enum(['log', 'linear']).default('linear'),
  min: z.number().int(),
  max: z.number().int(),
  default: z.number().int(),
  ...KnobBase,
}).strict();
export const CategoricalKnob = z.object({
  type: z.literal('categorical'),
  choices: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  default: z.union([z.string(), z.number(), z.boolean()]),
  ...KnobBase,
}).strict();

export const Knob = z
  .discriminatedUnion('type', [FloatKnob, IntKnob, CategoricalKnob])
  .superRefine((knob, context) => {
    if (knob.type === 'categorical') {
      if (!knob.choices.includes(knob.default)) context.addIssue({ code: 'custom', message: 'default must be one of choices' });
      return;
    }
    if (knob.min > knob.max) context.addIssue({ code: 'custom', message: 'min must not exceed max' });
    if (knob.default < knob.min || knob.default > knob.max) context.addIssue({ code: 'custom', message: 'default must lie in [min, max]' });
    if (knob.scale === 'log' && knob.min <= 0) context.addIssue({ code: 'custom', message: 'a log-scale knob needs min > 0' });
  });
export type Knob = z.infer<typeof Knob>;

export const Space = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]*$/), Knob);
export type Space = z.infer<typeof Space>;

export type KnobValue = string | number | boolean;
/** A point in the space: knob name -> value. */
export type Assignment = Record<string, KnobValue>;

export const defaultAssignment = (space: Space): Assignment =>
  Object.fromEntries(Object.entries(space).map(([name, knob]) => [name, knob.default]));
