//go:build !amd64 || purego

package kernels

func sgdMomentumVec(w, g, b []float32, lr, mom, damp, wd float32, nesterov bool) int { return 0 }

func adamVec(w, g, m, v []float32, c *adamConsts) int { return 0 }
