package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/internal/fsutil"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// PyTorch files in F64, F16 and BF16 (testdata/train/gen_torch_models.py)
// load with LoadModel, widened where they are half precision, and give
// torch's logits.
func TestLoadModelPyTorchDTypes(t *testing.T) {
	for _, name := range []string{"f64", "f16", "bf16"} {
		var ref struct {
			Input      []float64 `json:"input"`
			InputShape []int     `json:"input_shape"`
			Logits     []float64 `json:"logits"`
		}
		b, err := os.ReadFile("../testdata/train/torch_mlp_" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatal(err)
		}
		m, err := train.LoadModel("../testdata/train/torch_mlp_"+name+".safetensors", train.LoadOptions{Activation: "relu"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantDT, tol := tensor.Float32, 1e-5
		if name == "f64" {
			wantDT, tol = tensor.Float64, 1e-12
		}
		if dt := nn.DTypeOf(m.Module); dt != wantDT {
			t.Errorf("%s: model dtype %v, want %v", name, dt, wantDT)
		}
		x := tensor.FromValues(wantDT, ref.Input, ref.InputShape...)
		got := m.Module.Forward(ag.Const(x)).Value().Values()
		scale := 0.0
		for _, v := range ref.Logits {
			scale = max(scale, math.Abs(v))
		}
		for i := range got {
			if math.Abs(got[i]-ref.Logits[i]) > tol*scale {
				t.Fatalf("%s: logit %d = %v, torch %v", name, i, got[i], ref.Logits[i])
			}
		}
		if m.Input.Features() != 4 || m.Input.Classes != 3 || m.HasInput {
			t.Errorf("%s: input %+v (has %v), want 4 features, 3 classes, not recorded", name, m.Input, m.HasInput)
		}
	}
}

// A model of every layer kind round-trips through its file: save, load
// from the file alone, same spec and the same outputs, in both dtypes.
func TestEveryKindRoundTripsThroughFile(t *testing.T) {
	text := "conv(4, 3, pad=1)-relu-batchnorm2d-conv(4, 3, same=true, groups=2, bias=false)-groupnorm(2)-" +
		"maxpool(2, ceil_mode=true)-convt(3, 2, stride=2)-avgpool(3, stride=1, pad=1)-dropout2d(0.1)-adaptiveavgpool(3)-" +
		"layernorm(dims=2)-flatten-linear(8)-batchnorm1d-" +
		"linear(8, init=he-uniform)-relu-linear(8, bias=false)-leakyrelu(0.2)-dropout(0.1)-linear(8)-sigmoid-" +
		"linear(8)-tanh-linear(8)-elu(0.5)-linear(8)-gelu-linear(8)-gelu(tanh)-linear(8)-silu-linear(8)-softplus-seq(linear(4)-relu)-linear(3)"
	inShape := []int{2, 6, 6}
	parsed, err := nn.ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	spec, _, err := nn.Resolve(parsed, inShape)
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		m, err := nn.Build(spec, dt, tensor.NewRand(5))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		in, _ := json.Marshal(train.Input{Shape: inShape, Classes: 3})
		if err := train.SaveModel(path, m, map[string]string{train.MetaInput: string(in)}); err != nil {
			t.Fatal(err)
		}
		got, err := train.LoadModel(path, train.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !nn.Equal(got.Spec, spec) || !got.HasInput || !slices.Equal(got.Input.Shape, inShape) {
			t.Errorf("%v: loaded spec %s input %+v", dt, got.Spec.Text(), got.Input)
		}
		nn.SetTraining(m, false)
		nn.SetTraining(got.Module, false)
		x := ag.Const(tensor.Normal(tensor.NewRand(6), dt, 0, 1, append([]int{4}, inShape...)...))
		a, b := m.Forward(x).Value().Values(), got.Module.Forward(x).Value().Values()
		if !slices.Equal(a, b) {
			t.Errorf("%v: outputs differ after the round trip", dt)
		}
	}
}

// A corrupt nabla.arch that claims more parameters than the file holds is
// refused before anything is built.
func TestLoadModelRefusesLyingArch(t *testing.T) {
	m, _ := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{4}, Out: 3}, tensor.NewRand(1))
	for name, arch := range map[string]string{
		"huge":    `{"type":"Sequential","layers":[{"type":"Linear","in":2,"out":2000000000},{"type":"ReLU"},{"type":"Linear","in":2000000000,"out":3}]}`,
		"unknown": `{"type":"Sequential","layers":[{"type":"Conv9"}]}`,
		"garbage": `{"type":`,
	} {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := train.SaveModel(path, m, map[string]string{train.MetaArch: arch}); err != nil {
			t.Fatal(err)
		}
		if _, err := train.LoadModel(path, train.LoadOptions{}); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// LoadModel reads a checkpoint (with its epoch) and a run folder (its
// model file, or its checkpoint before the run finishes).
func TestLoadModelCheckpointAndRunFolder(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, dir, 2)
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := weights(tr.Model)
	for _, p := range []string{dir, filepath.Join(dir, train.CheckpointFile), filepath.Join(dir, train.ModelFile)} {
		m, err := train.LoadModel(p, train.LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !slices.Equal(weights(m.Module), want) {
			t.Errorf("%s: other weights", p)
		}
		if ck := strings.HasSuffix(p, train.CheckpointFile); m.Checkpoint != ck || (ck && m.Epoch != 2) {
			t.Errorf("%s: checkpoint %v epoch %d", p, m.Checkpoint, m.Epoch)
		}
	}
	os.Remove(filepath.Join(dir, train.ModelFile))
	if m, err := train.LoadModel(dir, train.LoadOptions{}); err != nil || !m.Checkpoint {
		t.Errorf("run folder without a model file: %v, %+v", err, m)
	}
	empty := t.TempDir()
	if _, err := train.LoadModel(empty, train.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "saved nothing") {
		t.Errorf("empty folder: %v", err)
	}
}

// A loss that turns NaN after the first epoch names the checkpoint kept,
// and that checkpoint loads; one that turns NaN in the first epoch says
// none was saved.
func TestNonFiniteNamesTheCheckpoint(t *testing.T) {
	for _, after := range []int{3, 40} { // optimiser steps before the NaN (an epoch is 23 steps)
		dir := t.TempDir()
		tr := newTrainer(t, dir, 4)
		inner, steps := tr.Loss, 0
		tr.Loss = func(l *ag.Node, y []int) *ag.Node {
			out := inner(l, y)
			if steps++; steps > after {
				return ag.Mul(out, ag.Scalar(out.DType(), math.NaN()))
			}
			return out
		}
		_, err := tr.Run(context.Background())
		var nf *train.NonFiniteError
		if !errors.As(err, &nf) {
			t.Fatalf("after %d steps: %v", after, err)
		}
		if after < 23 {
			if nf.Checkpoint != "" || !strings.Contains(err.Error(), "no checkpoint was saved") {
				t.Errorf("NaN in epoch 1: %v", err)
			}
			continue
		}
		if nf.CheckpointEpoch != 1 || !strings.Contains(err.Error(), "checkpoint of epoch 1") {
			t.Errorf("NaN in epoch 2: %v", err)
		}
		if m, err := train.LoadModel(nf.Checkpoint, train.LoadOptions{}); err != nil || m.Epoch != 1 {
			t.Errorf("the kept checkpoint does not load: %v", err)
		}
	}
}

// A second trainer on a locked run folder is refused, naming the holder.
func TestRunFolderLock(t *testing.T) {
	dir := t.TempDir()
	a := newTrainer(t, dir, 1)
	if err := a.Lock(); err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, dir, 1)
	_, err := b.Run(context.Background())
	var le *fsutil.LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "process") {
		t.Fatalf("second trainer: %v", err)
	}
	if err := b.Resume(dir); err == nil {
		t.Fatal("second trainer resumed a locked folder")
	}
	a.Unlock()
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatalf("after the first let go: %v", err)
	}
}

