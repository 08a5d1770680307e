package main

// The playground's trainings: a page's settings become `nabla train`
// flags, parsed by the same defineTrainFlags, completed by fillDefaults and
// built by buildRun with no run folder; the run is stepped with the
// trainer's step API in the request's goroutine, which streams frames.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// trainParams are the query parameters that are `nabla train` flags, in
// the order the equivalent command lists them (query name = flag name).
var trainParams = []string{
	"data", "val", "arch", "hidden", "activation", "init", "dropout", "loss",
	"optimizer", "lr", "momentum", "weight-decay", "schedule", "batch", "epochs",
	"l1", "l2", "clip", "seed", "dtype",
}

// pageParams are the page's own parameters, which `nabla train` has no
// flag for: the data set's noise, points added by clicking, how many
// units' heat maps to send, whether to start running, the most optimiser
// steps per second (to watch; 0: as fast as it goes), and the view.
var pageParams = []string{"noise", "pts", "neurons", "autoplay", "rate", "view"}

// syntheticNoise are data.Synthetic's noise levels (the std of blobs), and
// syntheticWith builds the same sets with another noise: at the default
// level it gives data.Synthetic's bits.
var syntheticNoise = map[string]float64{"spiral": 0.2, "moons": 0.1, "circles": 0.05, "xor": 0.1, "blobs": 0.8}

func syntheticWith(name string, noise float64, seed uint64) *data.InMemory {
	rng := tensor.NewRand(seed)
	switch name {
	case "spiral":
		return data.Spiral(data.SpiralPerClass, 3, noise, rng)
	case "moons":
		return data.Moons(1000, noise, rng)
	case "circles":
		return data.Circles(1000, noise, 0.5, rng)
	case "xor":
		return data.XOR(1000, noise, rng)
	}
	return data.Blobs(1000, 4, noise, rng)
}

const (
	maxPoints     = 300 // points added by clicking
	maxNeurons    = 64  // heat maps per frame, all layers together
	maxParamCount = 200_000
	gridSize      = 50 // the decision boundary's and heat maps' resolution
	serveMemory   = 64 << 20
)

// playRequest is a parsed playground request.
type playRequest struct {
	flags   trainFlags
	args    []string // the `nabla train` flags, as the page's command shows them
	noise   float64
	custom  bool // noise or points differ from what `nabla train` can do
	points  []addedPoint
	neurons int
	play    bool
	rate    float64
}

type addedPoint struct {
	X, Y float64
	C    int
}

