package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/optim"
)

// accuracy reads "<prefix> accuracy 97.50%" or "accuracy  97.50%" from a
// command's output.
func accuracy(t *testing.T, out, prefix string) float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var acc float64
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f%%", &acc); err == nil {
				return acc
			}
		}
	}
	t.Fatalf("no %q line in:\n%s", prefix, out)
	return 0
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, e, code := nabla(t, args...)
	if code != 0 {
		t.Fatalf("nabla %v: exit %d\n%s%s", args, code, out, e)
	}
	return out
}

// --dtype float64 works end to end: train, resume, eval, plot, sweep.
func TestFloat64EndToEnd(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "train", "--dtype", "float64", "--epochs", "3", "--out", dir, "--quiet")
	out := mustRun(t, "train", "--resume", dir, "--epochs", "5", "--quiet")
	trained := accuracy(t, out, "train accuracy")
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); !bytes.Contains(b, []byte(`"epochs": 5`)) {
		t.Errorf("config.json does not record the resumed run's 5 epochs:\n%s", b)
	}
	ev := mustRun(t, "eval", "--model", dir)
	if got := accuracy(t, ev, "accuracy"); got != trained {
		t.Errorf("eval %.2f%%, training ended at %.2f%%", got, trained)
	}
	mustRun(t, "plot", "boundary", "--model", dir, "--resolution", "20")
	if _, err := os.Stat(filepath.Join(dir, "boundary.png")); err != nil {
		t.Errorf("plot boundary did not write beside the model: %v", err)
	}
	mustRun(t, "sweep", "--data", "moons", "--dtype", "float64", "--hidden", "4", "--lr", "0.01", "--epochs", "2", "--out", t.TempDir())
	// A PyTorch F64 file, and F16 and BF16 ones, with the activation named.
	for _, name := range []string{"f64", "f16", "bf16"} {
		mustRun(t, "eval", "--model", "../../testdata/train/torch_mlp_"+name+".safetensors", "--activation", "relu",
			"--data", "../../testdata/data/iris-sample.csv", "--header")
	}
}

// A run folder that holds a run is never overwritten.
func TestRunFolderIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "train", "--epochs", "2", "--out", dir, "--quiet")
	before, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	metrics, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	_, e, code := nabla(t, "train", "--epochs", "3", "--seed", "9", "--out", dir, "--quiet")
	if code == 0 || !strings.Contains(e, "--resume") || !strings.Contains(e, "--overwrite") {
		t.Fatalf("second train into the folder: exit %d, %q", code, e)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	metricsAfter, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if !bytes.Equal(before, after) || !bytes.Equal(metrics, metricsAfter) {
		t.Fatal("the refused run changed the folder")
	}
	mustRun(t, "train", "--epochs", "3", "--seed", "9", "--out", dir, "--quiet", "--overwrite")
	if b, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); bytes.Count(b, []byte("\n")) != 3 {
		t.Errorf("--overwrite left %d metrics lines, want 3", bytes.Count(b, []byte("\n")))
	}
}

// A model trained with --normalize evaluates as it trained; a model
// evaluated on data of another class count is an error.
func TestNormalizedModelEvaluates(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, "train", "--data", "moons", "--normalize", "--epochs", "10", "--out", dir, "--quiet")
	trained := accuracy(t, out, "train accuracy")
	ev := mustRun(t, "eval", "--model", filepath.Join(dir, "model.safetensors"), "--data", "moons")
	if got := accuracy(t, ev, "accuracy"); got != trained || got < 80 {
		t.Errorf("eval %.2f%%, training %.2f%%", got, trained)
	}
	spiral := t.TempDir()
	mustRun(t, "train", "--epochs", "2", "--out", spiral, "--quiet")
	_, e, code := nabla(t, "eval", "--model", spiral, "--data", "moons")
	if code == 0 || !strings.Contains(e, "3 classes") {
		t.Errorf("3-class model on 2-class data: exit %d, %q", code, e)
	}
	_, e, code = nabla(t, "eval", "--model", spiral, "--data", "mnist")
	if code == 0 || !strings.Contains(e, "features") {
		t.Errorf("2-feature model on MNIST: exit %d, %q", code, e)
	}
}

