;; Matmul kernels: out (BT,OC) = inp (BT,C) @ weight^T (OC,C) + bias (OC) and its backward pass, on $gemm.
;; Every exported kernel takes (thread, start, end, ...): it does the part [start, end) of the work that the
;; pool gave this thread. The parts never write the same memory: forward and dInp split rows of BT, dWeight and
;; dBias split rows of OC.

;; weightT (C,OC) = weight^T, rows [start, end) of weight (OC,C). The forward product wants weight transposed so
;; that its inner loop reads B along rows; the copy is OC*C floats, 1/BT of the product's work.
(func (export "transposeWeight") (param $thread i32) (param $start i32) (param $end i32)
  (param $weightT i32) (param $weight i32) (param $C i32) (param $OC i32)
  (call $transpose
    (i32.add (local.get $weightT) (i32.shl (local.get $start) (i32.const 2)))
    (i32.add (local.get $weight) (i32.shl (i32.mul (local.get $start) (local.get $C)) (i32.const 2)))
    (i32.sub (local.get $end) (local.get $start)) (local.get $C) (local.get $C) (local.get $OC)))

;; out (BT,OC) rows [start, end) = inp (BT,C) @ weightT (C,OC) + bias (OC); bias 0 means none
(func (export "matmulForward") (param $thread i32) (param $start i32) (param $end i32)
  (param $out i32) (param $inp i32) (param $weightT i32) (param $bias i32) (param $C i32) (param $OC i32)
  (local $row i32) (local $rowBytes i32)
  (local.set $rowBytes (i32.shl (local.get $OC) (i32.const 2)))
  (if (local.get $bias) (then
    ;; start every output row at the bias, then accumulate the product onto it
    (local.set $row (local.get $start))
    (block $done (loop $rows
      (br_if $done (i32.ge_s (local.get $row) (local.get $end)))
      (memory.copy (i32.add (local.get $out) (i32.mul (local.get $row) (local.get $rowBytes))) (local.get $bias) (local.get $rowBytes))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rows)))))
  (call $gemm
    (i32.add (local.get $out) (i32.mul (local.get $start) (local.get $rowBytes)))
    (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $start) (local.get $C)) (i32.const 2)))
    (local.get $weightT)
    (i32.sub (local.get $end) (local.get $start)) (local.get $OC) (local.get $C)
    (local.get $OC) (local.get $C) (i32.const 1) (local.get $OC) (f32.const 1) (i32.ne (local.get $bias) (i32.const 0))))

;; dInp (BT,C) rows [start, end) += dOut (BT,OC) @ weight (OC,C)
(func (export "matmulBackwardInput") (param $thread i32) (param $start i32) (param $end i32)
  (param $dInp i32) (param $dOut i32) (param $weight i32) (param $C i32) (param $OC i32)
  (call $gemm
    (i32.add (local.get $dInp) (i32.shl (i32.mul (local.get $start) (local.get $C)) (i32.const 2)))
    (i32.add (local.get $dOut) (i32.shl (i32.mul (local.get $start) (local.get $OC)) (i32.const 2)))
    (local.get $weight)
    (i32.sub (local.get $end) (local.get $start)) (local.get $C) (local.get $OC)
    (local.get $C) (local.get $OC) (i32.const 1) (local.get $C) (f32.const 1) (i32.const 1)))

;; dWeight (OC,C) rows [start, end) += dOut^T (OC,BT) @ inp (BT,C); dBias (OC) [start, end) += column sums of dOut.
;; BT is walked in blocks of 128 rows so that the block of dOut and inp being multiplied stays in the L2 cache;
;; the bias sums read each block of dOut again while it is still there.
(func (export "matmulBackwardWeight") (param $thread i32) (param $start i32) (param $end i32)
  (param $dWeight i32) (param $dBias i32) (param $dOut i32) (param $inp i32) (param $BT i32) (param $C i32) (param $OC i32)
  (local $block i32) (local $blockEnd i32) (local $row i32)
  (block $done (loop $blocks
    (br_if $done (i32.ge_s (local.get $block) (local.get $BT)))
    (local.set $blockEnd (call $min (i32.add (local.get $block) (i32.const 128)) (local.get $BT)))
    (call $gemm
      (i32.add (local.get $dWeight) (i32.shl (i32.mul (local.get $start) (local.get $C)) (i32.const 2)))
      (i32.add (local.get $dOut) (i32.shl (i32.add (i32.mul (local.get $block) (local.get $OC)) (local.get $start)) (i32.const 2)))
      (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $block) (local.get $C)) (i32.const 2)))
      (i32.sub (local.get $end) (local.get $start)) (local.get $C) (i32.sub (local.get $blockEnd) (local.get $block))
      (local.get $C) (i32.const 1) (local.get $OC) (local.get $C) (f32.const 1) (i32.const 1))
    (if (local.get $dBias) (then
      (local.set $row (local.get $block))
      (block $rowsDone (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $row) (local.get $blockEnd)))
        (call $addRow (i32.add (local.get $dBias) (i32.shl (local.get $start) (i32.const 2)))
          (i32.add (local.get $dOut) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $OC)) (local.get $start)) (i32.const 2)))
          (i32.sub (local.get $end) (local.get $start)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))))
    (local.set $block (local.get $blockEnd))
    (br $blocks))))