// parsePlay checks q and turns it into `nabla train` flags; every error is
// a one-line reason for a 400.
func parsePlay(q url.Values, lim serveLimits) (*playRequest, error) {
	if err := checkQuery(q, trainParams, pageParams); err != nil {
		return nil, err
	}
	p := &playRequest{neurons: 16}
	name := q.Get("data")
	if name == "" {
		name = "spiral"
	}
	if _, ok := syntheticNoise[name]; !ok {
		return nil, fmt.Errorf("data must be one of spiral, moons, circles, xor, blobs, not %q (the page reads no files)", name)
	}
	if a := strings.TrimSpace(q.Get("arch")); strings.HasSuffix(strings.ToLower(a), ".json") {
		return nil, errors.New("arch must be a spec, not a file name (the page reads no files)")
	}
	for _, k := range trainParams {
		if v, ok := q[k]; ok && v[0] != "" {
			p.args = append(p.args, "--"+k, v[0])
		}
	}
	if !slices.Contains(p.args, "--data") {
		p.args = append([]string{"--data", name}, p.args...)
	}
	var err error
	if p.flags, err = pageTrainFlags(p.args, lim); err != nil {
		return nil, err
	}
	p.noise = syntheticNoise[name]
	if v := q.Get("noise"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || !(n >= 0 && n <= 2) {
			return nil, fmt.Errorf("noise must be a number in [0, 2], not %q", v)
		}
		p.noise = n
	}
	p.custom = p.noise != syntheticNoise[name]
	if v := q.Get("pts"); v != "" {
		for _, s := range strings.Split(v, ";") {
			f := strings.Split(s, ",")
			if len(f) != 3 {
				return nil, fmt.Errorf("pts: %q is not x,y,class", s)
			}
			x, ex := strconv.ParseFloat(f[0], 64)
			y, ey := strconv.ParseFloat(f[1], 64)
			c, ec := strconv.Atoi(f[2])
			if ex != nil || ey != nil || ec != nil || math.Abs(x) > 10 || math.Abs(y) > 10 || c < 0 {
				return nil, fmt.Errorf("pts: %q is not x,y,class with |x|, |y| ≤ 10 and a class ≥ 0", s)
			}
			p.points = append(p.points, addedPoint{x, y, c})
		}
		if len(p.points) > maxPoints {
			return nil, fmt.Errorf("pts: at most %d added points, not %d", maxPoints, len(p.points))
		}
		p.custom = p.custom || len(p.points) > 0
	}
	if v := q.Get("neurons"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxNeurons {
			return nil, fmt.Errorf("neurons must be an integer in [0, %d], not %q", maxNeurons, v)
		}
		p.neurons = n
	}
	if err := parseRun(q, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseRun reads how the training runs: rate and autoplay.
func parseRun(q url.Values, p *playRequest) error {
	if v := q.Get("rate"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r >= 0 && r <= 1e6) {
			return fmt.Errorf("rate must be a number of steps per second in [0, 1e6], not %q", v)
		}
		p.rate = r
	}
	switch v := q.Get("autoplay"); v {
	case "", "0":
	case "1":
		p.play = true
	default:
		return fmt.Errorf("autoplay must be 0 or 1, not %q", v)
	}
	return nil
}

// checkQuery refuses parameters not in the lists, given twice, or too long.
func checkQuery(q url.Values, lists ...[]string) error {
	known := slices.Concat(lists...)
	for k, v := range q {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
		if len(v) != 1 {
			return fmt.Errorf("parameter %q given %d times", k, len(v))
		}
		if len(v[0]) > 2000 {
			return fmt.Errorf("parameter %q is too long (%d bytes, at most 2000)", k, len(v[0]))
		}
	}
	return nil
}

// pageTrainFlags parses `nabla train` flags sent by the page, as runTrain
// does, with the data set's defaults filled in and the server's limit on
// epochs.
func pageTrainFlags(args []string, lim serveLimits) (trainFlags, error) {
	var f trainFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defineTrainFlags(fs, &f)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	// As runTrain: the same checks of the flags given.
	if err := checkGivenFlags(fs, &f, ""); err != nil {
		return f, err
	}
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "record" || fl.Name == "record-every" || fl.Name == "data-dir" {
			bad = fmt.Errorf("%s is not a page setting", fl.Name)
		}
	})
	if bad != nil {
		return f, bad
	}
	f.fillDefaults()
	if f.Epochs > lim.MaxEpochs {
		return f, fmt.Errorf("epochs must be at most %d here, not %d", lim.MaxEpochs, f.Epochs)
	}
	return f, nil
}

