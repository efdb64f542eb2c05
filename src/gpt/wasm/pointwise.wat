;; Elementwise and row-wise kernels: encoder, GELU, squared ReLU, residual, softmax + cross-entropy, as the
;; reference kernels in ../kernels. Elementwise kernels run over values [start, end): four at a time, then the
;; last few one at a time through the same four-lane code (a splat in, lane 0 out), so every value is computed
;; by the same arithmetic.

;; gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3). Written as x * sigmoid(2u) = x / (1 + e^-2u),
;; the same function without the cancellation that 1 + tanh(u) suffers for negative x.
(func $geluArgument (param $x v128) (result v128)
  (f32x4.mul (v128.const f32x4 0.7978845608 0.7978845608 0.7978845608 0.7978845608)
    (f32x4.add (local.get $x)
      (f32x4.mul (v128.const f32x4 0.044715 0.044715 0.044715 0.044715)
        (f32x4.mul (local.get $x) (f32x4.mul (local.get $x) (local.get $x)))))))

(func $gelu4 (param $x v128) (result v128)
  (f32x4.div (local.get $x)
    (f32x4.add (v128.const f32x4 1 1 1 1)
      (call $exp4 (f32x4.mul (v128.const f32x4 -2 -2 -2 -2) (call $geluArgument (local.get $x)))))))

