;; Optimizer kernels over values [start, end) of a slice: the AdamW update, and the sum of squares and scaling
;; that gradient clipping needs, as kernels/adamw.ts. The caller passes pointers already moved to the slice.

;; m, v = updated moments; params -= lr * (mHat / (sqrt(vHat) + epsilon) + weightDecay * params), where
;; mHat = m / beta1Correction and vHat = v / beta2Correction
(func (export "adamwUpdate") (param $thread i32) (param $start i32) (param $end i32)
  (param $params i32) (param $grads i32) (param $m i32) (param $v i32)
  (param $learningRate f32) (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32) (param $oneMinusBeta2 f32)
  (param $epsilon f32) (param $weightDecay f32) (param $beta1Correction f32) (param $beta2Correction f32)
  (local $offset i32) (local $g v128) (local $mNew v128) (local $vNew v128) (local $p v128) (local $last i32)
  (local.set $last (i32.const 0))
  (block $done (loop $values
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (if (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end))
      (then ;; fewer than four values left: one at a time, through lane 0
        (local.set $last (i32.const 1))
        (local.set $g (v128.load32_splat (i32.add (local.get $grads) (local.get $offset))))
        (local.set $mNew (v128.load32_splat (i32.add (local.get $m) (local.get $offset))))
        (local.set $vNew (v128.load32_splat (i32.add (local.get $v) (local.get $offset))))
        (local.set $p (v128.load32_splat (i32.add (local.get $params) (local.get $offset)))))
      (else
        (local.set $g (v128.load (i32.add (local.get $grads) (local.get $offset))))
        (local.set $mNew (v128.load (i32.add (local.get $m) (local.get $offset))))
        (local.set $vNew (v128.load (i32.add (local.get $v) (local.get $offset))))
        (local.set $p (v128.load (i32.add (local.get $params) (local.get $offset))))))
    (local.set $mNew (f32x4.add (f32x4.mul (f32x4.splat (local.get $beta1)) (local.get $mNew))
      (f32x4.mul (f32x4.splat (local.get $oneMinusBeta1)) (local.get $g))))
    (local.set $vNew (f32x4.add (f32x4.mul (f32x4.splat (local.get $beta2)) (local.get $vNew))
      (f32x4.mul (f32x4.splat (local.get $oneMinusBeta2)) (f32x4.mul (local.get $g) (local.get $g)))))
    (local.set $p (f32x4.sub (local.get $p)
      (f32x4.mul (f32x4.splat (local.get $learningRate))
        (f32x4.add
          (f32x4.div (f32x4.div (local.get $mNew) (f32x4.splat (local.get $beta1Correction)))
            (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vNew) (f32x4.splat (local.get $beta2Correction)))) (f32x4.splat (local.get $epsilon))))
          (f32x4.mul (f32x4.splat (local.get $weightDecay)) (local.get $p))))))
    (if (local.get $last)
      (then
        (f32.store (i32.add (local.get $m) (local.get $offset)) (f32x4.extract_lane 0 (local.get $mNew)))
        (f32.store (i32.add (local.get $v) (local.get $offset)) (f32x4.extract_lane 0 (local.get $vNew)))
        (f32.store (i32.add (local.get $params) (local.get $offset)) (f32x4.extract_lane 0 (local.get $p)))
        (local.set $start (i32.add (local.get $start) (i32.const 1))))
      (else
        (v128.store (i32.add (local.get $m) (local.get $offset)) (local.get $mNew))
        (v128.store (i32.add (local.get $v) (local.get $offset)) (local.get $vNew))
        (v128.store (i32.add (local.get $params) (local.get $offset)) (local.get $p))
        (local.set $start (i32.add (local.get $start) (i32.const 4)))))
    (br $values))))

;; partials[part] (float64, one per 64 bytes; part = the chunk's index) += sum of values^2, in float64 like the reference
(func (export "sumOfSquares") (param $part i32) (param $start i32) (param $end i32) (param $values i32) (param $partials i32)
  (local $low v128) (local $high v128) (local $x v128) (local $wide v128) (local $total f64) (local $scalar f64)
  (local.set $low (v128.const i32x4 0 0 0 0))
  (local.set $high (v128.const i32x4 0 0 0 0))
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $x (v128.load (i32.add (local.get $values) (i32.shl (local.get $start) (i32.const 2)))))
    (local.set $wide (f64x2.promote_low_f32x4 (local.get $x)))
    (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $wide) (local.get $wide))))
    (local.set $wide (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
    (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $wide) (local.get $wide))))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (local.set $low (f64x2.add (local.get $low) (local.get $high)))
  (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $low)) (f64x2.extract_lane 1 (local.get $low))))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $scalar (f64.promote_f32 (f32.load (i32.add (local.get $values) (i32.shl (local.get $start) (i32.const 2))))))
    (local.set $total (f64.add (local.get $total) (f64.mul (local.get $scalar) (local.get $scalar))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail)))
  (local.set $partials (i32.add (local.get $partials) (i32.shl (local.get $part) (i32.const 6))))
  (f64.store (local.get $partials) (f64.add (f64.load (local.get $partials)) (local.get $total))))

;; values *= factor
(func (export "scale") (param $thread i32) (param $start i32) (param $end i32) (param $values i32) (param $factor f32)
  (local $p i32) (local $factors v128)
  (local.set $factors (f32x4.splat (local.get $factor)))
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $p (i32.add (local.get $values) (i32.shl (local.get $start) (i32.const 2))))
    (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $factors)))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $p (i32.add (local.get $values) (i32.shl (local.get $start) (i32.const 2))))
    (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $factor)))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))