// command is the equivalent `nabla train` command line.
func (p *playRequest) command() string {
	var sb strings.Builder
	sb.WriteString("nabla train")
	for _, a := range p.args {
		sb.WriteByte(' ')
		sb.WriteString(shellQuote(a))
	}
	return sb.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,=+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// build makes the run. Without noise or points of the page's own it is
// buildRun's, untouched; with them the data set is swapped before the
// trainer starts (and the schedule rebuilt for its length), which no
// `nabla train` flag can reproduce.
func (p *playRequest) build(lim serveLimits) (*trainRun, error) {
	run, err := buildRun(p.flags, "", serveMemory)
	if err != nil {
		return nil, err
	}
	if err := checkParams(run); err != nil {
		return nil, err
	}
	if p.custom {
		f := p.flags
		ds := syntheticWith(f.Data, p.noise, f.Seed)
		run.train, run.val = ds, nil
		if f.Val > 0 {
			run.train, run.val = data.Split(ds, f.Val, tensor.NewRand(f.Seed+1))
		}
		if len(p.points) > 0 {
			if run.train, err = withPoints(run.train, p.points); err != nil {
				return nil, err
			}
		}
		run.trainer.Train = run.train
		run.trainer.Val = nil
		if run.val != nil {
			run.trainer.Val = run.val
		}
		batches := (run.train.Len() + f.Batch - 1) / f.Batch
		if run.trainer.Schedule, err = optim.ScheduleByName(f.Schedule, f.LR, f.Epochs*batches); err != nil {
			return nil, err
		}
	}
	if err := checkSteps(run, p.flags, lim); err != nil {
		return nil, err
	}
	return run, nil
}

// checkParams and checkSteps are the page's limits on a network's size
// and a training's length.
func checkParams(run *trainRun) error {
	if n := nn.NumParams(run.model); n > maxParamCount {
		return fmt.Errorf("the network has %d parameters; the page trains at most %d", n, maxParamCount)
	}
	return nil
}

func checkSteps(run *trainRun, f trainFlags, lim serveLimits) error {
	batches := (run.train.Len() + f.Batch - 1) / f.Batch
	if steps := f.Epochs * batches; steps > lim.MaxSteps {
		return fmt.Errorf("%d epochs of %d batches are %d steps; the page trains at most %d (fewer epochs or a larger batch)", f.Epochs, batches, steps, lim.MaxSteps)
	}
	return nil
}

// withPoints returns ds with the points appended.
func withPoints(ds *data.InMemory, pts []addedPoint) (*data.InMemory, error) {
	x := slices.Clone(ds.X.Values())
	y := slices.Clone(ds.Y)
	for _, p := range pts {
		if p.C >= ds.NumClasses {
			return nil, fmt.Errorf("pts: class %d, but %s has %d classes", p.C, ds.Name, ds.NumClasses)
		}
		x = append(x, p.X, p.Y)
		y = append(y, p.C)
	}
	return &data.InMemory{X: tensor.FromValues(tensor.Float32, x, len(y), 2), Y: y, NumClasses: ds.NumClasses, Name: ds.Name}, nil
}

// session is one live training, owned by its request's goroutine; other
// requests reach it only through cmds.
type session struct {
	id   string
	lim  serveLimits
	cmds chan ctlMsg
	w    io.Writer
	rc   *http.ResponseController
	req  *playRequest
	run  *trainRun
	rec  *train.Recorder

	paused, stepOnce, finished bool
	ranFor                     time.Duration // running time before runStart
	runStart                   time.Time
	lastFrame, lastStep        time.Time
	last                       train.StepResult
	stats                      []layerStats
	snap                       map[string]*tensor.Tensor // weights before the recorded step
	snapStep                   int
	lo, hi                     [2]float64 // the plane shown
	grid                       *tensor.Tensor
	ctx                        context.Context // the request's
	abort                      error           // why the training goroutine must end
	limitHit                   bool
	cancel                     context.CancelFunc
	release                    func()    // gives the training slot back (once)
	cnn                        *cnnState // the CNN view's (nil: the playground's)
}

// ctlMsg is a command from the page.
type ctlMsg struct {
	action string // play, pause, step, stop, predict, image
	pts    [][2]float64
	index  int // image: the test image the CNN view shows
	reply  chan predictReply
}

type predictReply struct {
	Classes []int       `json:"classes"`
	Logits  [][]float64 `json:"logits"`
}

var errStopped = errors.New("stopped")

func (s *server) handleTrain(w http.ResponseWriter, r *http.Request) {
	p, err := parsePlay(r.URL.Query(), s.lim)
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	s.serveSession(w, r, p, nil, func() (*trainRun, error) { return p.build(s.lim) })
}

// serveSession builds a run (build answers a 400 with its error) and
// trains it in a session, streaming to w, when a training slot is free;
// the playground's and the CNN view's trainings (cnn set) share it, and
// so the limits.
func (s *server) serveSession(w http.ResponseWriter, r *http.Request, p *playRequest, cnn *cnnState, build func() (*trainRun, error)) {
	if s.waiting.Load() >= int64(s.lim.Queue) || s.open.Load() >= int64(s.lim.Sessions) {
		badRequest(w, http.StatusServiceUnavailable, "the server is busy: too many trainings waiting; try again later")
		return
	}
	s.open.Add(1)
	defer s.open.Add(-1)
	run, err := build()
	if err != nil {
		badRequest(w, http.StatusBadRequest, err.Error())
		return
	}
	ss := &session{id: newID(), lim: s.lim, cmds: make(chan ctlMsg, 8), w: w, rc: http.NewResponseController(w), req: p, run: run, paused: !p.play, cnn: cnn}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	select {
	case s.slots <- struct{}{}:
	default:
		s.waiting.Add(1)
		ss.send("queued", map[string]any{"waiting": s.waiting.Load(), "trainings": cap(s.slots)})
		select {
		case s.slots <- struct{}{}:
			s.waiting.Add(-1)
		case <-ctx.Done():
			s.waiting.Add(-1)
			return
		}
	}
	var once sync.Once
	ss.release = func() { once.Do(func() { <-s.slots }) }
	defer ss.release()
	s.mu.Lock()
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ss.id)
		s.mu.Unlock()
	}()
	ss.train(ctx)
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// send writes one server-sent event; a client that does not read within
// 10 s ends its training.
func (ss *session) send(event string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are sent
	}
	ss.rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err = fmt.Fprintf(ss.w, "event: %s\ndata: %s\n\n", event, b); err == nil {
		err = ss.rc.Flush()
	}
	if err != nil && ss.abort == nil {
		ss.abort = err
		if ss.cancel != nil {
			ss.cancel()
		}
	}
}

