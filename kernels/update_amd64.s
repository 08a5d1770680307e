//go:build !purego

#include "textflag.h"

// func sgdMomentumAVX2(w, grad, buf *float32, blocks int, lr, mom, damp, wd float32, nesterov bool)
// Eight parameters per iteration: Y0 w, Y1 d, Y2 b, Y3 new b, Y4 update.
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-49
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         buf+16(FP), DX
	MOVQ         blocks+24(FP), CX
	VBROADCASTSS lr+32(FP), Y8
	VBROADCASTSS mom+36(FP), Y9
	VBROADCASTSS damp+40(FP), Y10
	VBROADCASTSS wd+44(FP), Y11
	MOVBLZX      nesterov+48(FP), AX
	TESTQ        AX, AX
	JNZ          nest

plain:
	VMOVUPS      (DI), Y0
	VMOVUPS      (SI), Y1
	VFMADD231PS  Y11, Y0, Y1 // d = g + wd·w
	VMULPS       Y10, Y1, Y3 // damp·d
	VMOVUPS      (DX), Y2
	VFMADD231PS  Y9, Y2, Y3  // b' = mom·b + damp·d
	VMOVUPS      Y3, (DX)
	VFNMADD231PS Y8, Y3, Y0  // w −= lr·b'
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          plain
	VZEROUPPER
	RET

nest:
	VMOVUPS      (DI), Y0
	VMOVUPS      (SI), Y1
	VFMADD231PS  Y11, Y0, Y1 // d = g + wd·w
	VMULPS       Y10, Y1, Y3 // damp·d
	VMOVUPS      (DX), Y2
	VFMADD231PS  Y9, Y2, Y3  // b' = mom·b + damp·d
	VMOVUPS      Y3, (DX)
	VFMADD231PS  Y9, Y3, Y1  // u = d + mom·b'
	VFNMADD231PS Y8, Y1, Y0  // w −= lr·u
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          nest
	VZEROUPPER
	RET

// func adamAVX2(w, grad, m, v *float32, blocks int, c *adamConsts)
// c holds decay, l2, b1, 1−b1, b2, 1−b2, eps, bc2sqrt, negStep (float32s).
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         blocks+32(FP), CX
	MOVQ         c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // decay
	VBROADCASTSS 4(AX), Y9   // l2
	VBROADCASTSS 8(AX), Y10  // b1
	VBROADCASTSS 12(AX), Y11 // 1 − b1
	VBROADCASTSS 16(AX), Y12 // b2
	VBROADCASTSS 20(AX), Y13 // 1 − b2
	VBROADCASTSS 24(AX), Y14 // eps
	VBROADCASTSS 28(AX), Y15 // bc2sqrt
	VBROADCASTSS 32(AX), Y7  // negStep

adam:
	VMOVUPS      (DI), Y0
	VMOVUPS      (SI), Y1
	VFMADD231PS  Y9, Y0, Y1   // d = g + l2·w
	VMULPS       Y8, Y0, Y0   // w = decay·w
	VMULPS       Y11, Y1, Y2  // (1−b1)·d
	VMOVUPS      (DX), Y3
	VFMADD231PS  Y10, Y3, Y2  // m' = b1·m + (1−b1)·d
	VMOVUPS      Y2, (DX)
	VMULPS       Y1, Y1, Y4   // d²
	VMULPS       Y13, Y4, Y4  // (1−b2)·d²
	VMOVUPS      (R8), Y5
	VFMADD231PS  Y12, Y5, Y4  // v' = b2·v + (1−b2)·d²
	VMOVUPS      Y4, (R8)
	VSQRTPS      Y4, Y4
	VDIVPS       Y15, Y4, Y4  // √v'/bc2sqrt
	VADDPS       Y14, Y4, Y4  // + eps
	VDIVPS       Y4, Y2, Y2   // m'/den
	VFMADD231PS  Y7, Y2, Y0   // w += negStep·m'/den
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, R8
	DECQ         CX
	JNZ          adam
	VZEROUPPER
	RET
