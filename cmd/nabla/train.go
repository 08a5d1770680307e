package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// trainFlags are the settings of a training run, saved as config.json in
// the run folder so that --resume can rebuild the same run.
type trainFlags struct {
	dataFlags
	Normalize   bool    `json:"normalize,omitempty"`
	Augment     string  `json:"augment,omitempty"` // "crop", "flip" or "crop,flip"
	Val         float64 `json:"val"`
	Arch        string  `json:"arch,omitempty"` // a spec (text form or JSON); empty: the MLP of Hidden/Activation/Dropout
	Hidden      string  `json:"hidden"`
	Activation  string  `json:"activation"`
	Loss        string  `json:"loss"`
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	Schedule    string  `json:"schedule"`
	Batch       int     `json:"batch"`
	Epochs      int     `json:"epochs"`
	L1          float64 `json:"l1"`
	L2          float64 `json:"l2"`
	WeightDecay float64 `json:"weight_decay"`
	Dropout     float64 `json:"dropout"`
	Init        string  `json:"init"`
	Clip        float64 `json:"clip"`
	Patience    int     `json:"patience"`
	Seed        uint64  `json:"seed"`
	DType       string  `json:"dtype"`
	Record      bool    `json:"record,omitempty"`       // see record.go
	RecordEvery int     `json:"record_every,omitempty"` // see record.go
}

// dataFlags name a data set and how to read it; every command that reads
// data defines them with defineDataFlags.
type dataFlags struct {
	Data      string `json:"data"`
	DataDir   string `json:"data_dir,omitempty"`
	LabelCol  int    `json:"label_col"`
	Header    bool   `json:"header"`
	RawPixels bool   `json:"raw_pixels,omitempty"`
}

// dataSetNames lists the built-in data sets, from package data's registry.
func dataSetNames() []string { return append(data.SyntheticNames(), "mnist", "fashion-mnist") }

// defineDataFlags adds --data (defaulting to def; "" means "the one the
// model was trained on" for commands that read a model), --data-dir,
// --label-col, --header and --raw-pixels.
func defineDataFlags(fs *flag.FlagSet, d *dataFlags, def string) {
	help := "data set: " + strings.Join(dataSetNames(), ", ") + ", or a CSV file"
	if def == "" {
		help += " (default: the one the model was trained on, else spiral; mnist means its test split)"
	}
	fs.StringVar(&d.Data, "data", def, help)
	fs.StringVar(&d.DataDir, "data-dir", "", "folder with the four IDX files of mnist or fashion-mnist (default: mnist from $NABLA_DATA, then the GoMNIST module in the Go module cache; fashion-mnist from $NABLA_DATA/fashion-mnist, then Debian's dataset-fashion-mnist; else either is downloaded, with SHA-256 checks, into the user cache)")
	fs.IntVar(&d.LabelCol, "label-col", -1, "CSV: column of the class label (negative counts from the end)")
	fs.BoolVar(&d.Header, "header", false, "CSV: the first line is a header")
	fs.BoolVar(&d.RawPixels, "raw-pixels", false, "MNIST: feed pixels as 0..255 instead of scaling to [0, 1] (a model file records it; eval follows the file)")
}

