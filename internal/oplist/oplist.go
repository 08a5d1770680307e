// Package oplist finds the differentiable ops of package ag by reading its
// source, so that tests can insist every op has a gradient check and a
// reference case: adding an op without them fails the build's tests.
package oplist

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// notOps are exported functions of ag that return a *Node but are not
// differentiable ops: leaf constructors and the generic op constructor.
var notOps = map[string]bool{
	"Var":       true, // leaf
	"Const":     true, // leaf
	"Scalar":    true, // leaf
	"Detach":    true, // leaf sharing a value
	"Untracked": true, // leaf whose results are never recorded
	"Apply":     true, // the constructor every op goes through
}

// NotOps returns the sorted names that Ops leaves out although they return
// a *Node: ag's leaf constructors (Var, Const, Scalar, Detach, Untracked) and Apply,
// the constructor every op goes through.
func NotOps() []string {
	names := make([]string, 0, len(notOps))
	for name := range notOps {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Ops returns the sorted names of the exported functions in the Go package
// in dir that return exactly one *Node, take at least one *Node, and are
// not in NotOps.
func Ops(dir string) ([]string, error) {
	return funcs(dir, func(fn *ast.FuncDecl) bool {
		return !notOps[fn.Name.Name] && takesNode(fn.Type)
	})
}

// NodeFuncs returns the sorted names of all the exported functions (not
// methods) in the Go package in dir that return exactly one *Node: the ops,
// NotOps, and any function that returns a *Node without taking one.
func NodeFuncs(dir string) ([]string, error) {
	return funcs(dir, func(*ast.FuncDecl) bool { return true })
}

// funcs lists the exported functions in dir that return exactly one *Node
// and satisfy keep.
func funcs(dir string, keep func(*ast.FuncDecl) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() {
				continue
			}
			if returnsOneNode(fn.Type) && keep(fn) {
				names = append(names, fn.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

func isNodePtr(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.StarExpr:
		id, ok := t.X.(*ast.Ident)
		return ok && id.Name == "Node"
	case *ast.Ellipsis:
		return isNodePtr(t.Elt)
	}
	return false
}

func returnsOneNode(t *ast.FuncType) bool {
	return t.Results != nil && len(t.Results.List) == 1 && len(t.Results.List[0].Names) <= 1 && isNodePtr(t.Results.List[0].Type)
}

func takesNode(t *ast.FuncType) bool {
	for _, p := range t.Params.List {
		if isNodePtr(p.Type) {
			return true
		}
	}
	return false
}
