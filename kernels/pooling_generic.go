//go:build !amd64 || purego

package kernels

// maxPool2x2Vec has no vector kernel without assembly.
func maxPool2x2Vec(lvl int, g *PoolGeom, xp, y []float32, idx []int, base int) bool {
	return false
}