func defineTrainFlags(fs *flag.FlagSet, f *trainFlags) {
	defineDataFlags(fs, &f.dataFlags, "spiral")
	fs.BoolVar(&f.Normalize, "normalize", false, "standardise each feature with the training set's mean and std")
	fs.StringVar(&f.Augment, "augment", "", "augment image training batches: crop (shift by up to 2 pixels, zero-filled, as torchvision's RandomCrop(28, padding=2)), flip (mirror left-right with probability 0.5; for Fashion-MNIST, not digits), or crop,flip")
	fs.Float64Var(&f.Val, "val", 0, "fraction of the training data held out for validation each epoch")
	fs.StringVar(&f.Arch, "arch", "", "the network as a spec: text such as linear(512)-relu-dropout(0.2)-linear(10) (input sizes are inferred), a .json file, or a preset ("+strings.Join(nn.PresetNames(), ", ")+"); see 'nabla layers' (default: an MLP from --hidden, --activation, --dropout)")
	fs.StringVar(&f.Hidden, "hidden", "", "hidden layer sizes, comma-separated (default: 100 for the synthetic sets, 512,256 for mnist)")
	fs.StringVar(&f.Activation, "activation", "relu", "activation: "+strings.Join(nn.ActivationNames(), ", "))
	fs.StringVar(&f.Loss, "loss", "cross-entropy", "loss: "+strings.Join(loss.Names(), ", "))
	fs.StringVar(&f.Optimizer, "optimizer", "adam", "optimiser: "+strings.Join(optim.Names(), ", "))
	fs.Float64Var(&f.LR, "lr", 0, "learning rate, the peak rate under the one-cycle schedule (default: 0.01 for the synthetic sets, 0.003 otherwise)")
	fs.Float64Var(&f.Momentum, "momentum", 0, "momentum (0: 0.9 for the momentum and nesterov optimisers, none for rmsprop)")
	fs.StringVar(&f.Schedule, "schedule", "onecycle", "learning-rate schedule: "+strings.Join(optim.ScheduleNames(), ", "))
	fs.IntVar(&f.Batch, "batch", 0, "mini-batch size (default: 32 for the synthetic sets, 128 otherwise)")
	fs.IntVar(&f.Epochs, "epochs", 0, "passes over the training data (default: 100 for the synthetic sets, 5 otherwise)")
	fs.Float64Var(&f.L1, "l1", 0, "L1 penalty strength λ on the weights")
	fs.Float64Var(&f.L2, "l2", 0, "L2 penalty strength λ on the weights (loss + λ·Σw²)")
	fs.Float64Var(&f.WeightDecay, "weight-decay", -1, "weight decay in the optimiser, decoupled for adamw (default: PyTorch's, 0.01 for adamw and 0 otherwise)")
	fs.Float64Var(&f.Dropout, "dropout", 0, "dropout probability after each hidden activation")
	fs.StringVar(&f.Init, "init", "default", "weight initialisation: "+strings.Join(nn.InitNames(), ", ")+" (default: PyTorch's)")
	fs.Float64Var(&f.Clip, "clip", 0, "clip the global gradient norm to this (0: off)")
	fs.IntVar(&f.Patience, "patience", 0, "stop after this many epochs without improvement (0: off)")
	fs.Uint64Var(&f.Seed, "seed", 1, "seed for data, initialisation, shuffling and dropout")
	fs.StringVar(&f.DType, "dtype", "float32", "float32 or float64")
	defineRecordFlags(fs, f)
}

// fillDefaults sets the data-dependent defaults of the flags left at zero.
func (f *trainFlags) fillDefaults() {
	small := slices.Contains(data.SyntheticNames(), f.Data)
	pick := func(smallV, bigV float64) float64 {
		if small {
			return smallV
		}
		return bigV
	}
	if f.Hidden == "" && f.Arch == "" {
		f.Hidden = map[bool]string{true: "100", false: "512,256"}[small]
	}
	if f.LR == 0 {
		f.LR = pick(0.01, 0.003)
	}
	if f.Batch == 0 {
		f.Batch = int(pick(32, 128))
	}
	if f.Epochs == 0 {
		f.Epochs = int(pick(100, 5))
	}
	if f.WeightDecay == -1 { // left out: PyTorch's default
		f.WeightDecay = 0
		if f.Optimizer == "adamw" {
			f.WeightDecay = 0.01
		}
	}
}