// A run killed before its first checkpoint resumes: it starts again from
// its config and ends with the bits of an uninterrupted run.
func TestResumeBeforeFirstCheckpoint(t *testing.T) {
	whole := t.TempDir()
	mustRun(t, "train", "--data", "moons", "--epochs", "3", "--out", whole, "--quiet")
	dir := t.TempDir()
	mustRun(t, "train", "--data", "moons", "--epochs", "3", "--out", dir, "--quiet")
	for _, f := range []string{"checkpoint.safetensors", "model.safetensors", "metrics.jsonl"} {
		os.Remove(filepath.Join(dir, f)) // what a kill in epoch 1 leaves: config.json alone
	}
	out := mustRun(t, "train", "--resume", dir)
	if !strings.Contains(out, "no checkpoint") {
		t.Errorf("resume did not say it starts again:\n%s", out)
	}
	a, _ := os.ReadFile(filepath.Join(whole, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the restarted run's model differs from an uninterrupted run's")
	}
}

// Eval and plot boundary accept a run's checkpoint and its folder.
func TestEvalCheckpointAndRunFolder(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "train", "--epochs", "3", "--out", dir, "--quiet")
	want := accuracy(t, mustRun(t, "eval", "--model", filepath.Join(dir, "model.safetensors")), "accuracy")
	for _, m := range []string{dir, filepath.Join(dir, "checkpoint.safetensors")} {
		out := mustRun(t, "eval", "--model", m)
		if got := accuracy(t, out, "accuracy"); got != want {
			t.Errorf("%s: %.2f%%, the model file %.2f%%", m, got, want)
		}
	}
	out := mustRun(t, "eval", "--model", filepath.Join(dir, "checkpoint.safetensors"))
	if !strings.Contains(out, "checkpoint of epoch 3") {
		t.Errorf("eval of a checkpoint does not say so:\n%s", out)
	}
	mustRun(t, "plot", "boundary", "--model", filepath.Join(dir, "checkpoint.safetensors"), "--resolution", "10", "--out", filepath.Join(t.TempDir(), "b.png"))
}

// A second process on a run folder is refused with the holder's pid, and
// a folder that cannot be written fails before any training.
func TestRunFolderLockAndEarlyFailure(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "train", "--epochs", "2", "--out", dir, "--quiet")
	cmd := exec.Command(nablaBin, "train", "--resume", dir, "--epochs", "100000", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(dir, ".lock")); len(bytes.TrimSpace(b)) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, e, code := nabla(t, "train", "--resume", dir, "--epochs", "100000", "--quiet")
	if code == 0 || !strings.Contains(e, fmt.Sprint(cmd.Process.Pid)) {
		t.Fatalf("second resume: exit %d, %q (holder pid %d)", code, e, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()

	// metrics.jsonl that cannot be appended to (a folder in its place, which
	// even root cannot write as a file): refused before the first epoch.
	bad := t.TempDir()
	mustRun(t, "train", "--epochs", "1", "--out", bad, "--quiet")
	os.Remove(filepath.Join(bad, "metrics.jsonl"))
	os.Mkdir(filepath.Join(bad, "metrics.jsonl"), 0o755)
	out, e, code := nabla(t, "train", "--resume", bad, "--epochs", "3")
	if code == 0 || strings.Contains(out, "epoch 2/3") || !strings.Contains(e, "metrics.jsonl") {
		t.Errorf("unwritable run folder: exit %d, trained:\n%s%s", code, out, e)
	}
}

// Models too large for memory are refused before allocation, with the
// figure; a diverging run warns.
func TestHugeModelAndDivergence(t *testing.T) {
	start := time.Now()
	_, e, code := nabla(t, "train", "--hidden", "100000000", "--out", t.TempDir())
	if code == 0 || !strings.Contains(e, "GB") || !strings.Contains(e, "--max-memory") {
		t.Errorf("--hidden 100000000: exit %d, %q", code, e)
	}
	_, e, code = nabla(t, "train", "--hidden", "10000", "--max-memory", "1MB", "--out", t.TempDir())
	if code == 0 || !strings.Contains(e, "1.0 MB") {
		t.Errorf("--max-memory 1MB: exit %d, %q", code, e)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("refusing took %v: was the model allocated?", d)
	}
	out, e, code := nabla(t, "train", "--lr", "1e6", "--epochs", "20", "--out", t.TempDir())
	if code != 0 || !strings.Contains(out+e, "warning:") {
		t.Errorf("--lr 1e6: exit %d, no warning:\n%s%s", code, out, e)
	}
}

// Error messages carry the command's name once, without doubled package
// prefixes, and say what is wrong in the user's terms.
func TestMessagePrefixes(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--model", filepath.Join(dir, "none")}, "nabla: eval: "},
		{[]string{"plot", "boundary", "--model", filepath.Join(dir, "none")}, "nabla: plot boundary: "},
		{[]string{"train", "--lr", "+Inf"}, "nabla: train: --lr must be a positive, finite number"},
		{[]string{"train", "--resume", dir}, "nabla: train: "},
		{[]string{"eval", "--model", dir}, "nabla: eval: "},
		{[]string{"train", "--arch", "linear(4)-wings"}, "unknown layer"},
		{[]string{"train", "--arch", "linear(4)-relu"}, "class scores"},
		{[]string{"train", "--arch", "linear(3)", "--activation", "tanh"}, "--activation describes the default MLP"},
	}
	for _, tc := range cases {
		_, e, code := nabla(t, tc.args...)
		e = strings.TrimSpace(e)
		if code == 0 || !strings.Contains(e, tc.want) || strings.Count(e, "\n") > 0 {
			t.Errorf("nabla %v: exit %d, %q (want %q)", tc.args, code, e, tc.want)
		}
		for _, dup := range []string{"train: train:", "plot: plot", "eval: train:", "nabla: train: train", ": nn: "} {
			if strings.Contains(e, dup) {
				t.Errorf("nabla %v: %q repeats a prefix", tc.args, e)
			}
		}
	}
	_, e, _ := nabla(t, "eval", "--model", dir)
	if !strings.Contains(e, "folder") {
		t.Errorf("eval of an empty folder: %q", e)
	}
}

