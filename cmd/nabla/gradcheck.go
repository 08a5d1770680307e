package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/gradcheck"
	"github.com/nabla-go/nabla/tensor"
)

func runGradcheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gradcheck", "gradcheck [-dtype float64|float32|both] [-seed N] [-op NAME]", stderr)
	dtype := fs.String("dtype", "both", "dtype of the analytic gradients: float64, float32 or both")
	seed := fs.Uint64("seed", 1, "seed for inputs and upstream gradients")
	only := fs.String("op", "", "check only the ops whose name contains this (case-insensitive)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var dts []tensor.DType
	switch *dtype {
	case "float64":
		dts = []tensor.DType{tensor.Float64}
	case "float32":
		dts = []tensor.DType{tensor.Float32}
	case "both":
		dts = []tensor.DType{tensor.Float64, tensor.Float32}
	default:
		return fmt.Errorf("gradcheck: -dtype must be float64, float32 or both, not %q", *dtype)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "op\tcase\tdtype\tmax rel err\tresult")
	failed, n := 0, 0
	for _, dt := range dts {
		for _, r := range gradcheck.RunTable(dt, *seed) {
			if *only != "" && !strings.Contains(strings.ToLower(r.Op), strings.ToLower(*only)) {
				continue
			}
			n++
			status := "pass"
			if r.Err != nil || !r.Result.Pass {
				status = "FAIL"
				failed++
			}
			errStr := fmt.Sprintf("%.2e", r.Result.MaxRelErr)
			if r.Err != nil {
				errStr = r.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Op, r.Name, dt, errStr, status)
		}
	}
	tw.Flush()
	if n == 0 {
		return fmt.Errorf("gradcheck: no op matches %q", *only)
	}
	fmt.Fprintf(stdout, "%d checks, %d failed (tolerance: relative error < 1e-7 in float64, < 1e-4 in float32)\n", n, failed)
	if failed > 0 {
		return fmt.Errorf("gradcheck: %d of %d checks failed", failed, n)
	}
	return nil
}
