//go:build !purego

#include "textflag.h"

// 2×2 max pooling with column stride 2 over float32 planes, the common
// case of MaxPool2D (maxPoolInside's fast path), with its exact rule:
// in the window a b / d e, v0 = b > a ? b : a (ties to a), v1 the same
// for d e, v = v1 > v0 ? v1 : v0, the index following the same choices,
// so that v is always x[idx]. A NaN must win (the last one in window
// order), which the compares do not give: each block of outputs is
// first tested for NaNs with an unordered compare, and at the first
// block that holds one the kernel stops and returns the output rows it
// finished; the caller pools that row in Go and calls again.
//
// Arguments: x points at the top row of output row 0's windows; rows
// output rows of ow outputs each, their windows rowStep elements apart;
// w the plane's width (the bottom row is w elements below the top one);
// base the index written for x[0]. The outputs and their int indices
// run contiguously from y and idx.

// Even and odd float32 lanes of two concatenated vectors (VPERMT2PS).
DATA poolEven<>+0(SB)/8, $0x0000000200000000
DATA poolEven<>+8(SB)/8, $0x0000000600000004
DATA poolEven<>+16(SB)/8, $0x0000000a00000008
DATA poolEven<>+24(SB)/8, $0x0000000e0000000c
DATA poolEven<>+32(SB)/8, $0x0000001200000010
DATA poolEven<>+40(SB)/8, $0x0000001600000014
DATA poolEven<>+48(SB)/8, $0x0000001a00000018
DATA poolEven<>+56(SB)/8, $0x0000001e0000001c
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

DATA poolOdd<>+0(SB)/8, $0x0000000300000001
DATA poolOdd<>+8(SB)/8, $0x0000000700000005
DATA poolOdd<>+16(SB)/8, $0x0000000b00000009
DATA poolOdd<>+24(SB)/8, $0x0000000f0000000d
DATA poolOdd<>+32(SB)/8, $0x0000001300000011
DATA poolOdd<>+40(SB)/8, $0x0000001700000015
DATA poolOdd<>+48(SB)/8, $0x0000001b00000019
DATA poolOdd<>+56(SB)/8, $0x0000001f0000001d
GLOBL poolOdd<>(SB), RODATA|NOPTR, $64

// The column of each output's window, 2j, as int64 for j = 0..15.
DATA poolCol<>+0(SB)/8, $0
DATA poolCol<>+8(SB)/8, $2
DATA poolCol<>+16(SB)/8, $4
DATA poolCol<>+24(SB)/8, $6
DATA poolCol<>+32(SB)/8, $8
DATA poolCol<>+40(SB)/8, $10
DATA poolCol<>+48(SB)/8, $12
DATA poolCol<>+56(SB)/8, $14
DATA poolCol<>+64(SB)/8, $16
DATA poolCol<>+72(SB)/8, $18
DATA poolCol<>+80(SB)/8, $20
DATA poolCol<>+88(SB)/8, $22
DATA poolCol<>+96(SB)/8, $24
DATA poolCol<>+104(SB)/8, $26
DATA poolCol<>+112(SB)/8, $28
DATA poolCol<>+120(SB)/8, $30
GLOBL poolCol<>(SB), RODATA|NOPTR, $128

// 16 all-ones int32 then 16 zeros: the 8 lanes from element 16−t on
// mask the first t lanes.
DATA poolMask<>+0(SB)/8, $0xffffffffffffffff
DATA poolMask<>+8(SB)/8, $0xffffffffffffffff
DATA poolMask<>+16(SB)/8, $0xffffffffffffffff
DATA poolMask<>+24(SB)/8, $0xffffffffffffffff
DATA poolMask<>+32(SB)/8, $0xffffffffffffffff
DATA poolMask<>+40(SB)/8, $0xffffffffffffffff
DATA poolMask<>+48(SB)/8, $0xffffffffffffffff
DATA poolMask<>+56(SB)/8, $0xffffffffffffffff
DATA poolMask<>+64(SB)/8, $0
DATA poolMask<>+72(SB)/8, $0
DATA poolMask<>+80(SB)/8, $0
DATA poolMask<>+88(SB)/8, $0
DATA poolMask<>+96(SB)/8, $0
DATA poolMask<>+104(SB)/8, $0
DATA poolMask<>+112(SB)/8, $0
DATA poolMask<>+120(SB)/8, $0
GLOBL poolMask<>(SB), RODATA|NOPTR, $128

