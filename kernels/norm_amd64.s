//go:build !purego

#include "textflag.h"

// BatchNorm's float32 channel loops. Each function walks rows runs of
// cols float32s, stride elements apart (one channel of an NCHW tensor:
// rows = n, cols = h·w, stride = c·h·w). The sums widen each float32 to
// float64 (VCVTPS2PD) and accumulate in float64 vectors, four
// accumulators to hide the adder's latency; the tail of each run is a
// masked load (AVX-512: a k mask; AVX2: VMASKMOVPS with a mask from
// bnMask). The elementwise passes multiply and add without fusing, as the
// Go loops do, so that they give the same bits.

// bnMask: 16 all-ones int32 then 16 zeros. The 4 or 8 lanes from
// element 16−t on are a mask of the first t lanes.
DATA bnMask<>+0(SB)/8, $0xffffffffffffffff
DATA bnMask<>+8(SB)/8, $0xffffffffffffffff
DATA bnMask<>+16(SB)/8, $0xffffffffffffffff
DATA bnMask<>+24(SB)/8, $0xffffffffffffffff
DATA bnMask<>+32(SB)/8, $0xffffffffffffffff
DATA bnMask<>+40(SB)/8, $0xffffffffffffffff
DATA bnMask<>+48(SB)/8, $0xffffffffffffffff
DATA bnMask<>+56(SB)/8, $0xffffffffffffffff
DATA bnMask<>+64(SB)/8, $0
DATA bnMask<>+72(SB)/8, $0
DATA bnMask<>+80(SB)/8, $0
DATA bnMask<>+88(SB)/8, $0
DATA bnMask<>+96(SB)/8, $0
DATA bnMask<>+104(SB)/8, $0
DATA bnMask<>+112(SB)/8, $0
DATA bnMask<>+120(SB)/8, $0
GLOBL bnMask<>(SB), RODATA|NOPTR, $128

// K1 = the first CX lanes (CX < 16). Clobbers AX.
#define TAILMASK512 \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// X14 = a mask of the first CX of 4 or Y14 of 8 int32 lanes (CX < 8);
// clobbers AX.
#define TAILMASK4 \
	MOVQ    $16, AX; \
	SUBQ    CX, AX; \
	LEAQ    bnMask<>(SB), R9; \
	VMOVDQU (R9)(AX*4), X14

#define TAILMASK8 \
	MOVQ    $16, AX; \
	SUBQ    CX, AX; \
	LEAQ    bnMask<>(SB), R9; \
	VMOVDQU (R9)(AX*4), Y14

// X8 = the sum of the 32 float64 lanes of Z8–Z11.
#define HSUM512_8 \
	VADDPD        Z9, Z8, Z8; \
	VADDPD        Z11, Z10, Z10; \
	VADDPD        Z10, Z8, Z8; \
	VEXTRACTF64X4 $1, Z8, Y9; \
	VADDPD        Y9, Y8, Y8; \
	VEXTRACTF128  $1, Y8, X9; \
	VADDPD        X9, X8, X8; \
	VUNPCKHPD     X8, X8, X9; \
	VADDSD        X9, X8, X8

// X12 = the sum of the 32 float64 lanes of Z12–Z15.
#define HSUM512_12 \
	VADDPD        Z13, Z12, Z12; \
	VADDPD        Z15, Z14, Z14; \
	VADDPD        Z14, Z12, Z12; \
	VEXTRACTF64X4 $1, Z12, Y13; \
	VADDPD        Y13, Y12, Y12; \
	VEXTRACTF128  $1, Y12, X13; \
	VADDPD        X13, X12, X12; \
	VUNPCKHPD     X12, X12, X13; \
	VADDSD        X13, X12, X12

// X8 = the sum of the 16 float64 lanes of Y8–Y11.
#define HSUM256_8 \
	VADDPD       Y9, Y8, Y8; \
	VADDPD       Y11, Y10, Y10; \
	VADDPD       Y10, Y8, Y8; \
	VEXTRACTF128 $1, Y8, X9; \
	VADDPD       X9, X8, X8; \
	VUNPCKHPD    X8, X8, X9; \
	VADDSD       X9, X8, X8