func (ss *session) state(s, msg string) {
	ss.send("state", map[string]any{"state": s, "message": msg, "step": ss.last.Step, "epoch": ss.last.Epoch})
}

// train runs the session until the client leaves, stops it, or it idles.
func (ss *session) train(ctx context.Context) {
	// A panic inside a training (a bug, not the page's input, which
	// buildRun checked) ends this session with its message, not the server.
	defer func() {
		if r := recover(); r != nil {
			ss.state("error", fmt.Sprintf("the training failed: %v", r))
		}
	}()
	t := ss.run.trainer
	// The recorder reads the batch's layers every few steps (the trainer
	// gives the same bits with or without it); the Record hook set first
	// keeps the weights of a recorded step, to measure its update.
	const every = 5
	t.Config.Record = func(step int) {
		if step == 1 || step%every == 0 {
			ss.snap, ss.snapStep = map[string]*tensor.Tensor{}, step
			for _, p := range ss.run.model.Params() {
				if p.Node.Value().Dims() >= 2 {
					ss.snap[strings.TrimSuffix(p.Name, ".weight")] = p.Node.Value().Clone()
				}
			}
		}
	}
	ss.rec = train.NewRecorder(ss.run.model, every)
	ss.rec.Keep, ss.rec.Bins = true, 24
	if err := ss.rec.Attach(t); err != nil {
		ss.state("error", err.Error())
		return
	}
	if ss.cnn != nil {
		ss.cnn.attach(t)
	}
	t.Config.OnStep = ss.onStep
	t.Config.OnEpoch = ss.onEpoch
	t.Config.Log = lineWriter(func(line string) {
		if w, ok := strings.CutPrefix(line, "warning: "); ok {
			ss.send("warning", map[string]string{"message": w})
		}
	})
	if err := t.Start(); err != nil {
		ss.state("error", err.Error())
		return
	}
	ss.ctx = ctx
	trainCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss.cancel = cancel
	ss.sendInit()
	ss.frame()
	if err := ss.hold(ctx); err != nil {
		return
	}
	for !t.Done() {
		_, err := t.RunEpoch(trainCtx)
		if err == nil {
			continue
		}
		var nf *train.NonFiniteError
		switch {
		case ss.abort != nil || ctx.Err() != nil:
			return
		case ss.limitHit:
			ss.frame()
			ss.state("limit", fmt.Sprintf("stopped after %s of training, this server's limit per training", ss.lim.TrainTime))
		case errors.As(err, &nf):
			ss.state("diverged", fmt.Sprintf("training diverged: the loss became %v at step %d (lower the learning rate, or clip gradients)", nf.Loss, nf.Step))
		default:
			ss.state("error", err.Error())
		}
		break
	}
	if t.Done() {
		ss.frame()
		ss.state("done", fmt.Sprintf("trained %d epochs", t.Epoch()))
	}
	// Finished: the slot goes to the next training, and the session
	// answers predictions until the client leaves or idles.
	ss.release()
	ss.finished, ss.paused = true, true
	ss.hold(ctx)
}