// --arch trains any spec, from text or a JSON file, and the MLP flags and
// the same MLP as a spec train to identical bits.
func TestArchMatchesMLPFlags(t *testing.T) {
	flags := t.TempDir()
	mustRun(t, "train", "--data", "moons", "--hidden", "16,8", "--activation", "tanh", "--dropout", "0.1", "--epochs", "3", "--out", flags, "--quiet")
	text := t.TempDir()
	mustRun(t, "train", "--data", "moons", "--arch", "linear(16)-tanh-dropout(0.1)-linear(8)-tanh-dropout(0.1)-linear(2)", "--epochs", "3", "--out", text, "--quiet")
	js := filepath.Join(t.TempDir(), "arch.json")
	os.WriteFile(js, []byte(`{"type":"Sequential","layers":[{"type":"Linear","out":16},{"type":"Tanh"},{"type":"Dropout","p":0.1},{"type":"Linear","out":8},{"type":"Tanh"},{"type":"Dropout","p":0.1},{"type":"Linear","out":2}]}`), 0o644)
	file := t.TempDir()
	mustRun(t, "train", "--data", "moons", "--arch", js, "--epochs", "3", "--out", file, "--quiet")
	a, _ := os.ReadFile(filepath.Join(flags, "model.safetensors"))
	for _, d := range []string{text, file} {
		b, _ := os.ReadFile(filepath.Join(d, "model.safetensors"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the spec-built model differs from the flag-built one", d)
		}
	}
	os.Remove(js) // a resume does not need the file: config.json holds the spec
	mustRun(t, "train", "--resume", file, "--epochs", "4", "--quiet")
	mustRun(t, "graph", "--model", file)
	if _, err := os.Stat(filepath.Join(file, "graph.dot")); err != nil {
		t.Errorf("graph --model did not write beside the model: %v", err)
	}
}

// nabla layers lists every registered kind with its settings.
func TestLayersListsEveryKind(t *testing.T) {
	out := mustRun(t, "layers")
	for _, want := range []string{"linear", "Linear", "out", "required", "dropout", "default 0.5", "flatten", "gelu", "none, tanh"} {
		if !strings.Contains(out, want) {
			t.Errorf("nabla layers lacks %q:\n%s", want, out)
		}
	}
}

// --data fashion-mnist loads from the folder --data-dir names (the GoMNIST
// module's MNIST files stand in for it here: the names and format are the
// same; whether Debian's copy is installed differs between machines), and
// a folder without it is one error naming the Debian package.
func TestFashionMNISTFromDataDir(t *testing.T) {
	dir, err := data.FindMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := loadData("fashion-mnist", dir, -1, false, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "fashion-mnist/train" || te.Name != "fashion-mnist/test" || tr.Len() != 60000 || te.Len() != 10000 || !slices.Equal(tr.Shape(), []int{1, 28, 28}) {
		t.Errorf("loaded %s (%d, %v) and %s (%d)", tr.Name, tr.Len(), tr.Shape(), te.Name, te.Len())
	}
	_, _, err = loadData("fashion-mnist", t.TempDir(), -1, false, false, 1)
	if err == nil || !strings.Contains(err.Error(), "dataset-fashion-mnist") {
		t.Errorf("missing Fashion-MNIST: %v", err)
	}
}

// Presets train from the command line and are recorded as their layers.
func TestArchPreset(t *testing.T) {
	dir := t.TempDir()
	_, e, code := nabla(t, "train", "--data", "spiral", "--arch", "lenet5", "--out", dir, "--quiet")
	if code == 0 || !strings.Contains(e, "spec") {
		t.Errorf("lenet5 on 2-D points: exit %d, %q", code, e)
	}
	out := mustRun(t, "layers")
	if !strings.Contains(out, "lenet5") || !strings.Contains(out, "bncnn") {
		t.Errorf("nabla layers lists no presets:\n%s", out)
	}
}

// A sweep grids over architectures too: one run per spec, named by preset
// where it is one, and --hidden cannot be mixed in.
func TestSweepOverArchitectures(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, "sweep", "--data", "moons", "--arch", "linear(8)-relu-linear(2) | linear(16)-tanh-linear(2)", "--epochs", "2", "--out", dir)
	for _, want := range []string{"arch1-lr0.01", "arch2-lr0.01", "linear(16)-tanh-linear(2)"} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "arch2-lr0.01", "config.json")); err != nil || !bytes.Contains(b, []byte(`"arch": "linear(16)-tanh-linear(2)"`)) {
		t.Errorf("the run's config.json does not hold its spec: %v\n%s", err, b)
	}
	_, e, code := nabla(t, "sweep", "--data", "moons", "--arch", "linear(8)-relu-linear(2)", "--hidden", "4", "--out", t.TempDir())
	if code == 0 || !strings.Contains(e, "--hidden") {
		t.Errorf("--arch with --hidden: exit %d, %q", code, e)
	}
}

