package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/plot"
	"github.com/nabla-go/nabla/train"
)

func init() {
	commands["sweep"] = command{"train a grid of networks (hidden sizes × activations × learning rates) and compare them", runSweep}
}

// sweepResultFile holds a finished run's row inside its folder, so that a
// second invocation of the sweep reads it instead of training again.
const sweepResultFile = "result.json"

// sweepRow is one run of the grid: its settings and what it reached.
type sweepRow struct {
	Run        string  `json:"run"`
	Hidden     string  `json:"hidden"` // "256", or "512x256" for two layers
	Units      int     `json:"units"`  // hidden units over all hidden layers
	Activation string  `json:"activation"`
	LR         float64 `json:"lr"`
	Params     int     `json:"params"`
	Epochs     int     `json:"epochs"`
	TrainLoss  float64 `json:"train_loss"`
	TrainAcc   float64 `json:"train_acc"`
	HeldOut    string  `json:"held_out"` // "test", "validation", or "" when there is none
	HeldLoss   float64 `json:"held_out_loss"`
	HeldAcc    float64 `json:"held_out_acc"`
	Seconds    float64 `json:"seconds"` // training time, summed over resumed parts
	Err        string  `json:"error,omitempty"`
	Resumed    int     `json:"resumed_after_epoch,omitempty"` // the epoch its last invocation resumed after
	skipped    bool
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", "sweep [--data mnist] [--hidden 16,64,256,1024] [--activation relu,tanh] [--lr 0.1,0.01] [--epochs 2] [--workers N] [--out DIR]", stderr)
	// Every training flag except those the grid replaces, bound to base.
	var base trainFlags
	tmp := flag.NewFlagSet("", flag.ContinueOnError)
	defineTrainFlags(tmp, &base)
	grid := map[string]bool{"hidden": true, "activation": true, "lr": true, "record": true, "record-every": true, "arch": true}
	tmp.VisitAll(func(fl *flag.Flag) {
		if !grid[fl.Name] {
			fs.Var(fl.Value, fl.Name, fl.Usage)
		}
	})
	hiddenList := fs.String("hidden", "16,64,256,1024", "hidden sizes to try, comma-separated; each is one run, one layer (\"256\") or several (\"512x256\")")
	archList := fs.String("arch", "", "architectures to try instead of MLPs, separated by '|': specs or presets (\"lenet5|cnn|flatten-linear(128)-relu-linear(10)\")")
	actList := fs.String("activation", "relu", "activations to try, comma-separated")
	lrList := fs.String("lr", "", "learning rates to try, comma-separated (default: the data set's default)")
	workers := fs.Int("workers", 1, "runs trained at the same time, in goroutines (each on one kernel thread when more than 1)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads for the kernels with --workers 1")
	out := fs.String("out", "", "sweep folder, one run folder inside per run (default: runs/<time>-sweep); run again with the same folder to resume")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	valGiven := false
	fs.Visit(func(fl *flag.Flag) { valGiven = valGiven || fl.Name == "val" })
	hiddens, err := parseHiddenList(*hiddenList)
	if err != nil {
		return err
	}
	var archs []string
	if strings.TrimSpace(*archList) != "" {
		bad := ""
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name == "hidden" || fl.Name == "activation" {
				bad = fl.Name
			}
		})
		if bad != "" {
			return fmt.Errorf("sweep: --%s describes MLPs; with --arch, put the layers in the specs", bad)
		}
		for _, a := range strings.Split(*archList, "|") {
			a = strings.TrimSpace(a)
			if _, err := nn.ParseSpec(a); err != nil {
				return fmt.Errorf("sweep: --arch %q: %s", a, strings.TrimPrefix(err.Error(), "nn: "))
			}
			archs = append(archs, a)
		}
	}
	acts := splitList(*actList)
	if len(acts) == 0 {
		return errors.New("sweep: --activation is empty: name at least one activation")
	}
	for _, a := range acts {
		if _, err := nn.ActivationByName(a); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	base.Hidden = "1" // placeholder, so that fillDefaults keeps the grid's
	base.fillDefaults()
	lrs := []float64{base.LR}
	if strings.TrimSpace(*lrList) != "" {
		lrs = nil
		for _, s := range splitList(*lrList) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v > 0) {
				return fmt.Errorf("sweep: --lr: %q is not a positive learning rate", s)
			}
			lrs = append(lrs, v)
		}
		if len(lrs) == 0 {
			return errors.New("sweep: --lr is empty: give at least one learning rate")
		}
	}
	if *workers < 1 {
		return fmt.Errorf("sweep: --workers must be at least 1, not %d", *workers)
	}
	if *threads < 1 {
		return fmt.Errorf("sweep: --threads must be at least 1, not %d", *threads)
	}
	// Load the data once up front, so that a bad --data is one error, not
	// one per run, and to learn whether there is a test split.
	_, test, err := loadData(base.Data, base.DataDir, base.LabelCol, base.Header, base.RawPixels, base.Seed)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if !valGiven && test == nil {
		base.Val = 0.1
	}
	heldOut := ""
	switch {
	case test != nil:
		heldOut = "test"
	case base.Val > 0:
		heldOut = "validation"
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", time.Now().Format("20060102-150405")+"-sweep")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}

	var jobs []trainFlags
	var rows []sweepRow
	for i, a := range archs {
		for _, lr := range lrs {
			f := base
			f.Hidden, f.Arch, f.LR = "", a, lr
			name := fmt.Sprintf("arch%d", i+1)
			if _, _, ok := nn.Preset(a); ok {
				name = a
			}
			jobs = append(jobs, f)
			rows = append(rows, sweepRow{Run: fmt.Sprintf("%s-lr%g", name, lr), Hidden: a, Activation: "-", LR: lr, Epochs: f.Epochs, HeldOut: heldOut})
		}
	}
	if archs != nil {
		hiddens = nil // the grid is the architectures
	}
	for _, h := range hiddens {
		for _, a := range acts {
			for _, lr := range lrs {
				f := base
				f.Hidden, f.Activation, f.LR = strings.ReplaceAll(h, "x", ","), a, lr
				jobs = append(jobs, f)
				rows = append(rows, sweepRow{Run: fmt.Sprintf("h%s-%s-lr%g", h, a, lr), Hidden: h, Activation: a, LR: lr, Epochs: f.Epochs, HeldOut: heldOut})
			}
		}
	}
	if *workers > 1 {
		kernels.SetThreads(1)
	} else {
		kernels.SetThreads(*threads)
	}
	fmt.Fprintf(stdout, "sweep of %d runs on %s (%d epochs each, %d at a time) in %s\n", len(jobs), base.Data, base.Epochs, min(*workers, len(jobs)), dir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var mu sync.Mutex // guards stdout
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(*workers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				// Runs share the process: evaluation feeds the model
				// ag.Untracked inputs, which record nothing without
				// touching the process-wide ag.NoGrad, so one run's
				// evaluation cannot stop another's training graph.
				rows[i] = sweepOne(ctx, jobs[i], rows[i], filepath.Join(dir, rows[i].Run))
				mu.Lock()
				reportRow(stdout, rows[i])
				mu.Unlock()
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("sweep: interrupted; run the same command again to resume (finished runs are kept)")
	}

	if err := writeSweepResults(dir, rows); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	var pts []plot.SweepPoint
	failed := 0
	for _, r := range rows {
		if r.Err != "" {
			failed++
			continue
		}
		line := r.Activation
		if len(lrs) > 1 {
			line += fmt.Sprintf(", lr %g", r.LR)
		}
		acc := r.HeldAcc
		if r.HeldOut == "" {
			acc = r.TrainAcc
		}
		size := float64(r.Units)
		if archs != nil { // architectures: against their parameter count
			size, line = float64(r.Params), fmt.Sprintf("lr %g", r.LR)
		}
		pts = append(pts, plot.SweepPoint{Line: line, Size: size, Acc: acc})
	}
	fmt.Fprintln(stdout)
	writeSweepMarkdown(stdout, rows)
	fmt.Fprintf(stdout, "\nwrote %s and %s\n", filepath.Join(dir, "results.csv"), filepath.Join(dir, "results.md"))
	if failed == len(rows) {
		return fmt.Errorf("sweep: every run failed (first: %s: %s)", rows[0].Run, rows[0].Err)
	}
	label := heldOut
	if label == "" {
		label = "train"
	}
	size := "hidden units"
	if archs != nil {
		size = "parameters"
	}
	if err := plot.SaveSweepBy(pts, label, size, filepath.Join(dir, "sweep.png")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, "sweep.png"))
	return nil
}

