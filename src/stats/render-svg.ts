/**
 * Renders a Vega-Lite spec to an SVG string in Node: compile to Vega, run a headless view with no renderer and
 * no canvas, and serialise with `view.toSVG()`. Text widths are estimated (there is no canvas to measure), so
 * labels may sit a few pixels off. Vega is imported on first use so that commands which draw nothing do not pay
 * for loading it. This file knows nothing about horizons or trends.
 */
import type { TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
