/**
 * Matmul (a linear layer): out = inp @ weight^T + bias, with weight stored (OC, C) as in PyTorch's nn.Linear.
 *
 * Reference kernels, but also the hot path (~85% of a step) where no faster backend starts, so arranged for speed
 * in plain JavaScript. All three products (the forward pass, dInp and dWeight) are written as one shape,
 * out (rows, cols) [+]= a (rows, inner) @ b^T (cols, inner): dot products over contiguous memory, computed for a 4x4
 * tile of outputs at once so that each value loaded is used four times (16 accumulators). The backward products
 * get that shape by transposing one or two operands first, which costs O(BT*C + BT*OC + OC*C) against the
 * O(BT*C*OC) multiply. Sums run in float64 (JavaScript numbers); tiling changes only their order.
 */
import type { Floats } from '../backend.js';

// out (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias (OC)
export function matmulForward(out: Floats, inp: Floats, weight: Floats, bias: Floats | null, BT: number, C: number, OC: number): void {
  dotProducts(out, inp, weight, bias, BT, C, OC, false);
}

// dInp (BT,C) = and dWeight (OC,C), dBias (OC) += gradients from dOut (BT,OC)
export function matmulBackward(
  dInp: Floats, dWeight: Floats, dBias: Floats | null, dOut: Floats, inp: Floats, weight: Floats,
  BT: number, C: number, OC: number,
): void {
  // dInp (BT,C) = dOut (BT,OC) @ weight (OC,C), i.e. dOut @ (weight^T)^T; an activation's gradient: overwritten
  dotProducts(dInp, dOut, transpose(weight, OC, C), null, BT, OC, C, false);
  // dWeight (OC,C) += dOut^T (OC,BT) @ inp (BT,C), i.e. dOut^T @ (inp^T)^T
  const dOutTransposed = transpose(dOut, BT, OC); // (OC,BT)
  dotProducts(dWeight, dOutTransposed, transpose(inp, BT, C), null, OC, BT, C, true);
  if (dBias !== null) {
    for (let o = 0; o < OC; o++) {
      let sum = 0;
      for (let row = 0; row < BT; row++) sum += dOutTransposed[o * BT + row];
      dBias[o] += sum;
    }
  }
}

/** (cols, rows) copy of a (rows, cols) matrix, of the same element type. */
function transpose(matrix: Floats, rows: number, cols: number): Floats {
  const result = matrix instanceof Float64Array ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) result[c * rows + r] = matrix[r * cols + c];
  }
  return result;
}

/**
 * out (rows,cols) = [out if accumulate] + a (rows,inner) @ b^T (cols,inner) + [bias (cols)].
 * Full 4x4 tiles first; rows and cols left over (fewer than 4) are done one dot product at a time.
 */
function dotProducts(
  out: Floats, a: Floats, b: Floats, bias: Floats | null, rows: number, inner: number, cols: number, accumulate: boolean,
): void {
  const store = (r: number, c: number, sum: number): void => {
    const index = r * cols + c;
    out[index] = sum + (accumulate ? out[index] : bias === null ? 0 : bias[c]);
  };
  const tiledRows = rows - (rows % 4);
  const tiledCols = cols - (cols % 4);
  for (let r = 0; r < tiledRows; r += 4) {
    const a0 = r * inner, a1 = a0 + inner, a2 = a1 + inner, a3 = a2 + inner;
    for (let c = 0; c < tiledCols; c += 4) {
      const b0 = c * inner, b1 = b0 + inner, b2 = b1 + inner, b3 = b2 + inner;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0; i < inner; i++) {
        const x0 = a[a0 + i], x1 = a[a1 + i], x2 = a[a2 + i], x3 = a[a3 + i];
        const y0 = b[b0 + i], y1 = b[b1 + i], y2 = b[b2 + i], y3 = b[b3 + i];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      store(r, c, s00); store(r, c + 1, s01); store(r, c + 2, s02); store(r, c + 3, s03);
      store(r + 1, c, s10); store(r + 1, c + 1, s11); store(r + 1, c + 2, s12); store(r + 1, c + 3, s13);
      store(r + 2, c, s20); store(r + 2, c + 1, s21); store(r + 2, c + 2, s22); store(r + 2, c + 3, s23);
      store(r + 3, c, s30); store(r + 3, c + 1, s31); store(r + 3, c + 2, s32); store(r + 3, c + 3, s33);
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = r < tiledRows ? tiledCols : 0; c < cols; c++) {
      let sum = 0;
      for (let i = 0; i < inner; i++) sum += a[r * inner + i] * b[c * inner + i];
      store(r, c, sum);
    }
  }
}