// func bnSumAVX512(x *float32, rows, cols, stride int) float64
TEXT ·bnSumAVX512(SB), NOSPLIT, $0-40
	MOVQ   x+0(FP), SI
	MOVQ   rows+8(FP), BX
	MOVQ   cols+16(FP), DX
	MOVQ   stride+24(FP), R8
	SHLQ   $2, R8
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11

sumRow:
	MOVQ SI, DI
	MOVQ DX, CX
	CMPQ CX, $32
	JLT  sum8

sum32:
	VCVTPS2PD (DI), Z0
	VCVTPS2PD 32(DI), Z1
	VCVTPS2PD 64(DI), Z2
	VCVTPS2PD 96(DI), Z3
	VADDPD    Z0, Z8, Z8
	VADDPD    Z1, Z9, Z9
	VADDPD    Z2, Z10, Z10
	VADDPD    Z3, Z11, Z11
	ADDQ      $128, DI
	SUBQ      $32, CX
	CMPQ      CX, $32
	JGE       sum32

sum8:
	CMPQ      CX, $8
	JLT       sumTail
	VCVTPS2PD (DI), Z0
	VADDPD    Z0, Z8, Z8
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       sum8

sumTail:
	TESTQ CX, CX
	JZ    sumNext
	TAILMASK512
	VCVTPS2PD.Z (DI), K1, Z0
	VADDPD      Z0, Z9, Z9

sumNext:
	ADDQ R8, SI
	DECQ BX
	JNZ  sumRow
	HSUM512_8
	VMOVSD X8, ret+32(FP)
	VZEROUPPER
	RET

