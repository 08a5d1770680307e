package data

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the layering: outside the standard library, package
// data depends on nothing but tensor and what tensor itself depends on,
// and internal/fsutil (standard library only) for atomic writes.
func TestImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipped: no go command")
	}
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	const self = "github.com/nabla-go/nabla/data"
	allowed := map[string]bool{self: true, "github.com/nabla-go/nabla/internal/fsutil": true}
	for _, p := range deps("github.com/nabla-go/nabla/tensor") {
		allowed[p] = true
	}
	for _, p := range deps(self) {
		if !allowed[p] {
			t.Errorf("package data depends on %s", p)
		}
	}
}
