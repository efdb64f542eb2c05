// The kernel to speed up: C (n, n) = A (n, n) · B (n, n), row-major Float64Arrays.
export function matmul(a, b, n, order) {
  const c = new Float64Array(n * n);
  if (order === 'kji') {
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) c[i * n + j] += a[i * n + k] * b[k * n + j];
    return c;
  }
  const outer = order === 'jik';
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      const i = outer ? q : p;
      const j = outer ? p : q;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}