// After a kill between checkpoint and metrics line (or with lines of
// epochs that were never checkpointed), a resume leaves metrics.jsonl
// with exactly the checkpoint's epochs, and removes stale temporary files.
func TestResumeRealignsMetrics(t *testing.T) {
	dir := t.TempDir()
	if _, err := newTrainer(t, dir, 2).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(dir, train.MetricsFile)
	b, _ := os.ReadFile(mf)
	lines := strings.SplitAfter(strings.TrimSpace(string(b)), "\n")
	os.WriteFile(mf, []byte(string(b)+lines[len(lines)-1]+"\n"+`{"epoch":3}`+"\n"), 0o644)
	stale := filepath.Join(dir, ".checkpoint.safetensors.tmp123456") // as versions before fsutil named them
	os.WriteFile(stale, []byte("half a checkpoint"), 0o644)
	old := time.Now().Add(-2 * fsutil.StaleAge)
	os.Chtimes(stale, old, old)

	tr := newTrainer(t, dir, 3)
	if err := tr.Resume(dir); err != nil {
		t.Fatal(err)
	}
	ms, err := train.ReadMetrics(mf)
	if err != nil || len(ms) != 2 || ms[1].Epoch != 2 {
		t.Fatalf("after resume: %d lines (%v), want epochs 1, 2", len(ms), err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ms, _ := train.ReadMetrics(mf); len(ms) != 3 || ms[2].Epoch != 3 {
		t.Fatalf("after the run: %d lines", len(ms))
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
}

// Stepping the loop from outside (Start, RunEpoch, Finish, with hooks)
// gives the bits Run gives.
func TestStepAPIMatchesRun(t *testing.T) {
	a := newTrainer(t, "", 3)
	if _, err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, "", 3)
	steps, epochs := 0, 0
	b.Config.OnStep = func(r train.StepResult) { steps++ }
	b.Config.OnEpoch = func(m train.Metrics) { epochs++ }
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	for !b.Done() {
		if _, err := b.RunEpoch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(weights(a.Model), weights(b.Model)) {
		t.Error("stepping from outside changed the weights")
	}
	if epochs != 3 || steps != 3*23 {
		t.Errorf("hooks called %d times per step, %d per epoch", steps, epochs)
	}
}

// A float32 data set trains a float64 model (batches are converted).
func TestFloat64ModelOnFloat32Data(t *testing.T) {
	tr := newTrainer(t, "", 2)
	m, err := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{8}, Out: 3, DType: tensor.Float64}, tensor.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	var params []*ag.Node
	for _, p := range m.Params() {
		params = append(params, p.Node)
	}
	tr.Model, tr.Opt = m, newAdam(params)
	tr.Config.L2 = 0
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Last().TrainLoss <= 0 || math.IsNaN(res.Last().TrainLoss) {
		t.Errorf("loss %v", res.Last().TrainLoss)
	}
	ev := train.Evaluate(m, tr.Loss, tr.Train, 64)
	if ev.N != tr.Train.Len() {
		t.Errorf("evaluated %d of %d", ev.N, tr.Train.Len())
	}
}

func newAdam(params []*ag.Node) optim.Optimizer {
	o, err := optim.ByName("adam", params, 0.01, 0, 0)
	if err != nil {
		panic(err)
	}
	return o
}

// A test set given to the trainer is scored every epoch, into the metrics
// (the learning curves' test series), without changing the training.
func TestTestSetScoredEachEpoch(t *testing.T) {
	a := newTrainer(t, "", 2)
	if _, err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newTrainer(t, "", 2)
	b.Test = b.Val
	res, err := b.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.History {
		if m.TestLoss == nil || m.TestAcc == nil || *m.TestLoss != *m.ValLoss {
			t.Fatalf("epoch %d: test metrics %v %v, validation %v", m.Epoch, m.TestLoss, m.TestAcc, *m.ValLoss)
		}
	}
	if !slices.Equal(weights(a.Model), weights(b.Model)) {
		t.Error("scoring a test set changed the training")
	}
}
