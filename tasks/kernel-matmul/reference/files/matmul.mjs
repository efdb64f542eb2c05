// Reference solution: i-k-j order streams rows of B and C (unit stride), row offsets hoisted, inner loop unrolled by 4.
export function matmul(a, b, n) {
  const c = new Float64Array(n * n);
  const tail = n - (n % 4);
  for (let i = 0; i < n; i++) {
    const rowC = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      const rowB = k * n;
      let j = 0;
      for (; j < tail; j += 4) {
        c[rowC + j] += aik * b[rowB + j];
        c[rowC + j + 1] += aik * b[rowB + j + 1];
        c[rowC + j + 2] += aik * b[rowB + j + 2];
        c[rowC + j + 3] += aik * b[rowB + j + 3];
      }
      for (; j < n; j++) c[rowC + j] += aik * b[rowB + j];
    }
  }
  return c;
}
