// Package archtest holds the test that keeps the package layers pointing
// one way (ARCHITECTURE.md): kernels → tensor → ag → nn, loss, optim, … →
// train → plot → cmd.
package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/nabla-go/nabla"

// layer gives each package's rank; a package may import project packages
// of lower rank only (and internal helpers listed in allowedInternal).
var layer = map[string]int{
	"kernels":     0,
	"tensor":      1,
	"safetensors": 2,
	"data":        2,
	"ag":          2,
	"gradcheck":   3,
	"nn":          3,
	"loss":        3,
	"optim":       3,
	"train":       4,
	"plot":        5,
	"onnx":        5,
	"cmd/nabla":   6,
}

// Packages that only the named packages may import, whatever their layer:
// plotting libraries belong to plot, and nothing below cmd parses flags
// with a CLI library.
var onlyFrom = map[string][]string{
	"gonum.org/v1/plot":          {"plot"},
	"google.golang.org/protobuf": {"onnx"},
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if strings.HasPrefix(pkg, "internal/") || strings.Contains(pkg, "/internal/") {
			continue // test-only and generator helpers
		}
		rank, ok := layer[topOf(pkg)]
		if !ok {
			t.Errorf("package %s has no layer in archtest (add it, and to ARCHITECTURE.md)", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			for lib, owners := range onlyFrom {
				if strings.HasPrefix(imp, lib) && !contains(owners, topOf(pkg)) {
					t.Errorf("%s imports %s, which only %v may import", pkg, imp, owners)
				}
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if strings.HasPrefix(dep, "internal/") {
				continue
			}
			r, ok := layer[topOf(dep)]
			if ok && topOf(dep) != topOf(pkg) && r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point to lower layers", pkg, rank, dep, r)
			}
		}
	}
	if seen < 4 {
		t.Fatalf("only %d packages listed; go list output:\n%s", seen, out)
	}
}

// topOf maps a package path to the entry of the layer table that governs
// it: "tensor/x" is governed by "tensor", "cmd/nabla" by itself.
func topOf(pkg string) string {
	if strings.HasPrefix(pkg, "cmd/") {
		return pkg
	}
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		return pkg[:i]
	}
	return pkg
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Nothing below cmd/ may end the process: libraries return errors.
func TestNoExitBelowCmd(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}} {{.ImportPath}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, pkg, _ := strings.Cut(line, " ")
		if strings.Contains(pkg, "/cmd/") {
			continue
		}
		grep := exec.Command("grep", "-rlE", `os\.Exit\(|log\.Fatal|log\.Panic`, "--include=*.go", "--exclude=*_test.go", dir)
		found, _ := grep.Output()
		for _, f := range strings.Fields(string(found)) {
			if src, err := os.ReadFile(f); err == nil && bytes.Contains(src, []byte("\npackage main\n")) {
				continue // a generator program run by go generate, not library code
			}
			t.Errorf("%s calls os.Exit or log.Fatal/Panic; only cmd/ may", f)
		}
	}
}