// hold blocks while the session is paused, serving commands; it returns
// an error when the training must end (client gone, stopped, idle).
func (ss *session) hold(ctx context.Context) error {
	if !ss.paused {
		ss.runStart = time.Now()
		return nil
	}
	if !ss.finished {
		ss.state("paused", "")
	}
	idle := time.NewTimer(ss.lim.Idle)
	defer idle.Stop()
	for ss.paused {
		select {
		case <-ctx.Done():
			ss.abort = ctx.Err()
			return ss.abort
		case m := <-ss.cmds:
			if ss.handle(m) {
				ss.abort = errStopped
				return ss.abort
			}
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(ss.lim.Idle)
		case <-idle.C:
			ss.state("idle", fmt.Sprintf("ended after %s without a command", ss.lim.Idle))
			ss.abort = errStopped
			return ss.abort
		}
	}
	ss.runStart = time.Now()
	ss.state("running", "")
	return nil
}

// handle applies one command; it reports whether the session must end.
func (ss *session) handle(m ctlMsg) bool {
	switch m.action {
	case "play":
		ss.paused = ss.finished
	case "pause":
		ss.paused = true
	case "step":
		ss.paused, ss.stepOnce = ss.finished, !ss.finished
	case "stop":
		return true
	case "predict":
		m.reply <- ss.predict(m.pts)
	case "image":
		ss.cnn.index = m.index
		if ss.paused {
			ss.frame()
		}
	}
	return false
}

func (ss *session) onStep(res train.StepResult) {
	ss.last = res
	if ss.cnn != nil {
		ss.cnn.onStep(res)
	}
	// Let the server's other goroutines in between steps: a page's
	// request waits for a training's step, not for its time slice.
	runtime.Gosched()
	if recs := ss.rec.Records; len(recs) > 0 {
		ss.stats = layerStatsOf(recs[len(recs)-1], ss.snap, ss.run.model)
		ss.rec.Records = recs[:0]
	}
	for drained := false; !drained; {
		select {
		case m := <-ss.cmds:
			if ss.handle(m) {
				ss.abort = errStopped
				ss.cancel()
				return
			}
		default:
			drained = true
		}
	}
	if ss.stepOnce {
		ss.stepOnce, ss.paused = false, true
	}
	if ss.ranFor+time.Since(ss.runStart) > ss.lim.TrainTime {
		ss.limitHit = true
		ss.cancel()
		return
	}
	if ss.paused || time.Since(ss.lastFrame) >= ss.lim.Frame {
		ss.frame()
	}
	if ss.req.rate > 0 && !ss.paused {
		// Slowed down to be watched: wait out the rest of the step's time.
		wait := time.Duration(float64(time.Second)/ss.req.rate) - time.Since(ss.lastStep)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ss.ctx.Done():
				t.Stop()
			}
		}
		ss.lastStep = time.Now()
	}
	if ss.paused {
		ss.ranFor += time.Since(ss.runStart)
		if ss.hold(ss.ctx) != nil || ss.abort != nil {
			ss.cancel()
		}
	}
}

func (ss *session) onEpoch(m train.Metrics) {
	ss.send("epoch", m)
}

// lineWriter calls its function with each complete line written to it.
type lineWriter func(string)

func (f lineWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f(strings.TrimLeft(line, "\r\033[K"))
	}
	return len(b), nil
}

