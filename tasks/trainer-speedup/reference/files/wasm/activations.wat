;; Elementwise kernels: GELU, squared ReLU and the residual add, as the reference kernels in ../kernels. They run
;; over values [start, end): four (or eight) at a time, then the last few one at a time through the same
;; four-lane code (a splat in, lane 0 out), so every value is computed by the same arithmetic.

;; gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3). Written as x * sigmoid(2u) = x / (1 + e^-2u),
;; the same function without the cancellation that 1 + tanh(u) suffers for negative x. -2u = x (a + b x^2).
(func $minusTwoU (param $x v128) (result v128)
  (f32x4.mul (local.get $x)
    (f32x4.add (v128.const f32x4 -1.5957691216 -1.5957691216 -1.5957691216 -1.5957691216)
      (f32x4.mul (v128.const f32x4 -0.0713548162 -0.0713548162 -0.0713548162 -0.0713548162) (f32x4.mul (local.get $x) (local.get $x))))))

;; gelu'(x) = s + 2 x s (1 - s) u' with s = sigmoid(2u) = 1 / (1 + e), e = e^-2u, so 1 - s = e s;
;; u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
(func $geluGradient (param $x v128) (param $e v128) (result v128)
  (local $s v128)
  (local.set $s (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
  (f32x4.add (local.get $s)
    (f32x4.mul
      (f32x4.mul (f32x4.add (local.get $x) (local.get $x)) (f32x4.mul (local.get $e) (f32x4.mul (local.get $s) (local.get $s))))
      (f32x4.add (v128.const f32x4 0.7978845608 0.7978845608 0.7978845608 0.7978845608)
        (f32x4.mul (v128.const f32x4 0.1070322243 0.1070322243 0.1070322243 0.1070322243) (f32x4.mul (local.get $x) (local.get $x)))))))

;; out = gelu(inp), eight values per iteration (two exponentials in flight), then one at a time through lane 0
(func (export "geluForward") (param $thread i32) (param $start i32) (param $end i32) (param $out i32) (param $inp i32)
  (local $offset i32) (local $x0 v128) (local $x1 v128) (local $e0 v128) (local $e1 v128)
  (block $done (loop $pairs
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 8)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $x0 (v128.load (i32.add (local.get $inp) (local.get $offset))))
    (local.set $x1 (v128.load offset=16 (i32.add (local.get $inp) (local.get $offset))))
    (call $exp4x2 (call $minusTwoU (local.get $x0)) (call $minusTwoU (local.get $x1)))
    (local.set $e1)
    (local.set $e0)
    (v128.store (i32.add (local.get $out) (local.get $offset))
      (f32x4.div (local.get $x0) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e0))))
    (v128.store offset=16 (i32.add (local.get $out) (local.get $offset))
      (f32x4.div (local.get $x1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e1))))
    (local.set $start (i32.add (local.get $start) (i32.const 8)))
    (br $pairs)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $x0 (v128.load32_splat (i32.add (local.get $inp) (local.get $offset))))
    (f32.store (i32.add (local.get $out) (local.get $offset))
      (f32x4.extract_lane 0 (f32x4.div (local.get $x0)
        (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (call $minusTwoU (local.get $x0)))))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; dInp += gelu'(inp) * dOut, eight values per iteration as in the forward pass
(func (export "geluBackward") (param $thread i32) (param $start i32) (param $end i32) (param $dInp i32) (param $inp i32) (param $dOut i32)
  (local $offset i32) (local $p i32) (local $x0 v128) (local $x1 v128) (local $e0 v128) (local $e1 v128)
  (block $done (loop $pairs
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 8)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $x0 (v128.load (i32.add (local.get $inp) (local.get $offset))))
    (local.set $x1 (v128.load offset=16 (i32.add (local.get $inp) (local.get $offset))))
    (call $exp4x2 (call $minusTwoU (local.get $x0)) (call $minusTwoU (local.get $x1)))
    (local.set $e1)
    (local.set $e0)
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
      (f32x4.mul (call $geluGradient (local.get $x0) (local.get $e0)) (v128.load (i32.add (local.get $dOut) (local.get $offset))))))
    (v128.store offset=16 (local.get $p) (f32x4.add (v128.load offset=16 (local.get $p))
      (f32x4.mul (call $geluGradient (local.get $x1) (local.get $e1)) (v128.load offset=16 (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 8)))
    (br $pairs)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (local.set $x0 (v128.load32_splat (i32.add (local.get $inp) (local.get $offset))))
    (f32.store (local.get $p) (f32.add (f32.load (local.get $p))
      (f32.mul (f32x4.extract_lane 0 (call $geluGradient (local.get $x0) (call $exp4 (call $minusTwoU (local.get $x0)))))
        (f32.load (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

(func (export "relu2Forward") (param $thread i32) (param $start i32) (param $end i32) (param $out i32) (param $inp i32)
  (local $offset i32) (local $x v128)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $x (f32x4.max (v128.load (i32.add (local.get $inp) (local.get $offset))) (v128.const i32x4 0 0 0 0)))
    (v128.store (i32.add (local.get $out) (local.get $offset)) (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $x (f32x4.max (v128.load32_splat (i32.add (local.get $inp) (local.get $offset))) (v128.const i32x4 0 0 0 0)))
    (f32.store (i32.add (local.get $out) (local.get $offset)) (f32x4.extract_lane 0 (f32x4.mul (local.get $x) (local.get $x))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; dInp += 2 max(inp, 0) * dOut
(func (export "relu2Backward") (param $thread i32) (param $start i32) (param $end i32) (param $dInp i32) (param $inp i32) (param $dOut i32)
  (local $offset i32) (local $p i32)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
      (f32x4.mul (f32x4.mul (v128.const f32x4 2 2 2 2) (f32x4.max (v128.load (i32.add (local.get $inp) (local.get $offset))) (v128.const i32x4 0 0 0 0)))
        (v128.load (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (f32.store (local.get $p) (f32.add (f32.load (local.get $p))
      (f32.mul (f32.mul (f32.const 2) (f32.max (f32.load (i32.add (local.get $inp) (local.get $offset))) (f32.const 0)))
        (f32.load (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; out = inp1 + inp2
(func (export "residualForward") (param $thread i32) (param $start i32) (param $end i32) (param $out i32) (param $inp1 i32) (param $inp2 i32)
  (local $offset i32)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (v128.store (i32.add (local.get $out) (local.get $offset))
      (f32x4.add (v128.load (i32.add (local.get $inp1) (local.get $offset))) (v128.load (i32.add (local.get $inp2) (local.get $offset)))))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (f32.store (i32.add (local.get $out) (local.get $offset))
      (f32.add (f32.load (i32.add (local.get $inp1) (local.get $offset))) (f32.load (i32.add (local.get $inp2) (local.get $offset)))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; dInp1 += dOut, dInp2 += dOut
(func (export "residualBackward") (param $thread i32) (param $start i32) (param $end i32) (param $dInp1 i32) (param $dInp2 i32) (param $dOut i32)
  (local $offset i32) (local $d v128) (local $scalar f32)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $d (v128.load (i32.add (local.get $dOut) (local.get $offset))))
    (v128.store (i32.add (local.get $dInp1) (local.get $offset)) (f32x4.add (v128.load (i32.add (local.get $dInp1) (local.get $offset))) (local.get $d)))
    (v128.store (i32.add (local.get $dInp2) (local.get $offset)) (f32x4.add (v128.load (i32.add (local.get $dInp2) (local.get $offset))) (local.get $d)))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $scalar (f32.load (i32.add (local.get $dOut) (local.get $offset))))
    (f32.store (i32.add (local.get $dInp1) (local.get $offset)) (f32.add (f32.load (i32.add (local.get $dInp1) (local.get $offset))) (local.get $scalar)))
    (f32.store (i32.add (local.get $dInp2) (local.get $offset)) (f32.add (f32.load (i32.add (local.get $dInp2) (local.get $offset))) (local.get $scalar)))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

