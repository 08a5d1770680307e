package main

import (
	"strings"
	"testing"
)

const md = "intro\n<!-- check: nabla train --quiet --out $TMP/x -->\n```\ntrain accuracy 99.67% (loss 0.0312)\nmodel saved to $TMP/x/model.safetensors\n```\n" +
	"<!-- check(tol=0): nabla version -->\n```\nnabla 0.1.0\n```\n"

func TestParse(t *testing.T) {
	figs, err := parse(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 || figs[0].command != "nabla train --quiet --out $TMP/x" || figs[0].tol != 0.02 || len(figs[0].want) != 2 || figs[1].tol != 0 || figs[1].line != 7 {
		t.Fatalf("%+v", figs)
	}
	slow, err := parse("<!-- check(slow, tol=0.01): nabla x -->\n```\na 1\n```\n")
	if err != nil || !slow[0].slow || slow[0].tol != 0.01 {
		t.Fatalf("slow: %+v %v", slow, err)
	}
	abs, err := parse("<!-- check(tol=0.05, abs=0.001): nabla x -->\n```\na 1\n```\n")
	if err != nil || abs[0].tol != 0.05 || abs[0].abs != 0.001 {
		t.Fatalf("tol and abs: %+v %v", abs, err)
	}
	if err := compare(abs[0], "a 1.04\n", "/tmp"); err != nil {
		t.Errorf("within 5%%: %v", err)
	}
	if err := compare(abs[0], "a 1.06\n", "/tmp"); err == nil {
		t.Error("6% off passed a 5% tolerance")
	}
	for _, bad := range []string{"<!-- check(tol=1, wat=2): nabla x -->\n```\na\n```\n", "<!-- check: nabla x -->\nno block\n", "<!-- check: nabla x -->\n```\nunclosed\n", "<!-- check(tol=x): nabla x -->\n```\na\n```\n", "<!-- check: nabla x -->\n```\n```\n"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The comparison passes on the same figures (and extra output lines),
// within tolerance, and fails on drifted numbers, changed text or missing
// lines: the check can fail.
func TestCompare(t *testing.T) {
	figs, _ := parse(md)
	f := figs[0]
	ok := []string{
		"train accuracy 99.67% (loss 0.0312)\nmodel saved to /tmp/q/x/model.safetensors\n",
		"epoch 1/100 ...\ntrain accuracy 99.70% (loss 0.0315)\nother\nmodel saved to /tmp/q/x/model.safetensors\n",
	}
	for _, out := range ok {
		if err := compare(f, out, "/tmp/q"); err != nil {
			t.Errorf("%q: %v", out, err)
		}
	}
	bad := []string{
		"train accuracy 88.60% (loss 0.0312)\nmodel saved to /tmp/q/x/model.safetensors\n",
		"train accuracy 99.67% (loss 0.0500)\nmodel saved to /tmp/q/x/model.safetensors\n",
		"test accuracy 99.67% (loss 0.0312)\nmodel saved to /tmp/q/x/model.safetensors\n",
		"model saved to /tmp/q/x/model.safetensors\ntrain accuracy 99.67% (loss 0.0312)\n",
		"train accuracy 99.67% (loss 0.0312)\n",
	}
	for _, out := range bad {
		if err := compare(f, out, "/tmp/q"); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
	if err := compare(figs[1], "nabla 0.1.1\n", "/tmp"); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("tol=0: %v", err)
	}
}