// sendInit describes the run: the command, the data, the plane shown.
func (ss *session) sendInit() {
	if ss.cnn != nil {
		ss.cnnInit()
		return
	}
	type pt struct {
		X, Y float64
		C    int
	}
	pts := func(ds *data.InMemory) []pt {
		if ds == nil {
			return []pt{}
		}
		v := ds.X.Values()
		out := make([]pt, ds.Len())
		for i := range out {
			out[i] = pt{v[2*i], v[2*i+1], ds.Y[i]}
		}
		return out
	}
	tr, te := pts(ss.run.train), pts(ss.run.val)
	ss.lo, ss.hi = [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, p := range slices.Concat(tr, te) {
		ss.lo = [2]float64{min(ss.lo[0], p.X), min(ss.lo[1], p.Y)}
		ss.hi = [2]float64{max(ss.hi[0], p.X), max(ss.hi[1], p.Y)}
	}
	// A square plane around the data, with a margin.
	c := [2]float64{(ss.lo[0] + ss.hi[0]) / 2, (ss.lo[1] + ss.hi[1]) / 2}
	half := 0.55 * max(ss.hi[0]-ss.lo[0], ss.hi[1]-ss.lo[1], 1e-3)
	ss.lo = [2]float64{c[0] - half, c[1] - half}
	ss.hi = [2]float64{c[0] + half, c[1] + half}
	g := make([]float64, 0, 2*gridSize*gridSize)
	for j := 0; j < gridSize; j++ { // rows from the top: y falls
		y := ss.hi[1] - (float64(j)+0.5)*(ss.hi[1]-ss.lo[1])/gridSize
		for i := 0; i < gridSize; i++ {
			g = append(g, ss.lo[0]+(float64(i)+0.5)*(ss.hi[0]-ss.lo[0])/gridSize, y)
		}
	}
	ss.grid = tensor.FromValues(nn.DTypeOf(ss.run.model), g, gridSize*gridSize, 2)
	note := ""
	if ss.req.custom {
		note = "noise and added points are the page's own: this command trains the set without them, so its bits differ"
	}
	ss.send("init", map[string]any{
		"id": ss.id, "command": ss.req.command(), "exact": !ss.req.custom, "note": note,
		"train": tr, "test": te, "classes": ss.run.train.Classes(), "lo": ss.lo, "hi": ss.hi, "grid": gridSize,
		"spec": describeSpec(ss.run.spec), "params": nn.NumParams(ss.run.model), "epochs": ss.req.flags.Epochs,
		"steps_per_epoch": (ss.run.train.Len() + ss.req.flags.Batch - 1) / ss.req.flags.Batch,
		"flags":           ss.req.flags,
	})
}

// evalTrace runs the bare model on x in evaluation mode, recording
// nothing, and returns the class probabilities and each layer's output.
func (ss *session) evalTrace(x *tensor.Tensor) (*tensor.Tensor, []nn.Traced) {
	m := ss.run.model
	was := nn.IsTraining(m)
	nn.SetTraining(m, false)
	defer nn.SetTraining(m, was)
	out, outs := nn.Trace(m, ag.Untracked(x))
	return out.Value(), outs
}

type neuronMap struct {
	Layer  int     `json:"layer"` // the hidden layer, from 0
	Path   string  `json:"path"`
	Unit   int     `json:"unit"`
	Lo, Hi float64 // the values bytes 0 and 255 stand for
	Map    string  `json:"map"` // gridSize² bytes, base64, rows from the top
}

// frame sends the live state: the boundary over the plane, the hidden
// units' heat maps, the last step and the layers' statistics.
func (ss *session) frame() {
	ss.lastFrame = time.Now()
	if ss.cnn != nil {
		ss.cnnFrame()
		return
	}
	logits, outs := ss.evalTrace(ss.grid)
	n, c := logits.Dim(0), logits.Dim(1)
	lv := logits.Values()
	cls, conf := make([]byte, n), make([]byte, n)
	for i := 0; i < n; i++ {
		row := lv[i*c : (i+1)*c]
		best := 0
		for k := range row {
			if row[k] > row[best] {
				best = k
			}
		}
		var z float64 // the softmax's denominator, relative to the largest logit
		for _, v := range row {
			z += math.Exp(v - row[best])
		}
		cls[i], conf[i] = byte(best), byte(math.Round(255/z))
	}
	var maps []neuronMap
	hidden := 0
	for _, o := range outs {
		act, ok := o.Module.(*nn.Activation)
		if !ok || o.Out == nil || o.Out.Value().Dims() != 2 {
			continue
		}
		v := o.Out.Value().Values()
		units := o.Out.Value().Dim(1)
		for u := 0; u < units && len(maps) < ss.req.neurons; u++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for i := 0; i < n; i++ {
				lo, hi = min(lo, v[i*units+u]), max(hi, v[i*units+u])
			}
			switch act.Name() {
			case "tanh":
				lo, hi = -1, 1
			case "sigmoid":
				lo, hi = 0, 1
			default:
				m := max(math.Abs(lo), math.Abs(hi), 1e-6)
				lo, hi = -m, m
			}
			b := make([]byte, n)
			for i := 0; i < n; i++ {
				b[i] = byte(math.Round(255 * min(max((v[i*units+u]-lo)/(hi-lo), 0), 1)))
			}
			maps = append(maps, neuronMap{Layer: hidden, Path: o.Path, Unit: u, Lo: lo, Hi: hi, Map: base64.StdEncoding.EncodeToString(b)})
		}
		hidden++
	}
	ss.send("frame", map[string]any{
		"step": ss.last.Step, "epoch": ss.last.Epoch, "loss": ss.last.Loss, "lr": ss.last.LR,
		"batch_acc": float64(ss.last.Correct) / float64(max(ss.last.N, 1)),
		"cls":       base64.StdEncoding.EncodeToString(cls), "conf": base64.StdEncoding.EncodeToString(conf),
		"neurons": maps, "layers": ss.stats, "paused": ss.paused,
	})
}

