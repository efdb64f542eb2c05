;; Helpers shared by the kernels: a four-lane exponential, row sums and horizontal reductions.
;; These are module fields, not a module: module.ts joins every .wat file of this folder into one module that
;; imports the shared memory. No kernel keeps state in memory of its own; every pointer is a byte offset that
;; the caller got from the backend's allocator.

;; e^x in four lanes, after Cephes expf: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n through
;; the exponent bits. Relative error below 1e-7; inputs are clamped to [-87.3, 88.3] so 2^n stays a normal float
;; (e^-87.3 is 1e-38, which is 0 for every use here: softmax terms and gelu's sigmoid).
;; Written for V8's code generator: pmin/pmax are single instructions where min/max (NaN rules) are six, and n is
;; rounded by adding 1.5 * 2^23, after which n + 127 sits in the low bits of the float's bit pattern, ready to
;; shift into the exponent; nearest and trunc_sat would cost a dozen instructions more. About 1 ns per value.
(func $exp4 (param $x v128) (result v128)
  (local $shifted v128) (local $n v128) (local $r v128) (local $p v128)
  (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
    (v128.const f32x4 88.3 88.3 88.3 88.3)))
  (local.set $shifted (f32x4.add
    (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
    (v128.const f32x4 12582912 12582912 12582912 12582912)))
  (local.set $n (f32x4.sub (local.get $shifted) (v128.const f32x4 12582912 12582912 12582912 12582912)))
  ;; r = x - n ln2, with ln2 split in a short high part and a correction so that n * high is exact
  (local.set $r (f32x4.sub
    (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
    (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
  (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
    (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
    (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
    (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
    (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
  (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
    (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
  ;; e^r = 1 + r + r^2 p(r), times 2^n
  (f32x4.mul
    (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (v128.const f32x4 1 1 1 1))
    (i32x4.shl (i32x4.add (local.get $shifted) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

;; e^a and e^b: $exp4 twice, its steps interleaved so that the two dependency chains overlap (a call of $exp4
;; waits on its own chain, about twice as long per value)
(func $exp4x2 (param $xA v128) (param $xB v128) (result v128 v128)
  (local $shiftedA v128) (local $nA v128) (local $rA v128) (local $pA v128)
  (local $shiftedB v128) (local $nB v128) (local $rB v128) (local $pB v128)
  (local.set $xA (f32x4.pmin (f32x4.pmax (local.get $xA) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88.3 88.3 88.3 88.3)))
  (local.set $xB (f32x4.pmin (f32x4.pmax (local.get $xB) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)) (v128.const f32x4 88.3 88.3 88.3 88.3)))
  (local.set $shiftedA (f32x4.add (f32x4.mul (local.get $xA) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
  (local.set $shiftedB (f32x4.add (f32x4.mul (local.get $xB) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
  (local.set $nA (f32x4.sub (local.get $shiftedA) (v128.const f32x4 12582912 12582912 12582912 12582912)))
  (local.set $nB (f32x4.sub (local.get $shiftedB) (v128.const f32x4 12582912 12582912 12582912 12582912)))
  (local.set $rA (f32x4.sub (f32x4.sub (local.get $xA) (f32x4.mul (local.get $nA) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $nA) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
  (local.set $rB (f32x4.sub (f32x4.sub (local.get $xB) (f32x4.mul (local.get $nB) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $nB) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
  (local.set $pA (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $rA)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
  (local.set $pB (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $rB)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
  (local.set $pA (f32x4.add (f32x4.mul (local.get $pA) (local.get $rA)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
  (local.set $pB (f32x4.add (f32x4.mul (local.get $pB) (local.get $rB)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
  (local.set $pA (f32x4.add (f32x4.mul (local.get $pA) (local.get $rA)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
  (local.set $pB (f32x4.add (f32x4.mul (local.get $pB) (local.get $rB)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
  (local.set $pA (f32x4.add (f32x4.mul (local.get $pA) (local.get $rA)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
  (local.set $pB (f32x4.add (f32x4.mul (local.get $pB) (local.get $rB)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
  (local.set $pA (f32x4.add (f32x4.mul (local.get $pA) (local.get $rA)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
  (local.set $pB (f32x4.add (f32x4.mul (local.get $pB) (local.get $rB)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
  (local.set $pA (f32x4.add (f32x4.add (f32x4.mul (local.get $pA) (f32x4.mul (local.get $rA) (local.get $rA))) (local.get $rA)) (v128.const f32x4 1 1 1 1)))
  (local.set $pB (f32x4.add (f32x4.add (f32x4.mul (local.get $pB) (f32x4.mul (local.get $rB) (local.get $rB))) (local.get $rB)) (v128.const f32x4 1 1 1 1)))
  (f32x4.mul (local.get $pA) (i32x4.shl (i32x4.add (local.get $shiftedA) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
  (f32x4.mul (local.get $pB) (i32x4.shl (i32x4.add (local.get $shiftedB) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

(func $sum4 (param $v v128) (result f32)
  (f32.add
    (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
    (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

(func $max4 (param $v v128) (result f32)
  (f32.max
    (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
    (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

(func $min (param $x i32) (param $y i32) (result i32)
  (select (local.get $x) (local.get $y) (i32.lt_s (local.get $x) (local.get $y))))

;; sum[0, n) += values[0, n) (any n)
(func $addRow (param $sum i32) (param $values i32) (param $n i32)
  (local $i i32) (local $offset i32)
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
    (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
    (v128.store (i32.add (local.get $sum) (local.get $offset))
      (f32x4.add (v128.load (i32.add (local.get $sum) (local.get $offset))) (v128.load (i32.add (local.get $values) (local.get $offset)))))
    (local.set $i (i32.add (local.get $i) (i32.const 4)))
    (br $vectors)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
    (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
    (f32.store (i32.add (local.get $sum) (local.get $offset))
      (f32.add (f32.load (i32.add (local.get $sum) (local.get $offset))) (f32.load (i32.add (local.get $values) (local.get $offset)))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $tail))))

;; Sum of n floats at p (any n)
(func $sum (param $p i32) (param $n i32) (result f32)
  (local $accumulator v128) (local $i i32) (local $total f32)
  (local.set $accumulator (v128.const i32x4 0 0 0 0))
  (block $done (loop $vectors
    (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
    (local.set $accumulator (f32x4.add (local.get $accumulator)
      (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
    (local.set $i (i32.add (local.get $i) (i32.const 4)))
    (br $vectors)))
  (local.set $total (call $sum4 (local.get $accumulator)))
  (block $done (loop $tail
    (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
    (local.set $total (f32.add (local.get $total) (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $tail)))
  (local.get $total))