func parseSizes(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" || s == "none" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--hidden: %q is not a positive layer size", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseDType(s string) (tensor.DType, error) {
	switch s {
	case "float32", "":
		return tensor.Float32, nil
	case "float64":
		return tensor.Float64, nil
	}
	return 0, fmt.Errorf("--dtype must be float32 or float64, not %q", s)
}

// loadData returns the training set and, where the data set has one, the
// test set (nil otherwise).
func loadData(name, dataDir string, labelCol int, header, raw bool, seed uint64) (trainSet, testSet *data.InMemory, err error) {
	switch {
	case slices.Contains(data.SyntheticNames(), name):
		ds, err := data.Synthetic(name, tensor.NewRand(seed))
		return ds, nil, err
	case name == "mnist":
		dir, err := data.FindMNIST(dataDir)
		if errors.Is(err, data.ErrMNISTNotFound) && dataDir == "" {
			dir, err = fetchData(mnistDownload, err, os.Stderr)
		}
		if err != nil {
			return nil, nil, err
		}
		return data.LoadMNIST(dir, !raw)
	case name == "fashion-mnist":
		dir, err := data.FindFashionMNIST(dataDir)
		if errors.Is(err, data.ErrFashionMNISTNotFound) && dataDir == "" {
			dir, err = fetchData(fashionMNISTDownload, err, os.Stderr)
		}
		if err != nil {
			return nil, nil, err
		}
		return data.LoadFashionMNIST(dir, !raw)
	case strings.HasSuffix(strings.ToLower(name), ".csv"):
		ds, err := data.LoadCSV(name, labelCol, header)
		return ds, nil, err
	}
	return nil, nil, fmt.Errorf("unknown data set %q: use %s or a .csv file", name, strings.Join(dataSetNames(), ", "))
}

// A download names a data set that nabla fetches, with its SHA-256
// checks, when no local copy is found.
type download struct {
	name  string                      // as messages name it
	url   string                      // the official address
	cache func() (string, error)      // the folder it goes into
	fetch func(url, dir string) error // data.FetchMNIST or data.FetchFashionMNIST
}

var (
	mnistDownload        = download{"MNIST", data.MNISTURL, data.MNISTCacheDir, data.FetchMNIST}
	fashionMNISTDownload = download{"Fashion-MNIST", data.FashionMNISTURL, data.FashionMNISTCacheDir, data.FetchFashionMNIST}
)

// fetchData downloads d into its user cache folder when no local copy was
// found and returns that folder; notFound is the search's error, returned
// with the download's when that fails too (as it does with no internet).
func fetchData(d download, notFound error, log io.Writer) (string, error) {
	dir, err := d.cache()
	if err != nil {
		return "", notFound
	}
	fmt.Fprintf(log, "%s not found locally; downloading it from %s into %s\n", d.name, d.url, dir)
	if err := d.fetch(d.url, dir); err != nil {
		return "", fmt.Errorf("%v; the download failed too: %v", notFound, err)
	}
	return dir, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "train [flags]", stderr)
	var f trainFlags
	defineTrainFlags(fs, &f)
	out := fs.String("out", "", "run folder (default: runs/<time>-<data>); one that holds a run is refused (see --resume, --overwrite)")
	resume := fs.String("resume", "", "continue the run in this folder from its last checkpoint")
	overwrite := fs.Bool("overwrite", false, "with --out: delete the run already in that folder and start a new one")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads for the kernels (default: all cores, following GOMAXPROCS)")
	maxMemory := fs.String("max-memory", "", "refuse a model whose training needs more memory than this (e.g. 8GiB; default: the memory available)")
	quiet := fs.Bool("quiet", false, "print only the final result")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *threads < 1 {
		return fmt.Errorf("--threads must be at least 1, not %d", *threads)
	}
	kernels.SetThreads(*threads)
	if err := checkGivenFlags(fs, &f, "--"); err != nil {
		return err
	}
	budget, err := memoryBudget(*maxMemory)
	if err != nil {
		return err
	}

	dir := *out
	if *resume != "" {
		if *overwrite {
			return errors.New("--overwrite starts a new run; it cannot be used with --resume")
		}
		if err := loadRunFlags(fs, *resume, &f); err != nil {
			return err
		}
		dir = *resume
	} else {
		if err := readArchFile(&f); err != nil {
			return err
		}
		f.fillDefaults()
		if dir == "" {
			dir = filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+strings.TrimSuffix(filepath.Base(f.Data), ".csv"))
		}
		if held := runFiles(dir); len(held) > 0 && !*overwrite {
			return fmt.Errorf("%s already holds a run (%s); continue it with --resume %s, or delete it and start again with --overwrite", dir, strings.Join(held, ", "), dir)
		}
	}
	run, err := buildRun(f, dir, budget)
	if err != nil {
		return err
	}
	softLimit := setSoftMemoryLimit(run, f.Optimizer, f.Batch)
	// The lock first: nothing below may touch a folder another process
	// is training in.
	if err := run.trainer.Lock(); err != nil {
		return err
	}
	defer run.trainer.Unlock()
	if *resume == "" {
		if *overwrite {
			for _, name := range runFiles(dir) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return err
				}
			}
		}
		if err := writeRunFlags(dir, f); err != nil {
			return err
		}
	} else if err := run.trainer.Resume(dir); errors.Is(err, train.ErrNoCheckpoint) {
		// Killed before its first checkpoint: nothing was saved but the
		// settings, so the run starts again from them.
		fmt.Fprintf(stdout, "%s has no checkpoint (the run stopped in its first epoch); starting it again from its %s\n", dir, runFlagsFile)
		if err := os.Remove(filepath.Join(dir, train.MetricsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else if err != nil {
		return err
	} else if done := run.trainer.Epoch(); done >= f.Epochs {
		return fmt.Errorf("%s has already trained %d epochs; pass --epochs above %d to train longer", dir, done, done)
	}
	if *resume != "" {
		// config.json records the run as it now goes on (a new --epochs
		// stretches the schedule over the new total).
		if err := writeRunFlags(dir, f); err != nil {
			return err
		}
	}
	rec, err := attachRecorder(run, f)
	if err != nil {
		return err
	}
	if !*quiet {
		run.trainer.Config.Log = stdout
		run.trainer.Config.Progress = isTerminal(stdout)
		fmt.Fprintf(stdout, "training %s on %s: %d examples of shape %v, %d classes, %d parameters; run folder %s\n",
			describeSpec(run.spec), f.Data, run.train.Len(), run.train.Shape(), run.train.Classes(), nn.NumParams(run.model), dir)
		if softLimit > 0 {
			fmt.Fprintf(stdout, "memory: the Go heap is kept near %s (a soft limit from the model and data sizes; GOMEMLIMIT overrides it)\n", humanBytes(float64(softLimit)))
		}
		if *resume != "" && run.trainer.Epoch() > 0 {
			fmt.Fprintf(stdout, "resuming after epoch %d of %d%s\n", run.trainer.Epoch(), f.Epochs, scheduleNote(f))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run.trainer.Run(ctx)
	for _, w := range res.Warnings {
		if *quiet { // the log printed them otherwise
			fmt.Fprintln(stderr, "warning: "+w)
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; resume with: nabla train --resume %s", dir)
		}
		return err
	}
	if err := recorderErr(rec); err != nil {
		return err
	}
	if res.Stopped != "" {
		fmt.Fprintln(stdout, res.Stopped)
	}
	ev := train.Evaluate(run.model, run.trainer.Loss, run.train, 1024)
	fmt.Fprintf(stdout, "train accuracy %.2f%% (loss %.4f)\n", 100*ev.Accuracy, ev.Loss)
	if run.val != nil {
		ev := train.Evaluate(run.model, run.trainer.Loss, run.val, 1024)
		fmt.Fprintf(stdout, "validation accuracy %.2f%% (loss %.4f)\n", 100*ev.Accuracy, ev.Loss)
	}
	if run.test != nil {
		ev := train.Evaluate(run.model, run.trainer.Loss, run.test, 1024)
		fmt.Fprintf(stdout, "test accuracy %.2f%% (loss %.4f)\n", 100*ev.Accuracy, ev.Loss)
	}
	fmt.Fprintf(stdout, "model saved to %s\n", filepath.Join(dir, train.ModelFile))
	return nil
}

// checkGivenFlags checks the training flags given on fs: 0 means "the
// data set's default" only for a flag left out, and the MLP shorthand
// cannot be given beside an architecture. prefix is how a flag is written
// in the message ("--" on the command line, "" on the serve page).
func checkGivenFlags(fs *flag.FlagSet, f *trainFlags, prefix string) error {
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		switch {
		case fl.Name == "epochs" && f.Epochs <= 0, fl.Name == "batch" && f.Batch <= 0:
			bad = fmt.Errorf("%s%s must be at least 1, not %s", prefix, fl.Name, fl.Value)
		case fl.Name == "lr" && !(f.LR > 0 && !math.IsInf(f.LR, 1)):
			bad = fmt.Errorf("%slr must be a positive, finite number, not %s", prefix, fl.Value)
		case f.Arch != "" && (fl.Name == "hidden" || fl.Name == "dropout" || fl.Name == "activation" || fl.Name == "init"):
			bad = fmt.Errorf("%s%s describes the default MLP; with %sarch, put the layers in the spec", prefix, fl.Name, prefix)
		}
	})
	return bad
}

// runFiles lists the files of a run that dir holds (none for a new or
// empty folder).
func runFiles(dir string) []string {
	var held []string
	for _, name := range []string{runFlagsFile, train.MetricsFile, train.CheckpointFile, train.ModelFile, train.RecordsFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			held = append(held, name)
		}
	}
	return held
}

// readArchFile replaces an --arch naming a JSON file by the file's spec,
// so that config.json holds the architecture itself and a resume does not
// depend on the file.
func readArchFile(f *trainFlags) error {
	a := strings.TrimSpace(f.Arch)
	if a == "" || strings.HasPrefix(a, "{") || !strings.HasSuffix(strings.ToLower(a), ".json") {
		return nil
	}
	b, err := os.ReadFile(a)
	if err != nil {
		return fmt.Errorf("--arch: %v", err)
	}
	s, err := nn.ParseSpec(string(b))
	if err != nil {
		return fmt.Errorf("--arch %s: %s", a, strings.TrimPrefix(err.Error(), "nn: "))
	}
	js, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f.Arch = string(js)
	return nil
}

// scheduleNote says what a resume with more epochs does to the schedule.
func scheduleNote(f trainFlags) string {
	switch f.Schedule {
	case "constant", "plateau", "step", "multistep":
		return ""
	}
	return fmt.Sprintf(" (the %s schedule spans all %d epochs: config.json records the new count)", f.Schedule, f.Epochs)
}

// trainRun is everything a training run is built from.
type trainRun struct {
	trainer          *train.Trainer
	model            nn.Module
	spec             nn.Spec
	input            train.Input
	train, val, test *data.InMemory
}

// buildRun turns the flags into data, a model, an optimiser and a trainer.
// Every random choice draws from generators derived from f.Seed, so a
// resumed run rebuilds exactly the same objects before loading the
// checkpoint. A model whose training would need more than budget bytes
// (0: no limit) is refused before it is allocated.
func buildRun(f trainFlags, dir string, budget int64) (*trainRun, error) {
	// The flags first: a bad one is refused before any data is read.
	if _, _, err := runBasics(f); err != nil {
		return nil, err
	}
	trainSet, testSet, err := loadData(f.Data, f.DataDir, f.LabelCol, f.Header, f.RawPixels, f.Seed)
	if err != nil {
		return nil, err
	}
	return buildRunFrom(f, trainSet, testSet, dir, budget)
}

// runBasics checks the flags that need no data and returns the dtype and
// the loss they name.
func runBasics(f trainFlags) (tensor.DType, loss.Func, error) {
	dt, err := parseDType(f.DType)
	if err != nil {
		return dt, nil, err
	}
	switch {
	case f.Val < 0 || f.Val >= 1:
		return dt, nil, fmt.Errorf("--val must be in [0, 1), not %g", f.Val)
	case f.Batch <= 0:
		return dt, nil, fmt.Errorf("--batch must be positive, not %d", f.Batch)
	case f.Epochs <= 0:
		return dt, nil, fmt.Errorf("--epochs must be positive, not %d", f.Epochs)
	case f.L1 < 0 || f.L2 < 0 || f.WeightDecay < 0:
		return dt, nil, errors.New("--l1, --l2 and --weight-decay must not be negative")
	case f.Dropout < 0 || f.Dropout >= 1:
		return dt, nil, fmt.Errorf("--dropout must be in [0, 1), not %g", f.Dropout)
	case !(f.LR > 0) || math.IsInf(f.LR, 1):
		return dt, nil, fmt.Errorf("--lr must be a positive, finite number, not %g", f.LR)
	}
	lossFn, err := loss.ByName(f.Loss)
	return dt, lossFn, err
}

// buildRunFrom is buildRun over data sets already loaded (the test set
// may be nil); the serve page's views call it with the sets they share
// between sessions.
func buildRunFrom(f trainFlags, trainSet, testSet *data.InMemory, dir string, budget int64) (*trainRun, error) {
	dt, lossFn, err := runBasics(f)
	if err != nil {
		return nil, err
	}
	r := &trainRun{train: trainSet, test: testSet}
	if f.Val > 0 {
		r.train, r.val = data.Split(trainSet, f.Val, tensor.NewRand(f.Seed+1))
	}
	if r.train.Len() == 0 {
		return nil, fmt.Errorf("the training set of %s is empty (%d examples, --val %g)", f.Data, trainSet.Len(), f.Val)
	}
	r.input = train.Input{Shape: slices.Clone(r.train.Shape()), Classes: r.train.Classes(), Data: f.Data, RawPixels: f.RawPixels && (f.Data == "mnist" || f.Data == "fashion-mnist")}
	if f.Normalize {
		norm := data.FitNormalizer(r.train)
		r.input.Mean, r.input.Std = norm.Mean, norm.Std
		r.train = norm.Apply(r.train)
		if r.val != nil {
			r.val = norm.Apply(r.val)
		}
		if r.test != nil {
			r.test = norm.Apply(r.test)
		}
	}
	r.spec, err = runSpec(f, r.input)
	if err != nil {
		return nil, err
	}
	if err := checkMemory(r.spec, r.input.Shape, dt, f.Optimizer, f.Batch, budget); err != nil {
		return nil, err
	}
	// One generator initialises the weights and then drives Dropout; the
	// trainer saves its state in every checkpoint.
	modelRNG := rand.NewPCG(f.Seed, 2)
	r.model, err = nn.Build(r.spec, dt, rand.New(modelRNG))
	if err != nil {
		return nil, err
	}
	params := paramNodes(r.model)
	opt, err := optim.ByName(f.Optimizer, params, f.LR, f.Momentum, f.WeightDecay)
	if err != nil {
		return nil, err
	}
	batches := r.train.Len() / f.Batch
	if r.train.Len()%f.Batch != 0 {
		batches++
	}
	sched, err := optim.ScheduleByName(f.Schedule, f.LR, f.Epochs*batches)
	if err != nil {
		return nil, err
	}
	arch, err := json.Marshal(r.spec)
	if err != nil {
		return nil, err
	}
	input, err := json.Marshal(r.input)
	if err != nil {
		return nil, err
	}
	var val, test data.Dataset
	if r.val != nil {
		val = r.val
	}
	if r.test != nil {
		test = r.test
	}
	augment, augRNG, err := augmenter(f.Augment, r.input.Shape, f.Seed)
	if err != nil {
		return nil, err
	}
	r.trainer = &train.Trainer{
		Model: r.model, Loss: train.LossFunc(lossFn), Opt: opt, Schedule: sched,
		Train: r.train, Val: val, Test: test,
		RNG: map[string]*rand.PCG{"shuffle": rand.NewPCG(f.Seed, 4), "model": modelRNG},
		Config: train.Config{
			Epochs: f.Epochs, Batch: f.Batch, ClipNorm: f.Clip, L1: f.L1, L2: f.L2, Patience: f.Patience,
			Dir: dir, Metadata: map[string]string{train.MetaArch: string(arch), train.MetaInput: string(input)},
			Augment: augment,
		},
	}
	if augRNG != nil {
		r.trainer.RNG["augment"] = augRNG
	}
	return r, nil
}

// augmenter turns --augment into the trainer's batch transform, drawing
// from a generator of its own (derived from the seed, saved in
// checkpoints); "" gives none.
func augmenter(spec string, shape []int, seed uint64) (func(*tensor.Tensor), *rand.PCG, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil, nil
	}
	var crop, flip bool
	for _, a := range strings.Split(spec, ",") {
		switch strings.TrimSpace(a) {
		case "crop":
			crop = true
		case "flip":
			flip = true
		default:
			return nil, nil, fmt.Errorf("--augment: unknown augmentation %q (crop, flip)", a)
		}
	}
	if len(shape) != 3 {
		return nil, nil, fmt.Errorf("--augment works on images [C, H, W]; this data has examples of shape %v", shape)
	}
	src := rand.NewPCG(seed, 5)
	rng := rand.New(src)
	return func(x *tensor.Tensor) {
		if crop {
			data.RandomCrop(x, 2, rng)
		}
		if flip {
			data.RandomHFlip(x, 0.5, rng)
		}
	}, src, nil
}