// predict evaluates the model at the points (the page's tests compare it
// with the boundary drawn).
func (ss *session) predict(pts [][2]float64) predictReply {
	v := make([]float64, 0, 2*len(pts))
	for _, p := range pts {
		v = append(v, p[0], p[1])
	}
	logits, _ := ss.evalTrace(tensor.FromValues(nn.DTypeOf(ss.run.model), v, len(pts), 2))
	c := logits.Dim(1)
	lv := logits.Values()
	out := predictReply{Classes: tensor.ArgMax(logits, 1), Logits: make([][]float64, len(pts))}
	for i := range pts {
		out.Logits[i] = lv[i*c : (i+1)*c]
	}
	return out
}

// layerStats is one layer's line in the page's table.
type layerStats struct {
	Path           string          `json:"path"`
	Layer          string          `json:"layer"`
	Kind           string          `json:"kind"`
	WeightGradNorm *float64        `json:"weight_grad_norm,omitempty"`
	WeightNorm     *float64        `json:"weight_norm,omitempty"`
	UpdateRatio    *float64        `json:"update_ratio,omitempty"` // ‖ΔW‖/‖W‖ of the recorded step
	OutGradNorm    float64         `json:"out_grad_norm"`
	Mean           float64         `json:"mean"`
	Std            float64         `json:"std"`
	Dead           *float64        `json:"dead,omitempty"`
	Saturated      *float64        `json:"saturated,omitempty"`
	Hist           train.Histogram `json:"hist"`
	Fused          bool            `json:"fused,omitempty"`
}

func layerStatsOf(rec train.StepRecord, snap map[string]*tensor.Tensor, model nn.Module) []layerStats {
	now := map[string]*tensor.Tensor{}
	for _, p := range model.Params() {
		if p.Node.Value().Dims() >= 2 {
			now[strings.TrimSuffix(p.Name, ".weight")] = p.Node.Value()
		}
	}
	out := make([]layerStats, len(rec.Layers))
	for i, l := range rec.Layers {
		s := layerStats{Path: l.Path, Layer: l.Layer, Kind: l.Kind, WeightGradNorm: l.WeightGradNorm, WeightNorm: l.WeightNorm,
			OutGradNorm: l.OutGradNorm, Mean: l.Mean, Std: l.Std, Dead: l.Dead, Saturated: l.Saturated, Hist: l.Hist, Fused: l.Fused}
		if before, ok := snap[l.Path]; ok && now[l.Path] != nil {
			var d, w float64
			a, b := now[l.Path].Values(), before.Values()
			for k := range a {
				d += (a[k] - b[k]) * (a[k] - b[k])
				w += b[k] * b[k]
			}
			if w > 0 {
				r := math.Sqrt(d / w)
				s.UpdateRatio = &r
			}
		}
		out[i] = s
	}
	return out
}

