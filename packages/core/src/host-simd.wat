;; The host kernel's statistics pass in WebAssembly SIMD (see host-simd.ts). Source of host-simd-bytes.ts:
;; regenerate with `pnpm --filter @gradguard/core run build:simd` after any change (host-simd.test.ts checks that the
;; embedded bytes are this file compiled).
;;
;; The memory is imported: the tfjs wasm backend's own heap (the gradients are read where they lie), or a memory of
;; our own that other buffers are copied into. Nothing is ever written to memory.
(module
  (import "env" "memory" (memory 0))
  ;; max|x| and the exact-zero count of the last `stats` call (Σx² is its result), read through the two functions
  ;; below: a call is about 5 ns from JavaScript, a WebAssembly.Global's value about 25.
  (global $max (mut f32) (f32.const 0))
  (global $zeros (mut i32) (i32.const 0))
  (func (export "max") (result f32) (global.get $max))
  (func (export "zeros") (result i32) (global.get $zeros))

  ;; Σx² (float64), max|x| (float32: NaN when any entry is NaN) and the count of ±0 of the $n float32 values at byte
  ;; offset $p (4-aligned). Eight values per iteration: squares summed in four f64x2 accumulators; |x| as its bits
  ;; (sign cleared), whose signed-integer order is the order of |x| with every NaN above +Infinity, so i32x4.max_s is
  ;; one instruction where f32x4.max is several; zeros are |x| bits equal to 0 (-1 per lane, subtracted). Then a scalar
  ;; tail of up to seven.
  (func (export "stats") (param $p i32) (param $n i32) (result f64)
    (local $end i32) (local $end8 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $m0 v128) (local $m1 v128) (local $z0 v128) (local $z1 v128)
    (local $x v128) (local $y v128) (local $ax v128) (local $ay v128) (local $t v128)
    (local $s f64) (local $m i32) (local $z i32) (local $a i32) (local $d f64)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end8 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $p) (local.get $end8)))
        (local.set $x (v128.load align=4 (local.get $p)))
        (local.set $y (v128.load offset=16 align=4 (local.get $p)))
        (local.set $ax (v128.and (local.get $x) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (local.set $ay (v128.and (local.get $y) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))
        (local.set $m0 (i32x4.max_s (local.get $m0) (local.get $ax)))
        (local.set $m1 (i32x4.max_s (local.get $m1) (local.get $ay)))
        (local.set $z0 (i32x4.sub (local.get $z0) (i32x4.eq (local.get $ax) (v128.const i32x4 0 0 0 0))))
        (local.set $z1 (i32x4.sub (local.get $z1) (i32x4.eq (local.get $ay) (v128.const i32x4 0 0 0 0))))
        (local.set $t (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4 (local.get $y)))
        (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $y) (local.get $y))))
        (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $eight)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (f64.promote_f32 (f32.load (local.get $p))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $d))))
        (local.set $a (i32.and (i32.load (local.get $p)) (i32.const 0x7fffffff)))
        (local.set $m (select (local.get $a) (local.get $m) (i32.gt_s (local.get $a) (local.get $m))))
        (local.set $z (i32.add (local.get $z) (i32.eqz (local.get $a))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $one)))
    ;; Four lanes down to one: the larger of lanes (0, 2) and (1, 3), then of the two left.
    (local.set $m0 (i32x4.max_s (local.get $m0) (local.get $m1)))
    (local.set $m0 (i32x4.max_s (local.get $m0)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $m0) (local.get $m0))))
    (local.set $m0 (i32x4.max_s (local.get $m0)
      (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $m0) (local.get $m0))))
    (local.set $a (i32x4.extract_lane 0 (local.get $m0)))
    (global.set $max (f32.reinterpret_i32
      (select (local.get $a) (local.get $m) (i32.gt_s (local.get $a) (local.get $m)))))
    (local.set $z0 (i32x4.add (local.get $z0) (local.get $z1)))
    (global.set $zeros (i32.add (local.get $z)
      (i32.add (i32.add (i32x4.extract_lane 0 (local.get $z0)) (i32x4.extract_lane 1 (local.get $z0)))
               (i32.add (i32x4.extract_lane 2 (local.get $z0)) (i32x4.extract_lane 3 (local.get $z0))))))
    (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))
    (f64.add (local.get $s) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))

  ;; Σx² alone (weights and updates), the same accumulation as `stats`.
  (func (export "sumSquares") (param $p i32) (param $n i32) (result f64)
    (local $end i32) (local $end8 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $x v128) (local $y v128) (local $t v128) (local $s f64) (local $d f64)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end8 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $p) (local.get $end8)))
        (local.set $x (v128.load align=4 (local.get $p)))
        (local.set $y (v128.load offset=16 align=4 (local.get $p)))
        (local.set $t (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4 (local.get $y)))
        (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $y) (local.get $y))))
        (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $eight)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (f64.promote_f32 (f32.load (local.get $p))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $one)))
    (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))
    (f64.add (local.get $s) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))
)