// finishedRow reads the row of a finished run (model file and row both
// present) in runDir.
func finishedRow(row sweepRow, runDir string) (sweepRow, bool) {
	if !fileExists(filepath.Join(runDir, "model.safetensors")) {
		return row, false
	}
	b, err := os.ReadFile(filepath.Join(runDir, sweepResultFile))
	if err != nil {
		return row, false
	}
	var r sweepRow
	if json.Unmarshal(b, &r) != nil || r.Run != row.Run {
		return row, false
	}
	r.skipped = true
	return r, true
}

// sameRunFlags checks that the run in runDir was started with f (the
// data folder aside).
func sameRunFlags(f trainFlags, runDir string) error {
	b, err := os.ReadFile(filepath.Join(runDir, runFlagsFile))
	var old trainFlags
	if err != nil || json.Unmarshal(b, &old) != nil {
		return fmt.Errorf("%s/%s is unreadable; delete the folder to start the run again", runDir, runFlagsFile)
	}
	old.DataDir = f.DataDir
	if old != f {
		return fmt.Errorf("%s holds a run with other settings; use another --out", runDir)
	}
	return nil
}

// sweepOne trains (or resumes, or skips) one run of the grid in runDir and
// returns its row. Failures are reported in the row, not returned, so that
// one diverging run does not stop the sweep.
func sweepOne(ctx context.Context, f trainFlags, row sweepRow, runDir string) sweepRow {
	fail := func(err error) sweepRow { row.Err = err.Error(); return row }
	if r, ok := finishedRow(row, runDir); ok {
		return r
	}
	finished := fileExists(filepath.Join(runDir, "model.safetensors"))
	if fileExists(filepath.Join(runDir, runFlagsFile)) {
		if err := sameRunFlags(f, runDir); err != nil {
			return fail(err)
		}
	}
	run, err := buildRun(f, runDir, availableMemory())
	if err != nil {
		return fail(err)
	}
	row.Params = nn.NumParams(run.model)
	hidden, _ := parseSizes(f.Hidden)
	for _, h := range hidden {
		row.Units += h
	}
	switch {
	case finished:
		// Trained, but killed before its row was written: score the model.
		m, err := train.LoadModel(filepath.Join(runDir, train.ModelFile), train.LoadOptions{})
		if err != nil {
			return fail(err)
		}
		if err := nn.LoadStateDict(run.model, nn.StateDict(m.Module)); err != nil {
			return fail(err)
		}
		if ms, err := train.ReadMetrics(filepath.Join(runDir, "metrics.jsonl")); err == nil {
			for _, m := range ms {
				row.Seconds += m.Seconds
			}
		}
	default:
		if fileExists(filepath.Join(runDir, train.CheckpointFile)) {
			if err := run.trainer.Resume(runDir); err != nil {
				return fail(err)
			}
			row.Resumed = run.trainer.Epoch()
		} else if err := writeRunFlags(runDir, f); err != nil {
			return fail(err)
		}
		res, err := run.trainer.Run(ctx)
		if err != nil {
			return fail(err)
		}
		for _, m := range res.History {
			row.Seconds += m.Seconds
		}
	}
	ev := train.Evaluate(run.model, run.trainer.Loss, run.train, 1024)
	row.TrainLoss, row.TrainAcc = ev.Loss, ev.Accuracy
	held := run.val
	row.HeldOut = ""
	if run.val != nil {
		row.HeldOut = "validation"
	}
	if run.test != nil {
		held, row.HeldOut = run.test, "test"
	}
	if held != nil {
		ev := train.Evaluate(run.model, run.trainer.Loss, held, 1024)
		row.HeldLoss, row.HeldAcc = ev.Loss, ev.Accuracy
	}
	b, _ := json.MarshalIndent(row, "", "  ")
	if err := writeFileAtomic(filepath.Join(runDir, sweepResultFile), append(b, '\n')); err != nil {
		return fail(err)
	}
	return row
}

