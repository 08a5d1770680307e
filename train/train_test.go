package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// newTrainer builds the same run from the same seed every time: spiral
// data, an MLP with dropout (so the dropout generator matters), Adam and a
// cosine schedule (so optimiser and schedule state matter).
func newTrainer(t *testing.T, dir string, epochs int) *train.Trainer {
	t.Helper()
	ds, err := data.Synthetic("spiral", tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	tr, val := data.Split(ds, 0.2, tensor.NewRand(2))
	modelRNG := rand.NewPCG(3, 3)
	cfg := nn.MLPConfig{In: 2, Hidden: []int{32, 16}, Out: 3, Activation: "relu", Dropout: 0.1}
	m, err := nn.NewMLP(cfg, rand.New(modelRNG))
	if err != nil {
		t.Fatal(err)
	}
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	batches := (tr.Len() + 31) / 32
	return &train.Trainer{
		Model: m, Loss: func(l *ag.Node, y []int) *ag.Node { return loss.CrossEntropy(l, y, 0) },
		Opt:      optim.NewAdam(params, optim.AdamConfig{LR: 0.01}),
		Schedule: optim.Cosine{BaseLR: 0.01, TMax: 6 * batches},
		Train:    tr, Val: val,
		RNG:    map[string]*rand.PCG{"shuffle": rand.NewPCG(4, 4), "model": modelRNG},
		Config: train.Config{Epochs: epochs, Batch: 32, Dir: dir, L2: 1e-4},
	}
}

func weights(m nn.Module) []uint32 {
	var bits []uint32
	for _, p := range m.Params() {
		for _, v := range p.Node.Value().Float32s() {
			bits = append(bits, math.Float32bits(v))
		}
	}
	return bits
}

// A run stopped after epoch 2 and resumed gives the same weights, bit for
// bit, as a run never stopped.
func TestResumeIsBitExact(t *testing.T) {
	whole := newTrainer(t, t.TempDir(), 6)
	if _, err := whole.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	first := newTrainer(t, dir, 2)
	if _, err := first.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := newTrainer(t, dir, 6) // a fresh process: everything rebuilt from the seed
	if err := second.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if second.Epoch() != 2 {
		t.Fatalf("resumed at epoch %d, want 2", second.Epoch())
	}
	res, err := second.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 6 {
		t.Fatalf("history has %d epochs after resume, want 6", len(res.History))
	}
	a, b := weights(whole.Model), weights(second.Model)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs after resume: %08x vs %08x", i, a[i], b[i])
		}
	}
	// The metrics file has one line per epoch across both processes.
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 6 {
		t.Fatalf("metrics.jsonl has %d lines, want 6", len(lines))
	}
	var m train.Metrics
	if err := json.Unmarshal([]byte(lines[5]), &m); err != nil || m.Epoch != 6 || m.ValAcc == nil {
		t.Fatalf("last metrics line %q: %+v %v", lines[5], m, err)
	}
}

// Without the resume, a second run from the same seed differs from the
// resumed one only if the checkpoint carried nothing: this guards the test
// above against passing because training ignores its state.
func TestResumeDependsOnCheckpoint(t *testing.T) {
	dir := t.TempDir()
	first := newTrainer(t, dir, 2)
	if _, err := first.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := newTrainer(t, t.TempDir(), 2)
	if _, err := fresh.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Two epochs more from the checkpoint vs two epochs from scratch.
	resumed := newTrainer(t, dir, 4)
	if err := resumed.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := weights(resumed.Model), weights(fresh.Model)
	same := true
	for i := range a {
		same = same && a[i] == b[i]
	}
	if same {
		t.Fatal("resuming gave the weights of a fresh run: the checkpoint was ignored")
	}
}

func TestNaNLossStopsAndKeepsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, 3)
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	blowup := newTrainer(t, dir, 5)
	if err := blowup.Resume(dir); err != nil {
		t.Fatal(err)
	}
	blowup.Loss = func(l *ag.Node, y []int) *ag.Node {
		return ag.Scale(loss.CrossEntropy(l, y, 0), math.NaN())
	}
	_, err = blowup.Run(context.Background())
	var nf *train.NonFiniteError
	if !errors.As(err, &nf) || nf.Epoch != 4 || nf.Step == 0 {
		t.Fatalf("NaN loss gave %v", err)
	}
	if !strings.Contains(err.Error(), "epoch 4") {
		t.Errorf("message %q does not name the epoch", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatal("the last good checkpoint was overwritten")
	}
}