func (s *server) lookup(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

func (s *server) handleControl(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	action := r.PostForm.Get("action")
	if !slices.Contains([]string{"play", "pause", "step", "stop", "image"}, action) {
		badRequest(w, http.StatusBadRequest, fmt.Sprintf("action must be play, pause, step, stop or image, not %q", action))
		return
	}
	ss := s.lookup(r.PostForm.Get("id"))
	if ss == nil {
		badRequest(w, http.StatusNotFound, "no training with that id (it ended, or never started)")
		return
	}
	msg := ctlMsg{action: action}
	if action == "image" {
		if ss.cnn == nil {
			badRequest(w, http.StatusBadRequest, "action image is the CNN view's; this training is the playground's")
			return
		}
		v := r.PostForm.Get("index")
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n >= ss.cnn.test.Len() {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("index must be an integer in [0, %d), not %q", ss.cnn.test.Len(), v))
			return
		}
		msg.index = n
	}
	select {
	case ss.cmds <- msg:
		w.WriteHeader(http.StatusNoContent)
	default:
		badRequest(w, http.StatusTooManyRequests, "too many commands waiting for this training")
	}
}

func (s *server) handlePredict(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ss := s.lookup(q.Get("id"))
	if ss == nil {
		badRequest(w, http.StatusNotFound, "no training with that id (it ended, or never started)")
		return
	}
	if ss.cnn != nil {
		badRequest(w, http.StatusBadRequest, "predict takes points of the playground's plane; this training is the CNN view's")
		return
	}
	var pts [][2]float64
	for _, p := range strings.Split(q.Get("pts"), ";") {
		f := strings.Split(p, ",")
		if len(f) != 2 {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("pts: %q is not x,y", p))
			return
		}
		x, ex := strconv.ParseFloat(f[0], 64)
		y, ey := strconv.ParseFloat(f[1], 64)
		if ex != nil || ey != nil || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			badRequest(w, http.StatusBadRequest, fmt.Sprintf("pts: %q is not two finite numbers", p))
			return
		}
		pts = append(pts, [2]float64{x, y})
	}
	if len(pts) > 1000 {
		badRequest(w, http.StatusBadRequest, fmt.Sprintf("pts: at most 1000 points, not %d", len(pts)))
		return
	}
	reply := make(chan predictReply, 1)
	select {
	case ss.cmds <- ctlMsg{action: "predict", pts: pts, reply: reply}:
	default:
		badRequest(w, http.StatusTooManyRequests, "too many commands waiting for this training")
		return
	}
	select {
	case out := <-reply:
		writeJSON(w, out)
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
		badRequest(w, http.StatusServiceUnavailable, "the training did not answer within 10 s")
	}
}

// handleOptions lists the choices the page offers, from the packages
// that define them.
func (s *server) handleOptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"data": data.SyntheticNames(), "noise": syntheticNoise, "activations": nn.ActivationNames(),
		"inits": nn.InitNames(), "optimizers": optim.Names(), "schedules": optim.ScheduleNames(),
		"losses": loss.Names(), "vanishing": vanishingSetups, "cnn": cnnOptions(),
		"limits": map[string]any{"epochs": s.lim.MaxEpochs, "steps": s.lim.MaxSteps, "points": maxPoints, "neurons": maxNeurons,
			"train_seconds": s.lim.TrainTime.Seconds(), "idle_seconds": s.lim.Idle.Seconds(), "trainings": cap(s.slots)},
	})
}