func reportRow(w io.Writer, r sweepRow) {
	switch {
	case r.Err != "":
		fmt.Fprintf(w, "failed   %s: %s\n", r.Run, r.Err)
	case r.skipped:
		fmt.Fprintf(w, "skipped  %s (finished earlier)\n", r.Run)
	default:
		held := ""
		if r.HeldOut != "" {
			held = fmt.Sprintf(", %s accuracy %.2f%%", r.HeldOut, 100*r.HeldAcc)
		}
		how := "trained "
		if r.Resumed > 0 {
			how = fmt.Sprintf("resumed after epoch %d and trained", r.Resumed)
		}
		fmt.Fprintf(w, "%s %s: train accuracy %.2f%%%s (%.1f s)\n", how, r.Run, 100*r.TrainAcc, held, r.Seconds)
	}
}

// parseHiddenList splits "16,64,512x256" into one architecture per item.
func parseHiddenList(s string) ([]string, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, errors.New("sweep: --hidden is empty: give at least one hidden size (e.g. --hidden 16,64 or 512x256)")
	}
	for _, it := range items {
		for _, part := range strings.Split(it, "x") {
			if n, err := strconv.Atoi(part); err != nil || n < 1 {
				return nil, fmt.Errorf("sweep: --hidden: %q is not a layer width or widths like 512x256", it)
			}
		}
	}
	return items, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// heldOutName is the label of the held-out columns: "test", "val", or "".
