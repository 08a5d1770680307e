package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nablaBin builds the command once per test binary run.
var nablaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nabla-cmd-test")
	if err != nil {
		panic(err)
	}
	nablaBin = filepath.Join(dir, "nabla")
	if out, err := exec.Command("go", "build", "-o", nablaBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func nabla(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(nablaBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestTrainDefaultReachesSpiralAccuracy(t *testing.T) {
	out, errOut, code := nabla(t, "train", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var acc float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "train accuracy") {
			if _, err := fmt.Sscanf(line, "train accuracy %f%%", &acc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if acc < 98 {
		t.Fatalf("default training reached %.2f%% on the spiral set, want ≥ 98%%\n%s", acc, out)
	}
}

// Bad input gives one line on stderr, "nabla: …", a non-zero exit and no
// Go stack trace.
func TestBadInputGivesOneLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1,2,0\n3,x,1\n"), 0o644)
	junk := filepath.Join(dir, "junk.safetensors")
	os.WriteFile(junk, []byte("\xff\xff\xff\xff\xff\xff\xff\x7fnot a header"), 0o644)
	cases := [][]string{
		{"frobnicate"},
		{"train", "--bogus"},
		{"train", "--data", "nope"},
		{"train", "--hidden", "10,-3"},
		{"train", "--activation", "swishy"},
		{"train", "--optimizer", "lion"},
		{"train", "--schedule", "sometimes"},
		{"train", "--lr", "-1"},
		{"train", "--epochs", "-2"},
		{"train", "--dropout", "1.5"},
		{"train", "--data", bad},
		{"train", "--data", filepath.Join(dir, "missing.csv")},
		{"train", "--resume", dir},
		{"train", "--dtype", "float16"},
		{"train", "--epochs", "0"},
		{"train", "--batch", "0"},
		{"train", "--lr", "0"},
		{"eval"},
		{"eval", "--model", junk},
		{"eval", "--model", filepath.Join(dir, "none.safetensors")},
		{"gradcheck", "--dtype", "int8"},
		{"gradcheck", "--op", "NoSuchOp"},
	}
	for _, args := range cases {
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
	}
}

// Killing a training run with SIGKILL and resuming it gives the same final
// model, byte for byte, as a run that was never interrupted. The kill
// comes as soon as the first checkpoint exists, hundreds of epochs before
// the end, so the test always resumes a run killed mid-way (it fails,
// rather than skips, if the run somehow finished first).
func TestKillAndResumeMatchesUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a training process")
	}
	args := []string{"train", "--data", "moons", "--hidden", "64,64", "--epochs", "300", "--batch", "16", "--dropout", "0.1", "--optimizer", "adamw", "--schedule", "cosine", "--quiet"}
	whole := t.TempDir()
	if _, e, code := nabla(t, append(args, "--out", whole)...); code != 0 {
		t.Fatalf("uninterrupted run: %s", e)
	}

	dir := t.TempDir()
	cmd := exec.Command(nablaBin, append(args, "--out", dir)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		t.Fatal("the run finished before it was killed: the test did not exercise a resume")
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
		t.Fatal("no checkpoint appeared within a minute")
	}
	if _, e, code := nabla(t, "train", "--resume", dir, "--quiet"); code != 0 {
		t.Fatalf("resume: %s", e)
	}
	a, err := os.ReadFile(filepath.Join(whole, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the resumed run's model differs from the uninterrupted run's")
	}
}

func TestGradcheckCommand(t *testing.T) {
	out, e, code := nabla(t, "gradcheck", "--dtype", "float64")
	if code != 0 {
		t.Fatalf("gradcheck failed: %s\n%s", e, out)
	}
	for _, op := range []string{"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "GELU", "GELUTanh", "SiLU", "Softplus", "MatMul", "SoftmaxCrossEntropy"} {
		if !strings.Contains(out, "\n"+op+" ") {
			t.Errorf("gradcheck output lacks a row for %s", op)
		}
	}
	if !strings.Contains(out, " 0 failed") {
		t.Errorf("summary missing: %s", out)
	}
}

func TestEvalPrintsConfusionMatrix(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := nabla(t, "train", "--data", "blobs", "--epochs", "5", "--quiet", "--out", dir); code != 0 {
		t.Fatal(e)
	}
	out, e, code := nabla(t, "eval", "--model", filepath.Join(dir, "model.safetensors"), "--data", "blobs")
	if code != 0 {
		t.Fatal(e)
	}
	for _, want := range []string{"accuracy", "loss", "confusion matrix"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
}

// A plain PyTorch file (an nn.Sequential state_dict, committed by
// testdata/safetensors/gen_fixtures.py) is scored once its activation is
// named, and refused with a one-line hint when it is not.
func TestEvalPyTorchFile(t *testing.T) {
	model := "../../testdata/safetensors/torch_mlp.safetensors"
	csv := "../../testdata/data/iris-sample.csv"
	out, e, code := nabla(t, "eval", "--model", model, "--activation", "relu", "--data", csv, "--header")
	if code != 0 || !strings.Contains(out, "linear(8)-relu-linear(3)") || !strings.Contains(out, "confusion matrix") {
		t.Fatalf("eval of a PyTorch file: exit %d\n%s%s", code, out, e)
	}
	_, e, code = nabla(t, "eval", "--model", model, "--data", csv, "--header")
	if code == 0 || !strings.Contains(e, "--activation") || strings.Count(strings.TrimSpace(e), "\n") != 0 {
		t.Fatalf("eval without --activation: exit %d, stderr %q", code, e)
	}
}
