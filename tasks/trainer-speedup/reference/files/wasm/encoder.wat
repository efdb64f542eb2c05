;; The encoder (token + position embedding) and its backward pass, as ../kernels/encoder.ts. Token ids are int32
;; in shared memory (the backend copies them there).

;; out (BT,C) rows [start, end) = wte[inputs[row]] (V,C) + wpe[row % T] (T,C); inputs (BT) int32
(func (export "encoderForward") (param $thread i32) (param $start i32) (param $end i32)
  (param $out i32) (param $inputs i32) (param $wte i32) (param $wpe i32) (param $T i32) (param $C i32)
  (local $rowBytes i32) (local $token i32) (local $position i32) (local $y i32) (local $offset i32) (local $i i32) (local $C4 i32)
  (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
  (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
  (block $rowsDone (loop $rows
    (br_if $rowsDone (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $token (i32.add (local.get $wte)
      (i32.mul (i32.load (i32.add (local.get $inputs) (i32.shl (local.get $start) (i32.const 2)))) (local.get $rowBytes))))
    (local.set $position (i32.add (local.get $wpe) (i32.mul (i32.rem_s (local.get $start) (local.get $T)) (local.get $rowBytes))))
    (local.set $y (i32.add (local.get $out) (i32.mul (local.get $start) (local.get $rowBytes))))
    (local.set $i (i32.const 0))
    (block $done (loop $vectors
      (br_if $done (i32.ge_s (local.get $i) (local.get $C4)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (v128.store (i32.add (local.get $y) (local.get $offset))
        (f32x4.add (v128.load (i32.add (local.get $token) (local.get $offset))) (v128.load (i32.add (local.get $position) (local.get $offset)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $C)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $y) (local.get $offset))
        (f32.add (f32.load (i32.add (local.get $token) (local.get $offset))) (f32.load (i32.add (local.get $position) (local.get $offset)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $rows))))

;; dWte (V,C), dWpe (T,C) channels [start, end) += dOut (BT,C) routed by inputs. Split over channels, not rows:
;; two rows with the same token add into the same dWte row, and channels keep the threads apart.
(func (export "encoderBackward") (param $thread i32) (param $start i32) (param $end i32)
  (param $dWte i32) (param $dWpe i32) (param $dOut i32) (param $inputs i32) (param $BT i32) (param $T i32) (param $C i32)
  (local $row i32) (local $rowBytes i32) (local $token i32) (local $position i32) (local $d i32) (local $i i32) (local $offset i32)
  (local $value v128) (local $scalar f32)
  (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
  (block $rowsDone (loop $rows
    (br_if $rowsDone (i32.ge_s (local.get $row) (local.get $BT)))
    (local.set $token (i32.add (local.get $dWte)
      (i32.mul (i32.load (i32.add (local.get $inputs) (i32.shl (local.get $row) (i32.const 2)))) (local.get $rowBytes))))
    (local.set $position (i32.add (local.get $dWpe) (i32.mul (i32.rem_s (local.get $row) (local.get $T)) (local.get $rowBytes))))
    (local.set $d (i32.add (local.get $dOut) (i32.mul (local.get $row) (local.get $rowBytes))))
    (local.set $i (local.get $start))
    (block $done (loop $vectors
      (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (local.set $value (v128.load (i32.add (local.get $d) (local.get $offset))))
      (v128.store (i32.add (local.get $token) (local.get $offset)) (f32x4.add (v128.load (i32.add (local.get $token) (local.get $offset))) (local.get $value)))
      (v128.store (i32.add (local.get $position) (local.get $offset)) (f32x4.add (v128.load (i32.add (local.get $position) (local.get $offset))) (local.get $value)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (local.set $scalar (f32.load (i32.add (local.get $d) (local.get $offset))))
      (f32.store (i32.add (local.get $token) (local.get $offset)) (f32.add (f32.load (i32.add (local.get $token) (local.get $offset))) (local.get $scalar)))
      (f32.store (i32.add (local.get $position) (local.get $offset)) (f32.add (f32.load (i32.add (local.get $position) (local.get $offset))) (local.get $scalar)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $row (i32.add (local.get $row) (i32.const 1)))
    (br $rows))))