// runSpec is the run's architecture, resolved for its input: --arch, or
// the MLP of --hidden, --activation, --dropout and --init (with a Flatten
// first for image data). Its output must be one score per class.
func runSpec(f trainFlags, in train.Input) (nn.Spec, error) {
	var s nn.Spec
	if f.Arch != "" {
		var err error
		if s, err = nn.ParseSpec(f.Arch); err != nil {
			return s, fmt.Errorf("--arch: %s", strings.TrimPrefix(err.Error(), "nn: "))
		}
	} else {
		hidden, err := parseSizes(f.Hidden)
		if err != nil {
			return s, err
		}
		cfg := nn.MLPConfig{In: in.Features(), Hidden: hidden, Out: in.Classes, Activation: f.Activation,
			Dropout: f.Dropout, Init: f.Init, Flatten: len(in.Shape) > 1}
		if s, err = nn.MLPSpec(cfg); err != nil {
			return s, err
		}
	}
	rs, out, err := nn.Resolve(s, in.Shape)
	if err != nil {
		return s, fmt.Errorf("--arch: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	if len(out) != 1 || out[0] != in.Classes {
		return s, fmt.Errorf("--arch: the network gives outputs of shape %v per example, but %s needs %d class scores (end it with linear(%d))", out, f.Data, in.Classes, in.Classes)
	}
	return rs, nil
}
