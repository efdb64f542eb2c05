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
;; BT is walked in blocks of 128 rows so that the block of dOut and inp being multiplied stays in the L2 cache.
(func (export "matmulBackwardWeight") (param $thread i32) (param $start i32) (param $end i32)
  (param $dWeight i32) (param $dBias i32) (param $dOut i32) (param $inp i32) (param $BT i32) (param $C i32) (param $OC i32)
  (local $block i32) (local $blockRows i32) (local $row i32) (local $o i32) (local $pOut i32) (local $pBias i32)
  (block $done (loop $blocks
    (br_if $done (i32.ge_s (local.get $block) (local.get $BT)))
    (local.set $blockRows (select (i32.const 128) (i32.sub (local.get $BT) (local.get $block))
      (i32.lt_s (i32.const 128) (i32.sub (local.get $BT) (local.get $block)))))
    (call $gemm
      (i32.add (local.get $dWeight) (i32.shl (i32.mul (local.get $start) (local.get $C)) (i32.const 2)))
      (i32.add (local.get $dOut) (i32.shl (i32.add (i32.mul (local.get $block) (local.get $OC)) (local.get $start)) (i32.const 2)))
      (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $block) (local.get $C)) (i32.const 2)))
      (i32.sub (local.get $end) (local.get $start)) (local.get $C) (local.get $blockRows)
      (local.get $C) (i32.const 1) (local.get $OC) (local.get $C) (f32.const 1) (i32.const 1))
    (local.set $block (i32.add (local.get $block) (i32.const 128)))
    (br $blocks)))
  (if (i32.eqz (local.get $dBias)) (then (return)))
  ;; row by row, so that dOut streams once and this thread's slice of dBias stays in L1
  (block $rowsDone (loop $rows
    (br_if $rowsDone (i32.ge_s (local.get $row) (local.get $BT)))
    (local.set $pOut (i32.add (local.get $dOut) (i32.shl (i32.mul (local.get $row) (local.get $OC)) (i32.const 2))))
    (local.set $o (local.get $start))
    (block $vectorsDone (loop $vectors
      (br_if $vectorsDone (i32.gt_s (i32.add (local.get $o) (i32.const 4)) (local.get $end)))
      (local.set $pBias (i32.add (local.get $dBias) (i32.shl (local.get $o) (i32.const 2))))
      (v128.store (local.get $pBias) (f32x4.add (v128.load (local.get $pBias))
        (v128.load (i32.add (local.get $pOut) (i32.shl (local.get $o) (i32.const 2))))))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $vectors)))
    (block $tailDone (loop $tail
      (br_if $tailDone (i32.ge_s (local.get $o) (local.get $end)))
      (local.set $pBias (i32.add (local.get $dBias) (i32.shl (local.get $o) (i32.const 2))))
      (f32.store (local.get $pBias) (f32.add (f32.load (local.get $pBias))
        (f32.load (i32.add (local.get $pOut) (i32.shl (local.get $o) (i32.const 2))))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $tail)))
    (local.set $row (i32.add (local.get $row) (i32.const 1)))
    (br $rows))))
