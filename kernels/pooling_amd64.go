//go:build !purego

package kernels

// maxPool2x2Vec pools a float32 plane for a 2×2 window with column
// stride 2 (and any row stride) whose windows lie inside the plane, with
// the vector kernel of level lvl; a row that holds a NaN is pooled by
// maxPool2x2Rows. It reports false, doing nothing, when lvl has no
// kernel.
func maxPool2x2Vec(lvl int, g *PoolGeom, xp, y []float32, idx []int, base int) bool {
	if lvl == 0 || g.OH == 0 || g.OW == 0 {
		return lvl != 0
	}
	_ = xp[(g.OH-1)*g.SH*g.W+g.W+2*g.OW-1]
	_ = y[g.OH*g.OW-1]
	_ = idx[g.OH*g.OW-1]
	kernel := maxPool2x2AVX2
	if lvl == 2 {
		kernel = maxPool2x2AVX512
	}
	for oh := 0; oh < g.OH; {
		r0, o := oh*g.SH*g.W, oh*g.OW
		oh += kernel(&xp[r0], &y[o], &idx[o], g.OH-oh, g.OW, g.SH*g.W, g.W, base+r0)
		if oh < g.OH { // a NaN in row oh
			maxPool2x2Rows(g, xp, y, idx, base, oh, oh+1)
			oh++
		}
	}
	return true
}

//go:noescape
func maxPool2x2AVX512(x, y *float32, idx *int, rows, ow, rowStep, w, base int) int

//go:noescape
func maxPool2x2AVX2(x, y *float32, idx *int, rows, ow, rowStep, w, base int) int
