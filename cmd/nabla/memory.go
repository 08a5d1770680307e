package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/data"

	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// memoryBudget is the most memory a run may plan to use: --max-memory
// when given, else what the operating system reports as available (0,
// meaning no check, where it reports nothing).
func memoryBudget(flagValue string) (int64, error) {
	if flagValue != "" {
		n, err := parseBytes(flagValue)
		if err != nil {
			return 0, fmt.Errorf("--max-memory %q: %v", flagValue, err)
		}
		return n, nil
	}
	return availableMemory(), nil
}

// parseBytes reads a size such as 512MiB, 8GB, 2g or 1000000.
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("want a positive size such as 8GiB, 512MB or 1000000")
	}
	return int64(v * mult), nil
}

// availableMemory is MemAvailable from /proc/meminfo, or 0 where there is
// none.
func availableMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// optimiserSlots is the number of tensors of each parameter's size the
// optimiser keeps (momentum buffers, moments).
func optimiserSlots(name string) int {
	switch name {
	case "sgd":
		return 0
	case "adam", "adamw":
		return 2
	}
	return 1
}

// trainingBytes estimates the memory training a model of spec needs: the
// parameters, their gradients and the optimiser's state, and for one
// batch each layer's output and its gradient.
func trainingBytes(s nn.Spec, in []int, dt tensor.DType, optimizer string, batch int) (params int64, total float64, err error) {
	params, err = nn.Size(s)
	if err != nil {
		return 0, 0, err
	}
	shapes, err := nn.LayerShapes(s, in)
	if err != nil {
		return 0, 0, err
	}
	var act float64
	for _, sh := range shapes {
		n := 1.0
		for _, d := range sh {
			n *= float64(d)
		}
		act += n
	}
	size := float64(dt.Size())
	total = float64(params)*size*float64(2+optimiserSlots(optimizer)) + 2*act*float64(batch)*size
	return params, total, nil
}

// checkMemory refuses a model whose training needs more than budget
// bytes, with the figures.
func checkMemory(s nn.Spec, in []int, dt tensor.DType, optimizer string, batch int, budget int64) error {
	if budget <= 0 {
		return nil
	}
	params, need, err := trainingBytes(s, in, dt, optimizer, batch)
	if err != nil {
		return err
	}
	if need <= float64(budget) {
		return nil
	}
	return fmt.Errorf("the model has %d parameters; training it with %s in %v needs about %s (weights, gradients, optimiser state and a batch of %d), more than the %s allowed (--max-memory, default: the memory available); make it smaller",
		params, optimizer, dt, humanBytes(need), batch, humanBytes(float64(budget)))
}

func humanBytes(b float64) string {
	for _, u := range []string{"B", "KB", "MB", "GB", "TB", "PB"} {
		if b < 1000 || u == "PB" {
			return strconv.FormatFloat(b, 'f', 1, 64) + " " + u
		}
		b /= 1000
	}
	return ""
}

// dataBytes is the memory a data set's examples and labels take.
func dataBytes(ds *data.InMemory) int64 {
	if ds == nil {
		return 0
	}
	n := int64(len(ds.Bytes)) + 8*int64(len(ds.Y))
	if ds.X != nil {
		n += int64(ds.X.Len()) * int64(ds.X.DType().Size())
	}
	return n
}

// setSoftMemoryLimit sets the Go runtime's soft memory limit for a
// training run, unless GOMEMLIMIT sets one: 1.25 times what the run holds
// live (the data sets, and the model, gradients, optimiser state and a
// batch as checkMemory estimates them) plus 32 MiB. The collector then keeps the
// heap near what the run needs instead of letting it double, which
// roughly halves the peak RSS of an MNIST run; a limit is soft, so a run
// that needs more still gets it. It returns the limit set (0: none).
func setSoftMemoryLimit(r *trainRun, optimizer string, batch int) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	_, model, err := trainingBytes(r.spec, r.input.Shape, nn.DTypeOf(r.model), optimizer, batch)
	if err != nil {
		return 0
	}
	live := model + float64(dataBytes(r.train)+dataBytes(r.val)+dataBytes(r.test))
	limit := int64(1.25*live) + 32<<20
	debug.SetMemoryLimit(limit)
	return limit
}