// func bnSqDevAVX512(x *float32, rows, cols, stride int, m float64) float64
TEXT ·bnSqDevAVX512(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         rows+8(FP), BX
	MOVQ         cols+16(FP), DX
	MOVQ         stride+24(FP), R8
	SHLQ         $2, R8
	VBROADCASTSD m+32(FP), Z16
	VPXORQ       Z8, Z8, Z8
	VPXORQ       Z9, Z9, Z9
	VPXORQ       Z10, Z10, Z10
	VPXORQ       Z11, Z11, Z11

sqRow:
	MOVQ SI, DI
	MOVQ DX, CX
	CMPQ CX, $32
	JLT  sq8

sq32:
	VCVTPS2PD   (DI), Z0
	VCVTPS2PD   32(DI), Z1
	VCVTPS2PD   64(DI), Z2
	VCVTPS2PD   96(DI), Z3
	VSUBPD      Z16, Z0, Z0
	VSUBPD      Z16, Z1, Z1
	VSUBPD      Z16, Z2, Z2
	VSUBPD      Z16, Z3, Z3
	VFMADD231PD Z0, Z0, Z8
	VFMADD231PD Z1, Z1, Z9
	VFMADD231PD Z2, Z2, Z10
	VFMADD231PD Z3, Z3, Z11
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         sq32

sq8:
	CMPQ        CX, $8
	JLT         sqTail
	VCVTPS2PD   (DI), Z0
	VSUBPD      Z16, Z0, Z0
	VFMADD231PD Z0, Z0, Z8
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         sq8

sqTail:
	TESTQ CX, CX
	JZ    sqNext
	TAILMASK512
	VCVTPS2PD.Z (DI), K1, Z0
	VSUBPD      Z16, Z0, Z0
	VFMADD231PD Z0, Z0, K1, Z9

sqNext:
	ADDQ R8, SI
	DECQ BX
	JNZ  sqRow
	HSUM512_8
	VMOVSD X8, ret+40(FP)
	VZEROUPPER
	RET

// func bnDotsAVX512(dy, x *float32, rows, cols, stride int, m float64) (sg, sgx float64)
// sg = Σ g, sgx = Σ g·(x − m).
TEXT ·bnDotsAVX512(SB), NOSPLIT, $0-64
	MOVQ         dy+0(FP), SI
	MOVQ         x+8(FP), R10
	MOVQ         rows+16(FP), BX
	MOVQ         cols+24(FP), DX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSD m+40(FP), Z16
	VPXORQ       Z8, Z8, Z8
	VPXORQ       Z9, Z9, Z9
	VPXORQ       Z10, Z10, Z10
	VPXORQ       Z11, Z11, Z11
	VPXORQ       Z12, Z12, Z12
	VPXORQ       Z13, Z13, Z13
	VPXORQ       Z14, Z14, Z14
	VPXORQ       Z15, Z15, Z15

dotRow:
	MOVQ SI, DI
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $32
	JLT  dot8

dot32:
	VCVTPS2PD   (DI), Z0
	VCVTPS2PD   32(DI), Z1
	VCVTPS2PD   64(DI), Z2
	VCVTPS2PD   96(DI), Z3
	VCVTPS2PD   (R11), Z4
	VCVTPS2PD   32(R11), Z5
	VCVTPS2PD   64(R11), Z6
	VCVTPS2PD   96(R11), Z7
	VADDPD      Z0, Z8, Z8
	VADDPD      Z1, Z9, Z9
	VADDPD      Z2, Z10, Z10
	VADDPD      Z3, Z11, Z11
	VSUBPD      Z16, Z4, Z4
	VSUBPD      Z16, Z5, Z5
	VSUBPD      Z16, Z6, Z6
	VSUBPD      Z16, Z7, Z7
	VFMADD231PD Z4, Z0, Z12
	VFMADD231PD Z5, Z1, Z13
	VFMADD231PD Z6, Z2, Z14
	VFMADD231PD Z7, Z3, Z15
	ADDQ        $128, DI
	ADDQ        $128, R11
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         dot32

dot8:
	CMPQ        CX, $8
	JLT         dotTail
	VCVTPS2PD   (DI), Z0
	VCVTPS2PD   (R11), Z4
	VADDPD      Z0, Z8, Z8
	VSUBPD      Z16, Z4, Z4
	VFMADD231PD Z4, Z0, Z12
	ADDQ        $32, DI
	ADDQ        $32, R11
	SUBQ        $8, CX
	JMP         dot8

dotTail:
	TESTQ CX, CX
	JZ    dotNext
	TAILMASK512
	VCVTPS2PD.Z (DI), K1, Z0
	VCVTPS2PD.Z (R11), K1, Z4
	VADDPD      Z0, Z9, Z9
	VSUBPD      Z16, Z4, Z4
	VFMADD231PD Z4, Z0, K1, Z13

dotNext:
	ADDQ R8, SI
	ADDQ R8, R10
	DECQ BX
	JNZ  dotRow
	HSUM512_8
	HSUM512_12
	VMOVSD X8, sg+48(FP)
	VMOVSD X12, sgx+56(FP)
	VZEROUPPER
	RET

// func bnAffineAVX512(y, x *float32, rows, cols, stride int, sc, sh float32, relu bool)
// y = x·sc + sh (rounded after the product and after the sum), then with
// relu y = y NLE_UQ 0 ? y : +0 (NaN kept, as ReLU32).
TEXT ·bnAffineAVX512(SB), NOSPLIT, $0-49
	MOVQ         y+0(FP), R10
	MOVQ         x+8(FP), SI
	MOVQ         rows+16(FP), BX
	MOVQ         cols+24(FP), DX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS sc+40(FP), Z14
	VBROADCASTSS sh+44(FP), Z15
	MOVBQZX      relu+48(FP), R12
	VPXORD       Z13, Z13, Z13

affRow:
	MOVQ SI, DI
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $16
	JLT  affTail

aff16:
	VMULPS  (DI), Z14, Z0
	VADDPS  Z15, Z0, Z0
	TESTQ   R12, R12
	JZ      aff16Store
	VCMPPS  $6, Z13, Z0, K2
	VMOVAPS.Z Z0, K2, Z0

aff16Store:
	VMOVUPS Z0, (R11)
	ADDQ    $64, DI
	ADDQ    $64, R11
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     aff16

affTail:
	TESTQ CX, CX
	JZ    affNext
	TAILMASK512
	VMOVUPS.Z (DI), K1, Z0
	VMULPS    Z0, Z14, Z0
	VADDPS    Z15, Z0, Z0
	TESTQ     R12, R12
	JZ        affTailStore
	VCMPPS    $6, Z13, Z0, K2
	VMOVAPS.Z Z0, K2, Z0

affTailStore:
	VMOVUPS Z0, K1, (R11)

affNext:
	ADDQ R8, SI
	ADDQ R8, R10
	DECQ BX
	JNZ  affRow
	VZEROUPPER
	RET

// func bnBackwardAVX512(gx, dy, x *float32, rows, cols, stride int, a, b, d float32)
// gx = (a·g + b·x) + d, each product and sum rounded.
TEXT ·bnBackwardAVX512(SB), NOSPLIT, $0-60
	MOVQ         gx+0(FP), R10
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), R13
	MOVQ         rows+24(FP), BX
	MOVQ         cols+32(FP), DX
	MOVQ         stride+40(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+48(FP), Z13
	VBROADCASTSS b+52(FP), Z14
	VBROADCASTSS d+56(FP), Z15

bwdRow:
	MOVQ SI, DI
	MOVQ R13, R12
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $16
	JLT  bwdTail

bwd16:
	VMULPS  (DI), Z13, Z0
	VMULPS  (R12), Z14, Z1
	VADDPS  Z1, Z0, Z0
	VADDPS  Z15, Z0, Z0
	VMOVUPS Z0, (R11)
	ADDQ    $64, DI
	ADDQ    $64, R12
	ADDQ    $64, R11
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     bwd16

bwdTail:
	TESTQ CX, CX
	JZ    bwdNext
	TAILMASK512
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (R12), K1, Z1
	VMULPS    Z0, Z13, Z0
	VMULPS    Z1, Z14, Z1
	VADDPS    Z1, Z0, Z0
	VADDPS    Z15, Z0, Z0
	VMOVUPS   Z0, K1, (R11)

bwdNext:
	ADDQ R8, SI
	ADDQ R8, R13
	ADDQ R8, R10
	DECQ BX
	JNZ  bwdRow
	VZEROUPPER
	RET

// func bnSumAVX2(x *float32, rows, cols, stride int) float64
TEXT ·bnSumAVX2(SB), NOSPLIT, $0-40
	MOVQ  x+0(FP), SI
	MOVQ  rows+8(FP), BX
	MOVQ  cols+16(FP), DX
	MOVQ  stride+24(FP), R8
	SHLQ  $2, R8
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

sum2Row:
	MOVQ SI, DI
	MOVQ DX, CX
	CMPQ CX, $16
	JLT  sum2x4

sum2x16:
	VCVTPS2PD (DI), Y0
	VCVTPS2PD 16(DI), Y1
	VCVTPS2PD 32(DI), Y2
	VCVTPS2PD 48(DI), Y3
	VADDPD    Y0, Y8, Y8
	VADDPD    Y1, Y9, Y9
	VADDPD    Y2, Y10, Y10
	VADDPD    Y3, Y11, Y11
	ADDQ      $64, DI
	SUBQ      $16, CX
	CMPQ      CX, $16
	JGE       sum2x16

sum2x4:
	CMPQ      CX, $4
	JLT       sum2Tail
	VCVTPS2PD (DI), Y0
	VADDPD    Y0, Y8, Y8
	ADDQ      $16, DI
	SUBQ      $4, CX
	JMP       sum2x4

sum2Tail:
	TESTQ CX, CX
	JZ    sum2Next
	TAILMASK4
	VMASKMOVPS (DI), X14, X0
	VCVTPS2PD  X0, Y0
	VADDPD     Y0, Y9, Y9

sum2Next:
	ADDQ R8, SI
	DECQ BX
	JNZ  sum2Row
	HSUM256_8
	VMOVSD X8, ret+32(FP)
	VZEROUPPER
	RET

// func bnSqDevAVX2(x *float32, rows, cols, stride int, m float64) float64
TEXT ·bnSqDevAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         rows+8(FP), BX
	MOVQ         cols+16(FP), DX
	MOVQ         stride+24(FP), R8
	SHLQ         $2, R8
	VBROADCASTSD m+32(FP), Y15
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	VXORPD       Y11, Y11, Y11

sq2Row:
	MOVQ SI, DI
	MOVQ DX, CX
	CMPQ CX, $16
	JLT  sq2x4

sq2x16:
	VCVTPS2PD   (DI), Y0
	VCVTPS2PD   16(DI), Y1
	VCVTPS2PD   32(DI), Y2
	VCVTPS2PD   48(DI), Y3
	VSUBPD      Y15, Y0, Y0
	VSUBPD      Y15, Y1, Y1
	VSUBPD      Y15, Y2, Y2
	VSUBPD      Y15, Y3, Y3
	VFMADD231PD Y0, Y0, Y8
	VFMADD231PD Y1, Y1, Y9
	VFMADD231PD Y2, Y2, Y10
	VFMADD231PD Y3, Y3, Y11
	ADDQ        $64, DI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         sq2x16

sq2x4:
	CMPQ        CX, $4
	JLT         sq2Tail
	VCVTPS2PD   (DI), Y0
	VSUBPD      Y15, Y0, Y0
	VFMADD231PD Y0, Y0, Y8
	ADDQ        $16, DI
	SUBQ        $4, CX
	JMP         sq2x4

sq2Tail:
	TESTQ CX, CX
	JZ    sq2Next
	TAILMASK4
	VMASKMOVPS  (DI), X14, X0
	VCVTPS2PD   X0, Y0
	VSUBPD      Y15, Y0, Y0
	VPMOVSXDQ   X14, Y13
	VANDPD      Y13, Y0, Y0
	VFMADD231PD Y0, Y0, Y9

sq2Next:
	ADDQ R8, SI
	DECQ BX
	JNZ  sq2Row
	HSUM256_8
	VMOVSD X8, ret+40(FP)
	VZEROUPPER
	RET

// func bnDotsAVX2(dy, x *float32, rows, cols, stride int, m float64) (sg, sgx float64)
// Two accumulators each for Σ g (Y8, Y9) and Σ g·(x − m) (Y10, Y11).
TEXT ·bnDotsAVX2(SB), NOSPLIT, $0-64
	MOVQ         dy+0(FP), SI
	MOVQ         x+8(FP), R10
	MOVQ         rows+16(FP), BX
	MOVQ         cols+24(FP), DX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSD m+40(FP), Y15
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	VXORPD       Y11, Y11, Y11

dot2Row:
	MOVQ SI, DI
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $8
	JLT  dot2x4

dot2x8:
	VCVTPS2PD   (DI), Y0
	VCVTPS2PD   16(DI), Y1
	VCVTPS2PD   (R11), Y2
	VCVTPS2PD   16(R11), Y3
	VADDPD      Y0, Y8, Y8
	VADDPD      Y1, Y9, Y9
	VSUBPD      Y15, Y2, Y2
	VSUBPD      Y15, Y3, Y3
	VFMADD231PD Y2, Y0, Y10
	VFMADD231PD Y3, Y1, Y11
	ADDQ        $32, DI
	ADDQ        $32, R11
	SUBQ        $8, CX
	CMPQ        CX, $8
	JGE         dot2x8

dot2x4:
	CMPQ        CX, $4
	JLT         dot2Tail
	VCVTPS2PD   (DI), Y0
	VCVTPS2PD   (R11), Y2
	VADDPD      Y0, Y8, Y8
	VSUBPD      Y15, Y2, Y2
	VFMADD231PD Y2, Y0, Y10
	ADDQ        $16, DI
	ADDQ        $16, R11
	SUBQ        $4, CX

dot2Tail:
	TESTQ CX, CX
	JZ    dot2Next
	TAILMASK4
	VMASKMOVPS  (DI), X14, X0
	VMASKMOVPS  (R11), X14, X2
	VCVTPS2PD   X0, Y0
	VCVTPS2PD   X2, Y2
	VSUBPD      Y15, Y2, Y2
	VPMOVSXDQ   X14, Y13
	VANDPD      Y13, Y2, Y2
	VADDPD      Y0, Y9, Y9
	VFMADD231PD Y2, Y0, Y11

dot2Next:
	ADDQ R8, SI
	ADDQ R8, R10
	DECQ BX
	JNZ  dot2Row
	VADDPD       Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPD       X9, X8, X8
	VUNPCKHPD    X8, X8, X9
	VADDSD       X9, X8, X8
	VADDPD       Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPD       X11, X10, X10
	VUNPCKHPD    X10, X10, X11
	VADDSD       X11, X10, X10
	VMOVSD       X8, sg+48(FP)
	VMOVSD       X10, sgx+56(FP)
	VZEROUPPER
	RET

// func bnAffineAVX2(y, x *float32, rows, cols, stride int, sc, sh float32, relu bool)
TEXT ·bnAffineAVX2(SB), NOSPLIT, $0-49
	MOVQ         y+0(FP), R10
	MOVQ         x+8(FP), SI
	MOVQ         rows+16(FP), BX
	MOVQ         cols+24(FP), DX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS sc+40(FP), Y12
	VBROADCASTSS sh+44(FP), Y13
	MOVBQZX      relu+48(FP), R12
	VXORPS       Y15, Y15, Y15

aff2Row:
	MOVQ SI, DI
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $8
	JLT  aff2Tail

aff2x8:
	VMULPS (DI), Y12, Y0
	VADDPS Y13, Y0, Y0
	TESTQ  R12, R12
	JZ     aff2x8Store
	VCMPPS $6, Y15, Y0, Y1
	VANDPS Y0, Y1, Y0

aff2x8Store:
	VMOVUPS Y0, (R11)
	ADDQ    $32, DI
	ADDQ    $32, R11
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     aff2x8

aff2Tail:
	TESTQ CX, CX
	JZ    aff2Next
	TAILMASK8
	VMASKMOVPS (DI), Y14, Y0
	VMULPS     Y0, Y12, Y0
	VADDPS     Y13, Y0, Y0
	TESTQ      R12, R12
	JZ         aff2TailStore
	VCMPPS     $6, Y15, Y0, Y1
	VANDPS     Y0, Y1, Y0

aff2TailStore:
	VMASKMOVPS Y0, Y14, (R11)

aff2Next:
	ADDQ R8, SI
	ADDQ R8, R10
	DECQ BX
	JNZ  aff2Row
	VZEROUPPER
	RET

// func bnBackwardAVX2(gx, dy, x *float32, rows, cols, stride int, a, b, d float32)
TEXT ·bnBackwardAVX2(SB), NOSPLIT, $0-60
	MOVQ         gx+0(FP), R10
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), R13
	MOVQ         rows+24(FP), BX
	MOVQ         cols+32(FP), DX
	MOVQ         stride+40(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+48(FP), Y11
	VBROADCASTSS b+52(FP), Y12
	VBROADCASTSS d+56(FP), Y13

bwd2Row:
	MOVQ SI, DI
	MOVQ R13, R12
	MOVQ R10, R11
	MOVQ DX, CX
	CMPQ CX, $8
	JLT  bwd2Tail

bwd2x8:
	VMULPS  (DI), Y11, Y0
	VMULPS  (R12), Y12, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y13, Y0, Y0
	VMOVUPS Y0, (R11)
	ADDQ    $32, DI
	ADDQ    $32, R12
	ADDQ    $32, R11
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     bwd2x8

bwd2Tail:
	TESTQ CX, CX
	JZ    bwd2Next
	TAILMASK8
	VMASKMOVPS (DI), Y14, Y0
	VMASKMOVPS (R12), Y14, Y1
	VMULPS     Y0, Y11, Y0
	VMULPS     Y1, Y12, Y1
	VADDPS     Y1, Y0, Y0
	VADDPS     Y13, Y0, Y0
	VMASKMOVPS Y0, Y14, (R11)

bwd2Next:
	ADDQ R8, SI
	ADDQ R8, R13
	ADDQ R8, R10
	DECQ BX
	JNZ  bwd2Row
	VZEROUPPER
	RET