// func maxPool2x2AVX512(x, y *float32, idx *int, rows, ow, rowStep, w, base int) int
// 16 outputs a step; the last step of a row masked.
TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-72
	MOVQ      x+0(FP), SI
	MOVQ      y+8(FP), DI
	MOVQ      idx+16(FP), R11
	MOVQ      rows+24(FP), BX
	MOVQ      ow+32(FP), R12
	MOVQ      rowStep+40(FP), R13
	MOVQ      w+48(FP), R9
	MOVQ      base+56(FP), R10
	VMOVDQU32 poolEven<>(SB), Z20
	VMOVDQU32 poolOdd<>(SB), Z21
	VMOVDQU64 poolCol<>(SB), Z25
	VMOVDQU64 poolCol<>+64(SB), Z26
	MOVL      $1, AX
	VPBROADCASTD AX, Z22 // 1
	VPBROADCASTD R9, Z23 // w
	LEAQ      1(R9), AX
	VPBROADCASTD AX, Z24 // w + 1
	MOVQ      $32, AX
	VPBROADCASTQ AX, Z27 // 32 columns a step
	SHLQ      $2, R9     // w in bytes
	SHLQ      $2, R13    // rowStep in bytes

row512:
	VPBROADCASTQ R10, Z28
	VPADDQ       Z25, Z28, Z29 // index of each window's top left, outputs 0–7
	VPADDQ       Z26, Z28, Z30 // outputs 8–15
	MOVQ         SI, R8
	MOVQ         R12, DX

step512:
	// CX = min(DX, 16) outputs; K6 masks them, K1 and K2 their 2·CX
	// inputs in the two 16-lane loads of each row.
	MOVQ    $16, CX
	CMPQ    DX, CX
	CMOVQLT DX, CX
	MOVQ    $1, AX
	SHLQ    CX, AX
	DECQ    AX
	KMOVW   AX, K6
	KSHIFTRW $8, K6, K7
	MOVQ    $1, AX
	SHLQ    CX, AX
	SHLQ    CX, AX
	DECQ    AX
	KMOVW   AX, K1
	SHRQ    $16, AX
	KMOVW   AX, K2

	VMOVUPS.Z (R8), K1, Z0
	VMOVUPS.Z 64(R8), K2, Z1
	VMOVUPS.Z (R8)(R9*1), K1, Z2
	VMOVUPS.Z 64(R8)(R9*1), K2, Z3
	VCMPPS    $3, Z1, Z0, K3 // unordered: a NaN in either
	VCMPPS    $3, Z3, Z2, K4
	KORTESTW  K4, K3
	JNZ       nan512

	VMOVAPS   Z0, Z4
	VPERMT2PS Z1, Z20, Z4 // a: top row, even columns
	VPERMT2PS Z1, Z21, Z0 // b: top row, odd columns
	VMOVAPS   Z2, Z5
	VPERMT2PS Z3, Z20, Z5 // d
	VPERMT2PS Z3, Z21, Z2 // e

	VCMPPS    $0x1e, Z4, Z0, K3 // b > a (GT_OQ)
	VMOVAPS   Z0, K3, Z4        // v0
	VCMPPS    $0x1e, Z5, Z2, K4 // e > d
	VMOVAPS   Z2, K4, Z5        // v1
	VCMPPS    $0x1e, Z4, Z5, K5 // v1 > v0
	VMOVAPS   Z5, K5, Z4        // v
	VPXORD    Z6, Z6, Z6
	VMOVDQA32 Z22, K3, Z6       // offset in the top row: 0 or 1
	VMOVDQA32 Z23, Z7
	VMOVDQA32 Z24, K4, Z7       // in the bottom row: w or w+1
	VMOVDQA32 Z7, K5, Z6

	VMOVUPS       Z4, K6, (DI)
	VPMOVSXDQ     Y6, Z8
	VEXTRACTI64X4 $1, Z6, Y9
	VPMOVSXDQ     Y9, Z9
	VPADDQ        Z29, Z8, Z8
	VPADDQ        Z30, Z9, Z9
	VMOVDQU64     Z8, K6, (R11)
	VMOVDQU64     Z9, K7, 64(R11)

	VPADDQ Z27, Z29, Z29
	VPADDQ Z27, Z30, Z30
	ADDQ   $128, R8
	LEAQ   (DI)(CX*4), DI
	LEAQ   (R11)(CX*8), R11
	SUBQ   CX, DX
	JNZ    step512

	ADDQ R13, SI
	MOVQ R13, AX
	SHRQ $2, AX
	ADDQ AX, R10
	DECQ BX
	JNZ  row512

nan512:
	MOVQ rows+24(FP), AX
	SUBQ BX, AX
	MOVQ AX, ret+64(FP)
	VZEROUPPER
	RET