func TestResumeErrors(t *testing.T) {
	tr := newTrainer(t, t.TempDir(), 1)
	if err := tr.Resume(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("resume from an empty folder: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, train.CheckpointFile), []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tr.Resume(dir); err == nil {
		t.Fatal("resume from a corrupt checkpoint succeeded")
	}
	// A checkpoint of a different architecture names the mismatch.
	other := t.TempDir()
	if _, err := newTrainer(t, other, 1).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, _ := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{8}, Out: 3}, tensor.NewRand(1))
	tr.Model = m
	if err := tr.Resume(other); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Fatalf("resume into a different model: %v", err)
	}
}

func TestEarlyStopping(t *testing.T) {
	tr := newTrainer(t, "", 50)
	tr.Opt.SetLR(0)
	tr.Schedule = nil
	tr.Config.Patience = 2
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped == "" || len(res.History) > 10 {
		t.Fatalf("a run that cannot improve was not stopped: %d epochs, %q", len(res.History), res.Stopped)
	}
}

func TestSaveAndLoadMLP(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, 1)
	tr.Config.Metadata = map[string]string{train.MetaMLP: `{"In":2,"Hidden":[32,16],"Out":3,"Activation":"relu","Dropout":0.1}`}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, cfg, err := train.LoadMLP(filepath.Join(dir, "model.safetensors"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Activation != "relu" || len(cfg.Hidden) != 2 {
		t.Fatalf("config read back as %+v", cfg)
	}
	a, b := weights(tr.Model), weights(m)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("loaded weights differ from the saved ones")
		}
	}
}

func TestEvaluateConfusion(t *testing.T) {
	tr := newTrainer(t, "", 3)
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := train.Evaluate(tr.Model, tr.Loss, tr.Val, 50)
	total, diag := 0, 0
	for i, row := range ev.Confusion {
		for j, v := range row {
			total += v
			if i == j {
				diag += v
			}
		}
	}
	if total != tr.Val.Len() || ev.N != total {
		t.Fatalf("confusion matrix counts %d examples, want %d", total, tr.Val.Len())
	}
	if got := float64(diag) / float64(total); math.Abs(got-ev.Accuracy) > 1e-12 {
		t.Fatalf("accuracy %v disagrees with the confusion matrix %v", ev.Accuracy, got)
	}
}

// A checkpoint whose optimiser state does not fit leaves the model as it
// was: Resume restores all or nothing.
func TestResumeIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := newTrainer(t, dir, 1).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr := newTrainer(t, t.TempDir(), 2)
	before := weights(tr.Model)
	params := tr.Model.Params()
	var nodes []*ag.Node
	for _, p := range params {
		nodes = append(nodes, p.Node)
	}
	tr.Opt = optim.NewSGD(nodes, optim.SGDConfig{LR: 0.1, Momentum: 0.9}) // not the Adam the checkpoint holds
	if err := tr.Resume(dir); err == nil {
		t.Fatal("an Adam checkpoint loaded into SGD")
	}
	after := weights(tr.Model)
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("a failed Resume changed the model's weights")
		}
	}
}

// Recycling gradient buffers (optimisers' ZeroGrad) and intermediate
// outputs (Sequential under Untracked inputs) must not change a single
// bit of training: the same steps with plain ZeroGrad, no recycling, give
// the same weights. The layers are large enough to be recycled.
func TestRecyclingDoesNotChangeTraining(t *testing.T) {
	run := func(recycle bool) []uint32 {
		m, err := nn.NewMLP(nn.MLPConfig{In: 300, Hidden: []int{200, 100}, Out: 10, Activation: "relu"}, tensor.NewRand(1))
		if err != nil {
			t.Fatal(err)
		}
		var params []*ag.Node
		for _, p := range m.Params() {
			params = append(params, p.Node)
		}
		opt := optim.NewAdam(params, optim.AdamConfig{LR: 0.01})
		rng := tensor.NewRand(2)
		for step := 0; step < 6; step++ {
			x := tensor.Normal(rng, tensor.Float32, 0, 1, 128, 300)
			y := make([]int, 128)
			for i := range y {
				y[i] = rng.IntN(10)
			}
			if recycle {
				opt.ZeroGrad()
			} else {
				for _, p := range params {
					p.ZeroGrad()
				}
			}
			ag.Backward(loss.CrossEntropy(m.Forward(ag.Const(x)), y, 0))
			opt.Step()
			// An evaluation pass in between recycles intermediate outputs.
			m.Forward(ag.Untracked(x))
		}
		return weights(m)
	}
	a, b := run(true), run(false)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs with recycling: %08x vs %08x", i, a[i], b[i])
		}
	}
}