;; gelu'(x) = s + 2 x s (1 - s) u' with s = sigmoid(2u) = 1 / (1 + e), e = e^-2u, so 1 - s = e s
(func $geluGradient4 (param $x v128) (result v128)
  (local $e v128) (local $s v128)
  (local.set $e (call $exp4 (f32x4.mul (v128.const f32x4 -2 -2 -2 -2) (call $geluArgument (local.get $x)))))
  (local.set $s (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
  (f32x4.add (local.get $s)
    (f32x4.mul
      (f32x4.mul (f32x4.mul (v128.const f32x4 2 2 2 2) (local.get $x)) (f32x4.mul (local.get $e) (f32x4.mul (local.get $s) (local.get $s))))
      (f32x4.mul (v128.const f32x4 0.7978845608 0.7978845608 0.7978845608 0.7978845608)
        (f32x4.add (v128.const f32x4 1 1 1 1)
          (f32x4.mul (v128.const f32x4 0.134145 0.134145 0.134145 0.134145) (f32x4.mul (local.get $x) (local.get $x))))))))

(func (export "geluForward") (param $thread i32) (param $start i32) (param $end i32) (param $out i32) (param $inp i32)
  (local $offset i32)
  ;; two vectors per iteration: the exponential's long dependency chains of both overlap
  (block $done (loop $pairs
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 8)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (v128.store (i32.add (local.get $out) (local.get $offset)) (call $gelu4 (v128.load (i32.add (local.get $inp) (local.get $offset)))))
    (v128.store offset=16 (i32.add (local.get $out) (local.get $offset)) (call $gelu4 (v128.load offset=16 (i32.add (local.get $inp) (local.get $offset)))))
    (local.set $start (i32.add (local.get $start) (i32.const 8)))
    (br $pairs)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (f32.store (i32.add (local.get $out) (local.get $offset))
      (f32x4.extract_lane 0 (call $gelu4 (v128.load32_splat (i32.add (local.get $inp) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; dInp += gelu'(inp) * dOut
(func (export "geluBackward") (param $thread i32) (param $start i32) (param $end i32) (param $dInp i32) (param $inp i32) (param $dOut i32)
  (local $offset i32) (local $p i32)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $start) (i32.const 4)) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
      (f32x4.mul (call $geluGradient4 (v128.load (i32.add (local.get $inp) (local.get $offset))))
        (v128.load (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $offset (i32.shl (local.get $start) (i32.const 2)))
    (local.set $p (i32.add (local.get $dInp) (local.get $offset)))
    (f32.store (local.get $p) (f32.add (f32.load (local.get $p))
      (f32.mul (f32x4.extract_lane 0 (call $geluGradient4 (v128.load32_splat (i32.add (local.get $inp) (local.get $offset)))))
        (f32.load (i32.add (local.get $dOut) (local.get $offset))))))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $tail))))

;; out = max(inp, 0)^2
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

;; probs (BT,V) rows [start, end) = softmax(logits); expSums, maxima (BT) keep what the loss needs:
;; loss = log(expSum) + max - logit[target], which the backend finishes in float64 (wasm has no log).
(func (export "softmaxForward") (param $thread i32) (param $start i32) (param $end i32)
  (param $probs i32) (param $logits i32) (param $expSums i32) (param $maxima i32) (param $V i32)
  (local $x i32) (local $y i32) (local $i i32) (local $V4 i32) (local $offset i32) (local $maxVector v128) (local $maximum f32)
  (local $sums v128) (local $e v128) (local $inverse f32) (local $inverses v128)
  (local.set $V4 (i32.and (local.get $V) (i32.const -4)))
  (block $rowsDone (loop $rows
    (br_if $rowsDone (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $x (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $start) (local.get $V)) (i32.const 2))))
    (local.set $y (i32.add (local.get $probs) (i32.shl (i32.mul (local.get $start) (local.get $V)) (i32.const 2))))
    (local.set $maxVector (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $i (i32.const 0))
    (block $done (loop $vectors
      (br_if $done (i32.ge_s (local.get $i) (local.get $V4)))
      (local.set $maxVector (f32x4.max (local.get $maxVector) (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (local.set $maximum (call $max4 (local.get $maxVector)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $V)))
      (local.set $maximum (f32.max (local.get $maximum) (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $maxVector (f32x4.splat (local.get $maximum)))
    (local.set $sums (v128.const i32x4 0 0 0 0))
    (local.set $i (i32.const 0))
    (block $done (loop $vectors
      (br_if $done (i32.ge_s (local.get $i) (local.get $V4)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (local.set $e (call $exp4 (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $offset))) (local.get $maxVector))))
      (v128.store (i32.add (local.get $y) (local.get $offset)) (local.get $e))
      (local.set $sums (f32x4.add (local.get $sums) (local.get $e)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $V)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (local.set $e (call $exp4 (f32x4.sub (v128.load32_splat (i32.add (local.get $x) (local.get $offset))) (local.get $maxVector))))
      (f32.store (i32.add (local.get $y) (local.get $offset)) (f32x4.extract_lane 0 (local.get $e)))
      (local.set $sums (f32x4.add (local.get $sums) (f32x4.replace_lane 1 (f32x4.replace_lane 2 (f32x4.replace_lane 3 (local.get $e) (f32.const 0)) (f32.const 0)) (f32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $inverse (call $sum4 (local.get $sums)))
    (f32.store (i32.add (local.get $expSums) (i32.shl (local.get $start) (i32.const 2))) (local.get $inverse))
    (f32.store (i32.add (local.get $maxima) (i32.shl (local.get $start) (i32.const 2))) (local.get $maximum))
    (local.set $inverse (f32.div (f32.const 1) (local.get $inverse)))
    (local.set $inverses (f32x4.splat (local.get $inverse)))
    (local.set $i (i32.const 0))
    (block $done (loop $vectors
      (br_if $done (i32.ge_s (local.get $i) (local.get $V4)))
      (local.set $offset (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
      (v128.store (local.get $offset) (f32x4.mul (v128.load (local.get $offset)) (local.get $inverses)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $V)))
      (local.set $offset (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
      (f32.store (local.get $offset) (f32.mul (f32.load (local.get $offset)) (local.get $inverse)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $rows))))

;; dLogits (BT,V) rows [start, end) += (probs - onehot(target)) * dLossScale; targets (BT) int32
(func (export "crossEntropyBackward") (param $thread i32) (param $start i32) (param $end i32)
  (param $dLogits i32) (param $probs i32) (param $targets i32) (param $dLossScale f32) (param $V i32)
  (local $rowBytes i32) (local $dy i32) (local $y i32) (local $i i32) (local $V4 i32) (local $offset i32) (local $scales v128) (local $p i32)
  (local.set $V4 (i32.and (local.get $V) (i32.const -4)))
  (local.set $scales (f32x4.splat (local.get $dLossScale)))
  (block $rowsDone (loop $rows
    (br_if $rowsDone (i32.ge_s (local.get $start) (local.get $end)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $start) (local.get $V)) (i32.const 2)))
    (local.set $dy (i32.add (local.get $dLogits) (local.get $rowBytes)))
    (local.set $y (i32.add (local.get $probs) (local.get $rowBytes)))
    (local.set $i (i32.const 0))
    (block $done (loop $vectors
      (br_if $done (i32.ge_s (local.get $i) (local.get $V4)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (v128.store (i32.add (local.get $dy) (local.get $offset))
        (f32x4.add (v128.load (i32.add (local.get $dy) (local.get $offset))) (f32x4.mul (v128.load (i32.add (local.get $y) (local.get $offset))) (local.get $scales))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vectors)))
    (block $done (loop $tail
      (br_if $done (i32.ge_s (local.get $i) (local.get $V)))
      (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $dy) (local.get $offset))
        (f32.add (f32.load (i32.add (local.get $dy) (local.get $offset))) (f32.mul (f32.load (i32.add (local.get $y) (local.get $offset))) (local.get $dLossScale))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.set $p (i32.add (local.get $dy) (i32.shl (i32.load (i32.add (local.get $targets) (i32.shl (local.get $start) (i32.const 2)))) (i32.const 2))))
    (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (local.get $dLossScale)))
    (local.set $start (i32.add (local.get $start) (i32.const 1)))
    (br $rows))))
