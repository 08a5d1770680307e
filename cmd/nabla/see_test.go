package main

import (
	"bufio"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nabla-go/nabla/train"
)

// checkPNG decodes a figure and checks that it has a sensible size and is
// not blank.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < 300 || b.Dy() < 200 {
		t.Fatalf("%s is only %d×%d", path, b.Dx(), b.Dy())
	}
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				ink++
			}
		}
	}
	if ink < b.Dx()*b.Dy()/4/200 {
		t.Fatalf("%s looks blank (%d inked samples)", path, ink)
	}
}

// oneLineError checks the harness's contract for bad input.
func oneLineError(t *testing.T, args ...string) string {
	t.Helper()
	_, errOut, code := nabla(t, args...)
	if code == 0 {
		t.Errorf("nabla %v: exit 0", args)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "nabla: ") {
		t.Errorf("nabla %v: want one line 'nabla: …' on stderr, got:\n%s", args, errOut)
	}
	if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
		t.Errorf("nabla %v: stack trace:\n%s", args, errOut)
	}
	return errOut
}

// nabla train --record writes records.jsonl (step 1 and every K-th), and
// nabla plot run draws the three figures from the folder; a run without
// records gets the curves and a note, a folder without metrics an error.
func TestRecordAndPlotRun(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := nabla(t, "train", "--data", "moons", "--hidden", "8,8", "--epochs", "3", "--val", "0.2", "--record", "--record-every", "7", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("train --record: %s", e)
	}
	recs, err := train.ReadRecords(filepath.Join(dir, train.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	// 800 training examples in batches of 32: 25 steps an epoch, 75 in all.
	if len(recs) != 1+75/7 || recs[0].Step != 1 || recs[1].Step != 7 || len(recs[0].Layers) != 5 {
		t.Fatalf("%d records, first steps %d, %d, %d layers; want %d records at 1, 7, 14, … of 5 layers",
			len(recs), recs[0].Step, recs[1].Step, len(recs[0].Layers), 1+75/7)
	}
	out, e, code := nabla(t, "plot", "run", dir)
	if code != 0 {
		t.Fatalf("plot run: %s", e)
	}
	for _, f := range []string{"curves.png", "gradflow.png", "activations-hist.png"} {
		checkPNG(t, filepath.Join(dir, f))
		if !strings.Contains(out, f) {
			t.Errorf("plot run did not report %s:\n%s", f, out)
		}
	}
	svg := t.TempDir()
	if _, e, code := nabla(t, "plot", "run", dir, "--format", "svg", "--out-dir", svg); code != 0 {
		t.Fatalf("plot run --format svg: %s", e)
	}
	if b, err := os.ReadFile(filepath.Join(svg, "gradflow.svg")); err != nil || !strings.Contains(string(b), "<svg") {
		t.Fatalf("gradflow.svg: %v", err)
	}

	plain := t.TempDir()
	if _, e, code := nabla(t, "train", "--data", "xor", "--hidden", "4", "--epochs", "2", "--quiet", "--out", plain); code != 0 {
		t.Fatalf("train: %s", e)
	}
	out, e, code = nabla(t, "plot", "run", plain)
	if code != 0 {
		t.Fatalf("plot run without records: %s", e)
	}
	checkPNG(t, filepath.Join(plain, "curves.png"))
	if !strings.Contains(out, "nabla train --record") {
		t.Errorf("plot run without records does not say how to get them:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(plain, "gradflow.png")); err == nil {
		t.Error("gradflow.png drawn without records")
	}

	if e := oneLineError(t, "plot", "run", t.TempDir()); !strings.Contains(e, "metrics.jsonl") {
		t.Errorf("error for a folder without metrics does not name metrics.jsonl: %s", e)
	}
	oneLineError(t, "plot", "run")
	oneLineError(t, "plot", "run", dir, "--format", "gif")
	oneLineError(t, "train", "--record", "--record-every", "0", "--out", t.TempDir())
}

// The vanishing experiment on a tiny network: sigmoid's first/last
// gradient ratio is orders of magnitude below ReLU+He's, the table and the
// conclusion carry the measured numbers, and the figure is drawn.
func TestExperimentVanishing(t *testing.T) {
	dir := t.TempDir()
	out, e, code := nabla(t, "experiment", "vanishing", "--depth", "6", "--width", "16", "--steps", "30", "--avg-steps", "10", "--out", dir)
	if code != 0 {
		t.Fatalf("experiment vanishing: %s", e)
	}
	checkPNG(t, filepath.Join(dir, "gradflow.png"))
	ratios := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 7 && (f[0] == "sigmoid" || f[0] == "tanh" || f[0] == "ReLU+He" || f[0] == "GELU+He") {
			var r float64
			if _, err := fmt.Sscan(f[4], &r); err != nil {
				t.Fatalf("table row %q: %v", sc.Text(), err)
			}
			ratios[f[0]] = r
		}
	}
	if len(ratios) != 4 {
		t.Fatalf("want a table row per set-up, got %v:\n%s", ratios, out)
	}
	if ratios["sigmoid"]*100 > ratios["ReLU+He"] {
		t.Fatalf("sigmoid's first/last ratio %g is not far below ReLU+He's %g:\n%s", ratios["sigmoid"], ratios["ReLU+He"], out)
	}
	// The conclusion quotes the measured ratio.
	if want := fmt.Sprintf("sigmoid: the first layer's gradient is %.2g of the last's", ratios["sigmoid"]); !strings.Contains(out, want) {
		// The table rounds to 3 digits, the conclusion to 2: compare loosely.
		if !strings.Contains(out, "sigmoid: the first layer's gradient is ") || !strings.Contains(out, "it vanishes") {
			t.Errorf("conclusion missing or not from the numbers:\n%s", out)
		}
	}
	oneLineError(t, "experiment", "vanishing", "--depth", "0")
	oneLineError(t, "experiment", "vanishing", "--data", "nope")
	oneLineError(t, "experiment", "nothing")
	oneLineError(t, "experiment")
}

// A sweep trains its grid into run folders and writes the tables and the
// figure; run again, it trains nothing; a run left unfinished resumes
// from its checkpoint; an empty grid is one line of error.
func TestSweepResume(t *testing.T) {
	dir := t.TempDir()
	args := []string{"sweep", "--data", "xor", "--hidden", "4,16", "--activation", "relu,tanh", "--lr", "0.05", "--epochs", "2", "--out", dir}
	out, e, code := nabla(t, append(args, "--workers", "2")...)
	if code != 0 {
		t.Fatalf("sweep: %s", e)
	}
	if strings.Count(out, "trained ") != 4 {
		t.Fatalf("want 4 runs trained:\n%s", out)
	}
	checkPNG(t, filepath.Join(dir, "sweep.png"))
	csvB, err := os.ReadFile(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csvB)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "run,hidden,activation,lr,params,epochs,train_loss,train_acc,val_loss,val_acc,seconds") {
		t.Fatalf("results.csv:\n%s", csvB)
	}
	// xor has 2 features and 2 classes: 4 hidden units give 2·4+4+4·2+2 = 22 parameters.
	if !strings.HasPrefix(lines[1], "h4-relu-lr0.05,4,relu,0.05,22,2,") || !strings.HasPrefix(lines[3], "h16-relu-lr0.05,16,relu,0.05,82,2,") {
		t.Fatalf("results.csv rows:\n%s", csvB)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "results.md"))
	if !strings.Contains(string(md), "| val acc |") || strings.Count(string(md), "\n") != 6 {
		t.Fatalf("results.md:\n%s", md)
	}

	models, _ := filepath.Glob(filepath.Join(dir, "*", "model.safetensors"))
	stamps := map[string]time.Time{}
	for _, m := range models {
		st, _ := os.Stat(m)
		stamps[m] = st.ModTime()
	}
	if len(stamps) != 4 {
		t.Fatalf("%d model files, want 4", len(stamps))
	}
	// Pretend one run was killed after its first epoch's checkpoint.
	victim := filepath.Join(dir, "h16-tanh-lr0.05")
	os.Remove(filepath.Join(victim, "model.safetensors"))
	os.Remove(filepath.Join(victim, "result.json"))
	delete(stamps, filepath.Join(victim, "model.safetensors"))

	out, e, code = nabla(t, args...)
	if code != 0 {
		t.Fatalf("second sweep: %s", e)
	}
	if strings.Count(out, "skipped ") != 3 || !strings.Contains(out, "resumed after epoch 2 and trained h16-tanh-lr0.05") {
		t.Fatalf("second sweep should skip 3 runs and resume 1:\n%s", out)
	}
	for m, before := range stamps {
		st, err := os.Stat(m)
		if err != nil || !st.ModTime().Equal(before) {
			t.Fatalf("%s was written again by the second sweep", m)
		}
	}
	csvB2, _ := os.ReadFile(filepath.Join(dir, "results.csv"))
	if strings.Count(string(csvB2), "\n") != 5 {
		t.Fatalf("results.csv after resume:\n%s", csvB2)
	}

	oneLineError(t, "sweep", "--hidden", "", "--out", t.TempDir())
	oneLineError(t, "sweep", "--hidden", "4,-2", "--out", t.TempDir())
	oneLineError(t, "sweep", "--activation", "swishy", "--out", t.TempDir())
	oneLineError(t, "sweep", "--lr", "fast", "--out", t.TempDir())
	oneLineError(t, "sweep", "--data", "nope", "--out", t.TempDir())
	oneLineError(t, "sweep", "--workers", "0", "--out", t.TempDir())
}