// func maxPool2x2AVX2(x, y *float32, idx *int, rows, ow, rowStep, w, base int) int
// 8 outputs a step; the last step of a row masked (VMASKMOVPS).
// VSHUFPS takes the even and odd columns within each 128-bit lane, so
// the outputs come out in the order 0 1 4 5 2 3 6 7 until VPERMPD $0xd8.
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-72
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         idx+16(FP), R11
	MOVQ         rows+24(FP), BX
	MOVQ         ow+32(FP), R12
	MOVQ         rowStep+40(FP), R13
	MOVQ         w+48(FP), R9
	MOVQ         base+56(FP), R10
	MOVL         $1, AX
	MOVQ         AX, X12
	VPBROADCASTD X12, Y12 // 1
	MOVQ         R9, X13
	VPBROADCASTD X13, Y13 // w
	MOVQ         $16, AX
	MOVQ         AX, X9
	VPBROADCASTQ X9, Y9   // 16 columns a step
	SHLQ         $2, R9
	SHLQ         $2, R13

row2:
	MOVQ         R10, X10
	VPBROADCASTQ X10, Y10
	VPADDQ       poolCol<>+32(SB), Y10, Y11 // outputs 4–7
	VPADDQ       poolCol<>(SB), Y10, Y10 // outputs 0–3
	MOVQ         SI, R8
	MOVQ         R12, DX

step2:
	MOVQ    $8, CX
	CMPQ    DX, CX
	CMOVQLT DX, CX
	CMPQ    CX, $8
	JNE     load2Masked
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	VMOVUPS (R8)(R9*1), Y2
	VMOVUPS 32(R8)(R9*1), Y3
	JMP     loaded2

load2Masked:
	// Y14, Y15: the first 2·CX of 16 lanes.
	LEAQ       poolMask<>+64(SB), AX // element 16, less 2·CX
	SHLQ       $3, CX
	SUBQ       CX, AX
	SHRQ       $3, CX
	VMOVDQU    (AX), Y14
	VMOVDQU    32(AX), Y15
	VMASKMOVPS (R8), Y14, Y0
	VMASKMOVPS 32(R8), Y15, Y1
	VMASKMOVPS (R8)(R9*1), Y14, Y2
	VMASKMOVPS 32(R8)(R9*1), Y15, Y3

loaded2:
	VCMPPS $3, Y1, Y0, Y4
	VCMPPS $3, Y3, Y2, Y5
	VORPS  Y5, Y4, Y4
	VPTEST Y4, Y4
	JNZ    nan2

	VSHUFPS   $0x88, Y1, Y0, Y4 // a
	VSHUFPS   $0xdd, Y1, Y0, Y5 // b
	VSHUFPS   $0x88, Y3, Y2, Y6 // d
	VSHUFPS   $0xdd, Y3, Y2, Y7 // e
	VCMPPS    $0x1e, Y4, Y5, Y8 // b > a
	VBLENDVPS Y8, Y5, Y4, Y4    // v0
	VPAND     Y12, Y8, Y8       // top offset 0 or 1
	VCMPPS    $0x1e, Y6, Y7, Y0 // e > d
	VBLENDVPS Y0, Y7, Y6, Y6    // v1
	VPAND     Y12, Y0, Y0
	VPADDD    Y13, Y0, Y0       // bottom offset w or w+1
	VCMPPS    $0x1e, Y4, Y6, Y1 // v1 > v0
	VBLENDVPS Y1, Y6, Y4, Y4    // v
	VBLENDVPS Y1, Y0, Y8, Y8    // offset
	VPERMPD   $0xd8, Y4, Y4
	VPERMQ    $0xd8, Y8, Y8
	VPMOVSXDQ X8, Y2
	VEXTRACTI128 $1, Y8, X3
	VPMOVSXDQ X3, Y3
	VPADDQ    Y10, Y2, Y2
	VPADDQ    Y11, Y3, Y3

	CMPQ    CX, $8
	JNE     store2Masked
	VMOVUPS Y4, (DI)
	VMOVDQU Y2, (R11)
	VMOVDQU Y3, 32(R11)
	JMP     stored2

store2Masked:
	LEAQ         poolMask<>+64(SB), AX // element 16, less CX
	SHLQ         $2, CX
	SUBQ         CX, AX
	SHRQ         $2, CX
	VMOVDQU      (AX), Y14
	VMASKMOVPS   Y4, Y14, (DI)
	VPMOVSXDQ    X14, Y15
	VPMASKMOVQ   Y2, Y15, (R11)
	VEXTRACTI128 $1, Y14, X14
	VPMOVSXDQ    X14, Y15
	VPMASKMOVQ   Y3, Y15, 32(R11)

stored2:
	VPADDQ Y9, Y10, Y10
	VPADDQ Y9, Y11, Y11
	ADDQ   $64, R8
	LEAQ   (DI)(CX*4), DI
	LEAQ   (R11)(CX*8), R11
	SUBQ   CX, DX
	JNZ    step2

	ADDQ R13, SI
	MOVQ R13, AX
	SHRQ $2, AX
	ADDQ AX, R10
	DECQ BX
	JNZ  row2

nan2:
	MOVQ rows+24(FP), AX
	SUBQ BX, AX
	MOVQ AX, ret+64(FP)
	VZEROUPPER
	RET
