/**
 * Ordinary least squares for one feature: y = intercept + slope * x. The feature is centred before solving so
 * that x values around 20,000 (days since 1970) lose no precision. Not weighted, not robust.
 */

export interface LineFit {
  slope: number;
  intercept: number;
  /** Share of the variance of y explained by the line; NaN when y is constant. */
  rSquared: number;
}

/** Fits a line; NaN parameters when fewer than two distinct x values (the slope is not identified). */
export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>): LineFit {
  const count = x.length;
  if (y.length !== count) throw new RangeError('x and y must have the same length');
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < count; i++) {
    meanX += x[i] / count;
    meanY += y[i] / count;
  }
  let sumXX = 0;
  let sumXY = 0;
  let sumYY = 0;
  for (let i = 0; i < count; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sumXX += dx * dx;
    sumXY += dx * dy;
    sumYY += dy * dy;
  }
  if (count < 2 || sumXX === 0) return { slope: Number.NaN, intercept: Number.NaN, rSquared: Number.NaN };
  const slope = sumXY / sumXX;
  return { slope, intercept: meanY - slope * meanX, rSquared: sumYY === 0 ? Number.NaN : (sumXY * sumXY) / (sumXX * sumYY) };
}