func heldOutName(rows []sweepRow) string {
	for _, r := range rows {
		switch r.HeldOut {
		case "test":
			return "test"
		case "validation":
			return "val"
		}
	}
	return ""
}

func sweepHeader(rows []sweepRow) []string {
	h := []string{"run", "hidden", "activation", "lr", "params", "epochs", "train_loss", "train_acc"}
	if ho := heldOutName(rows); ho != "" {
		h = append(h, ho+"_loss", ho+"_acc")
	}
	return append(h, "seconds", "error")
}

func sweepRecord(r sweepRow, held bool) []string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	rec := []string{r.Run, r.Hidden, r.Activation, g(r.LR), strconv.Itoa(r.Params), strconv.Itoa(r.Epochs)}
	if r.Err != "" {
		rec = append(rec, "", "")
		if held {
			rec = append(rec, "", "")
		}
		return append(rec, "", r.Err)
	}
	rec = append(rec, g(r.TrainLoss), g(r.TrainAcc))
	if held {
		rec = append(rec, g(r.HeldLoss), g(r.HeldAcc))
	}
	return append(rec, strconv.FormatFloat(r.Seconds, 'f', 2, 64), "")
}

// writeSweepResults writes results.csv and results.md in dir.
func writeSweepResults(dir string, rows []sweepRow) error {
	var sb strings.Builder
	cw := csv.NewWriter(&sb)
	cw.Write(sweepHeader(rows))
	held := heldOutName(rows) != ""
	for _, r := range rows {
		cw.Write(sweepRecord(r, held))
	}
	cw.Flush()
	if err := writeFileAtomic(filepath.Join(dir, "results.csv"), []byte(sb.String())); err != nil {
		return err
	}
	var md strings.Builder
	writeSweepMarkdown(&md, rows)
	return writeFileAtomic(filepath.Join(dir, "results.md"), []byte(md.String()))
}

// writeSweepMarkdown writes the results as a Markdown table, accuracies
// in percent.
func writeSweepMarkdown(w io.Writer, rows []sweepRow) {
	ho := heldOutName(rows)
	head := []string{"hidden", "activation", "lr", "params", "epochs", "train loss", "train acc"}
	if ho != "" {
		head = append(head, ho+" loss", ho+" acc")
	}
	head = append(head, "seconds")
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat(" ---: |", len(head)))
	for _, r := range rows {
		cells := []string{r.Hidden, r.Activation, strconv.FormatFloat(r.LR, 'g', -1, 64), strconv.Itoa(r.Params), strconv.Itoa(r.Epochs)}
		if r.Err != "" {
			cells = append(cells, "failed: "+strings.ReplaceAll(r.Err, "|", "/"))
			fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
			continue
		}
		cells = append(cells, fmt.Sprintf("%.4f", r.TrainLoss), fmt.Sprintf("%.2f%%", 100*r.TrainAcc))
		if ho != "" {
			cells = append(cells, fmt.Sprintf("%.4f", r.HeldLoss), fmt.Sprintf("%.2f%%", 100*r.HeldAcc))
		}
		cells = append(cells, fmt.Sprintf("%.1f", r.Seconds))
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}
