// Command readmecheck reruns the commands behind the figures of a
// Markdown file (the README) and fails when a figure has drifted from what
// its command prints today.
//
// A checked figure is a fenced block of command output preceded by a
// comment naming the command:
//
//	<!-- check: nabla train --quiet --out $TMP/spiral -->
//	```
//	train accuracy 99.67% (loss 0.0312)
//	```
//
// "nabla" at the start of the command is the binary given with -nabla;
// $TMP is a fresh temporary folder. The block's lines must appear in the
// command's output in order (other output lines may come between them),
// each with the same text once numbers are set aside, and each number
// within the tolerance of the printed one: relative 2% by default
// (figures move in their last digits between processors, whose vector
// units sum in different orders, and training amplifies that a little),
// or what the comment says: "<!-- check(tol=0): … -->" for exact figures,
// "check(tol=0.05, abs=0.001)" for a relative tolerance of 5% or an
// absolute one of 0.001, whichever is looser (for losses near zero).
// "slow" in the parentheses marks a figure whose command takes minutes
// (a CNN trained for ten epochs): it is rerun only with -all.
//
// Usage:
//
//	go run ./internal/readmecheck -nabla PATH README.md
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// figure is one checked block.
type figure struct {
	line    int      // of the comment, 1-based
	command string   // as written
	tol     float64  // relative tolerance
	abs     float64  // absolute tolerance (a number within either passes)
	slow    bool     // rerun only with -all
	want    []string // the block's lines
}

var (
	checkRE  = regexp.MustCompile(`^<!-- check(?:\(([^)]*)\))?: (.+?) -->\s*$`)
	numberRE = regexp.MustCompile(`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`)
)

// parse finds the checked figures of a Markdown text.
func parse(md string) ([]figure, error) {
	lines := strings.Split(md, "\n")
	var figs []figure
	for i := 0; i < len(lines); i++ {
		m := checkRE.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.HasPrefix(strings.TrimSpace(lines[i]), "<!-- check") {
				return nil, fmt.Errorf("line %d: malformed check comment %q", i+1, lines[i])
			}
			continue
		}
		f := figure{line: i + 1, command: m[2], tol: 0.02}
		if m[1] != "" {
			for _, kv := range strings.Split(m[1], ",") {
				if strings.TrimSpace(kv) == "slow" {
					f.slow = true
					continue
				}
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				t, err := strconv.ParseFloat(v, 64)
				if err != nil || t < 0 || (k != "tol" && k != "abs") {
					return nil, fmt.Errorf("line %d: bad tolerance %q (want tol=R, abs=A)", i+1, kv)
				}
				if k == "tol" {
					f.tol = t
				} else {
					f.abs = t
				}
			}
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			return nil, fmt.Errorf("line %d: a check comment must be followed by a fenced block", i+1)
		}
		j := i + 2
		for ; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
			if strings.TrimSpace(lines[j]) != "" {
				f.want = append(f.want, lines[j])
			}
		}
		if j >= len(lines) {
			return nil, fmt.Errorf("line %d: the fenced block is not closed", i+1)
		}
		if len(f.want) == 0 {
			return nil, fmt.Errorf("line %d: the fenced block is empty", i+1)
		}
		figs = append(figs, f)
		i = j
	}
	return figs, nil
}

// skeleton is a line with its numbers replaced by '#' and runs of spaces
// by one.
func skeleton(s string) string {
	return strings.Join(strings.Fields(numberRE.ReplaceAllString(s, "#")), " ")
}

func numbers(s string) []float64 {
	var out []float64
	for _, m := range numberRE.FindAllString(s, -1) {
		v, _ := strconv.ParseFloat(m, 64)
		out = append(out, v)
	}
	return out
}

// close reports whether got is within tol (relative) or abs (absolute)
// of want.
func close(want, got, tol, abs float64) bool {
	if want == got {
		return true
	}
	d := math.Abs(got - want)
	return d <= tol*math.Abs(want) || d <= abs
}

// compare checks the figure's lines against output, in order.
func compare(f figure, output, tmp string) error {
	out := strings.Split(strings.ReplaceAll(output, tmp, "$TMP"), "\n")
	k := 0
	for _, w := range f.want {
		sk := skeleton(w)
		found := false
		for ; k < len(out); k++ {
			if skeleton(out[k]) != sk {
				continue
			}
			wn, gn := numbers(w), numbers(out[k])
			for i := range wn {
				if !close(wn[i], gn[i], f.tol, f.abs) {
					return fmt.Errorf("README says\n    %s\nbut the command prints\n    %s\n(number %d differs beyond %g relative and %g absolute)", strings.TrimSpace(w), strings.TrimSpace(out[k]), i+1, f.tol, f.abs)
				}
			}
			found, k = true, k+1
			break
		}
		if !found {
			return fmt.Errorf("README line\n    %s\nmatches no line of the command's output (after the lines before it):\n%s", strings.TrimSpace(w), indent(output))
		}
	}
	return nil
}

func indent(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		b.WriteString("    | " + sc.Text() + "\n")
	}
	return b.String()
}

func run(bin string, f figure) (string, string, error) {
	tmp, err := os.MkdirTemp("", "readmecheck")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	args := strings.Fields(strings.ReplaceAll(f.command, "$TMP", tmp))
	if len(args) == 0 || args[0] != "nabla" {
		return "", "", errors.New("the command must start with nabla")
	}
	cmd := exec.Command(bin, args[1:]...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("%v\n%s", err, e.String())
	}
	return o.String() + e.String(), tmp, nil
}

func main() {
	bin := flag.String("nabla", "", "the nabla binary")
	all := flag.Bool("all", false, "rerun the slow figures too")
	flag.Parse()
	if *bin == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: readmecheck -nabla PATH README.md")
		os.Exit(2)
	}
	md, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "readmecheck:", err)
		os.Exit(2)
	}
	figs, err := parse(string(md))
	if err != nil {
		fmt.Fprintf(os.Stderr, "readmecheck: %s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	failed, skipped := 0, 0
	for _, f := range figs {
		if f.slow && !*all {
			fmt.Printf("%-7s %s:%d  %s  (slow: rerun with -all)\n", "skipped", flag.Arg(0), f.line, f.command)
			skipped++
			continue
		}
		start := time.Now()
		out, tmp, err := run(*bin, f)
		if err == nil {
			err = compare(f, out, tmp)
		}
		status := "ok"
		if err != nil {
			status, failed = "DRIFTED", failed+1
		}
		fmt.Printf("%-7s %s:%d  %s  (%.0f s)\n", status, flag.Arg(0), f.line, f.command, time.Since(start).Seconds())
		if err != nil {
			fmt.Println(indent(err.Error()))
		}
	}
	if len(figs) == 0 {
		fmt.Fprintln(os.Stderr, "readmecheck: no checked figures found")
		os.Exit(1)
	}
	if failed > 0 {
		fmt.Printf("%d of %d README figures drifted: rerun their commands and update the README\n", failed, len(figs))
		os.Exit(1)
	}
	fmt.Printf("all %d README figures rerun match their commands (%d slow ones skipped)\n", len(figs)-skipped, skipped)
}
