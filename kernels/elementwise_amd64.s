//go:build !purego

#include "textflag.h"

// func relu32AVX2(dst, src *float32, blocks int)
// keep = x NLE_UQ 0 (true for x > 0 and for NaN; false for ±0 and
// negatives), then dst = x AND keep: NaN kept, −0 becomes +0.
TEXT ·relu32AVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   blocks+16(FP), CX
	VXORPS Y15, Y15, Y15

relu:
	VMOVUPS (SI), Y0
	VCMPPS  $6, Y15, Y0, Y1 // Y1 = Y0 NLE_US 0
	VANDPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     relu
	VZEROUPPER
	RET

// func maskPositive32AVX2(dst, grad, x *float32, blocks int)
// dst = grad AND (x GT_OQ 0): NaN in x gives 0.
TEXT ·maskPositive32AVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   x+16(FP), DX
	MOVQ   blocks+24(FP), CX
	VXORPS Y15, Y15, Y15

mask:
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1 // Y1 = Y0 GT_OQ 0
	VANDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     mask
	VZEROUPPER
	RET