// Every optimiser trains under every schedule from the command line (the
// one-cycle schedule cycles momentum only where the optimiser has one).
func TestEveryOptimizerAndSchedule(t *testing.T) {
	for _, opt := range optim.Names() {
		for _, sched := range optim.ScheduleNames() {
			mustRun(t, "train", "--optimizer", opt, "--schedule", sched, "--epochs", "2", "--hidden", "8", "--out", t.TempDir(), "--quiet")
		}
	}
}

// A training run keeps the Go heap near what it holds live (soft limit),
// unless GOMEMLIMIT says otherwise.
func TestSoftMemoryLimit(t *testing.T) {
	var f trainFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	defineTrainFlags(fs, &f)
	f.fillDefaults()
	run, err := buildRun(f, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	t.Setenv("GOMEMLIMIT", "")
	limit := setSoftMemoryLimit(run, f.Optimizer, f.Batch)
	if limit < 32<<20 || limit > 64<<20 || debug.SetMemoryLimit(-1) != limit {
		t.Errorf("spiral run: limit %d (runtime %d), want 32–64 MiB", limit, debug.SetMemoryLimit(-1))
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if setSoftMemoryLimit(run, f.Optimizer, f.Batch) != 0 {
		t.Error("a limit was set although GOMEMLIMIT is")
	}
}

// Augmented training resumes to the same bits (the augmentation's
// generator is in the checkpoint), differs from unaugmented training, and
// is refused on data that are not images.
func TestAugmentResumesBitExact(t *testing.T) {
	args := []string{"train", "--data", "mnist", "--arch", "flatten-linear(10)", "--batch", "256", "--schedule", "constant", "--augment", "crop,flip", "--quiet"}
	whole, part, plain := t.TempDir(), t.TempDir(), t.TempDir()
	mustRun(t, append(args, "--epochs", "2", "--out", whole)...)
	mustRun(t, append(args, "--epochs", "1", "--out", part)...)
	mustRun(t, "train", "--resume", part, "--epochs", "2", "--quiet")
	mustRun(t, "train", "--data", "mnist", "--arch", "flatten-linear(10)", "--batch", "256", "--schedule", "constant", "--quiet", "--epochs", "2", "--out", plain)
	a, _ := os.ReadFile(filepath.Join(whole, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(part, "model.safetensors"))
	c, _ := os.ReadFile(filepath.Join(plain, "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the resumed augmented run differs from the uninterrupted one")
	}
	if bytes.Equal(a, c) {
		t.Error("augmentation changed nothing")
	}
	_, e, code := nabla(t, "train", "--augment", "crop", "--out", t.TempDir())
	if code == 0 || !strings.Contains(e, "images") {
		t.Errorf("--augment on the spiral: exit %d, %q", code, e)
	}
}
