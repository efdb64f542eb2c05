/**
 * Renders a Vega-Lite spec to an SVG string in Node: compile to Vega, run a headless view with no renderer and
 * no canvas, and serialise with `view.toSVG()`. Text widths are estimated (there is no canvas to measure), so
 * labels may sit a few pixels off. This file knows nothing about horizons or trends.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new View(parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
