/**
 * Weighted logistic regression of one outcome on one feature, with an L2 penalty on the slope only — the model
 * METR fits for time horizons (scikit-learn's LogisticRegression(C) with fit_intercept and sample weights):
 *
 *   minimise  0.5 * slope^2 + C * sum_i weight_i * logloss(y_i, sigmoid(slope * x_i + intercept))
 *
 * y may be fractional in [0, 1] (cross-entropy with a soft label, which equals METR's split into weighted 0s and
 * 1s). Solved by Newton's method with a backtracking line search: two parameters, so the 2x2 Hessian is inverted
 * in closed form. This file is only the optimiser: degenerate data (no success, one task length) is the caller's
 * business, except that it never returns NaN for finite input.
 */

export interface LogisticFit {
  slope: number;
  intercept: number;
  /** The objective at the optimum, for tests and diagnostics. */
  objective: number;
  iterations: number;
  converged: boolean;
}

export interface LogisticOptions {
  /** C: inverse regularisation strength; METR uses 10 with weights that sum to 1. */
  inverseRegularization: number;
  maxIterations?: number;
}

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const exp = Math.exp(z);
  return exp / (1 + exp);
}

export function logit(probability: number): number {
  return Math.log(probability / (1 - probability));
}

/** The penalised objective for given parameters. */
export function logisticObjective(
  x: ArrayLike<number>, // (N,)
  y: ArrayLike<number>, // (N,)
  weights: ArrayLike<number>, // (N,)
  slope: number,
  intercept: number,
  inverseRegularization: number,
): number {
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    if (weights[i] === 0) continue;
    const z = slope * x[i] + intercept;
    loss += weights[i] * (softplus(z) - y[i] * z);
  }
  return 0.5 * slope * slope + inverseRegularization * loss;
}

export function fitLogistic(
  x: ArrayLike<number>, // (N,) feature, here log2(human minutes)
  y: ArrayLike<number>, // (N,) outcome in [0, 1]
  weights: ArrayLike<number>, // (N,) non-negative sample weights
  options: LogisticOptions,
): LogisticFit {
  const count = x.length;
  if (y.length !== count || weights.length !== count) throw new RangeError('x, y and weights must have the same length');
  const inverseRegularization = options.inverseRegularization;
  if (!(inverseRegularization > 0)) throw new RangeError(`C must be positive, got ${inverseRegularization}`);
  const maxIterations = options.maxIterations ?? 100;

  // Start from the flat model at the weighted mean rate: close to the optimum for weak slopes, never NaN.
  let weightSum = 0;
  let weightedY = 0;
  for (let i = 0; i < count; i++) {
    weightSum += weights[i];
    weightedY += weights[i] * y[i];
  }
  const meanRate = weightSum > 0 ? Math.min(Math.max(weightedY / weightSum, 1e-6), 1 - 1e-6) : 0.5;
  let slope = 0;
  let intercept = logit(meanRate);
  let objective = logisticObjective(x, y, weights, slope, intercept, inverseRegularization);

  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    // Gradient and Hessian of the objective in (slope, intercept).
    let gradientSlope = slope;
    let gradientIntercept = 0;
    let hessianSlopeSlope = 1;
    let hessianSlopeIntercept = 0;
    let hessianInterceptIntercept = 0;
    for (let i = 0; i < count; i++) {
      const weight = weights[i];
      if (weight === 0) continue;
      const probability = sigmoid(slope * x[i] + intercept);
      const residual = inverseRegularization * weight * (probability - y[i]);
      const curvature = inverseRegularization * weight * probability * (1 - probability);
      gradientSlope += residual * x[i];
      gradientIntercept += residual;
      hessianSlopeSlope += curvature * x[i] * x[i];
      hessianSlopeIntercept += curvature * x[i];
      hessianInterceptIntercept += curvature;
    }
    // A vanishing intercept curvature (all outcomes equal) would make the step explode; a tiny ridge keeps
    // the step finite and the line search keeps it a descent.
    hessianInterceptIntercept += 1e-12;
    const determinant = hessianSlopeSlope * hessianInterceptIntercept - hessianSlopeIntercept * hessianSlopeIntercept;
    const stepSlope = -(hessianInterceptIntercept * gradientSlope - hessianSlopeIntercept * gradientIntercept) / determinant;
    const stepIntercept = -(hessianSlopeSlope * gradientIntercept - hessianSlopeIntercept * gradientSlope) / determinant;
    const decrease = gradientSlope * stepSlope + gradientIntercept * stepIntercept; // negative for a descent step

    let stepSize = 1;
    let nextObjective = Number.POSITIVE_INFINITY;
    while (stepSize > 1e-10) {
      nextObjective = logisticObjective(x, y, weights, slope + stepSize * stepSlope, intercept + stepSize * stepIntercept, inverseRegularization);
      if (nextObjective <= objective + 1e-4 * stepSize * decrease) break;
      stepSize /= 2;
    }
    if (stepSize <= 1e-10) return { slope, intercept, objective, iterations: iteration, converged: true }; // no further descent possible
    slope += stepSize * stepSlope;
    intercept += stepSize * stepIntercept;
    const improvement = objective - nextObjective;
    objective = nextObjective;
    const stepLength = stepSize * Math.max(Math.abs(stepSlope), Math.abs(stepIntercept));
    if (stepLength < 1e-10 || improvement < 1e-15 * (1 + Math.abs(objective))) {
      return { slope, intercept, objective, iterations: iteration, converged: true };
    }
  }
  return { slope, intercept, objective, iterations: maxIterations, converged: false };
}

/**
 * The human length (minutes) at which the fitted success probability equals `probability`: 2^((logit(p) - b) / a).
 * A flat fit (slope 0) has no crossing: the limit is 0 when the constant rate is below p, unbounded above it.
 */
export function horizonMinutes(fit: Pick<LogisticFit, 'slope' | 'intercept'>, probability: number): number {
  const target = logit(probability);
  if (Math.abs(fit.slope) < 1e-12) return fit.intercept > target ? Number.POSITIVE_INFINITY : 0;
  return 2 ** ((target - fit.intercept) / fit.slope);
}
