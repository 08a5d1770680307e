package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/kernels"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// testLimits are the server's limits, small enough for tests.
func testLimits() serveLimits {
	l := defaultServeLimits()
	l.Trainings, l.Queue = 2, 4
	l.TrainTime, l.Idle = 20*time.Second, 20*time.Second
	return l
}

func newTestServer(t *testing.T, lim serveLimits) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newServer(lim))
	t.Cleanup(ts.Close)
	return ts
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Name string
	Data json.RawMessage
}

// sseStream reads events from a training stream.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

func openStream(t *testing.T, base string, q url.Values) *sseStream {
	t.Helper()
	return openStreamPath(t, base, "/api/train", q)
}

// openStreamPath opens a stream of another endpoint (the CNN view's).
func openStreamPath(t *testing.T, base, path string, q url.Values) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path+"?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("GET %s?%s: %s: %s", path, q.Encode(), resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	s := &sseStream{t: t, resp: resp, sc: sc, cancel: cancel}
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next event; it fails the test at the stream's end.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	var ev sseEvent
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.Name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.Data = json.RawMessage(line[6:])
		case line == "" && ev.Name != "":
			return ev
		}
	}
	s.t.Fatalf("the stream ended (%v) while waiting for an event", s.sc.Err())
	return ev
}

// until returns the first event named name (skipping others), and the
// ones skipped.
func (s *sseStream) until(name string) (sseEvent, []sseEvent) {
	s.t.Helper()
	var skipped []sseEvent
	for {
		ev := s.next()
		if ev.Name == name {
			return ev, skipped
		}
		skipped = append(skipped, ev)
	}
}

// untilState waits for a state event with the given state.
func (s *sseStream) untilState(state string) map[string]any {
	s.t.Helper()
	for {
		ev, _ := s.until("state")
		var m map[string]any
		json.Unmarshal(ev.Data, &m)
		if m["state"] == state {
			return m
		}
		if m["state"] == "error" || m["state"] == "diverged" {
			s.t.Fatalf("state %v while waiting for %s", m, state)
		}
	}
}

type initEvent struct {
	ID      string     `json:"id"`
	Command string     `json:"command"`
	Exact   bool       `json:"exact"`
	Lo      [2]float64 `json:"lo"`
	Hi      [2]float64 `json:"hi"`
	Grid    int        `json:"grid"`
}

func (s *sseStream) init() initEvent {
	s.t.Helper()
	ev, _ := s.until("init")
	var in initEvent
	if err := json.Unmarshal(ev.Data, &in); err != nil {
		s.t.Fatal(err)
	}
	return in
}

func postControl(t *testing.T, base, id, action string) int {
	t.Helper()
	resp, err := http.PostForm(base+"/api/control", url.Values{"id": {id}, "action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getPredict(t *testing.T, base, id string, pts [][2]float64) predictReply {
	t.Helper()
	var s []string
	for _, p := range pts {
		s = append(s, fmt.Sprintf("%v,%v", p[0], p[1]))
	}
	resp, err := http.Get(base + "/api/predict?" + url.Values{"id": {id}, "pts": {strings.Join(s, ";")}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("predict: %s: %s", resp.Status, b)
	}
	var out predictReply
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// splitCommand splits the page's command line (words, single quotes).
func splitCommand(s string) []string {
	var out []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case r == ' ' && !in:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

func TestServeStaticFiles(t *testing.T) {
	ts := newTestServer(t, testLimits())
	for _, c := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/", "text/html", "<script src=\"/static/app.js\">", 200},
		{"/static/app.js", "javascript", "function stream(", 200},
		{"/static/style.css", "text/css", ".plane", 200},
		{"/static/nope.js", "", "", 404},
		{"/static/../serve.go", "", "", 404},
		{"/etc/passwd", "", "", 404},
		{"/api/options", "application/json", "\"activations\"", 200},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(resp.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(b), c.contains) {
			t.Errorf("GET %s: %s, %q, body %.80q; want %d, %q containing %q", c.path, resp.Status, resp.Header.Get("Content-Type"), b, c.code, c.ctype, c.contains)
		}
	}
}

// Every bad parameter is a 400 (or the status named) with a one-line
// reason that names the problem.
func TestServeBadRequests(t *testing.T) {
	ts := newTestServer(t, testLimits())
	for _, c := range []struct {
		method, path, body string
		code               int
		reason             string
		origin             string
	}{
		{"GET", "/api/train?lr=-1", "", 400, "lr must be a positive", ""},
		{"GET", "/api/train?lr=abc", "", 400, "lr", ""},
		{"GET", "/api/train?epochs=0", "", 400, "epochs must be at least 1", ""},
		{"GET", "/api/train?epochs=100000", "", 400, "epochs must be at most", ""},
		{"GET", "/api/train?batch=1&epochs=2000", "", 400, "steps", ""},
		{"GET", "/api/train?data=mnist", "", 400, "data must be one of", ""},
		{"GET", "/api/train?data=/etc/passwd", "", 400, "data must be one of", ""},
		{"GET", "/api/train?arch=model.json", "", 400, "not a file name", ""},
		{"GET", "/api/train?arch=linear(5)", "", 400, "class scores", ""},
		{"GET", "/api/train?hidden=4,x", "", 400, "not a positive layer size", ""},
		{"GET", "/api/train?hidden=4096,4096", "", 400, "parameters", ""},
		{"GET", "/api/train?activation=swish", "", 400, "unknown activation", ""},
		{"GET", "/api/train?optimizer=lbfgs", "", 400, "unknown optimiser", ""},
		{"GET", "/api/train?dropout=1", "", 400, "dropout", ""},
		{"GET", "/api/train?val=1", "", 400, "val", ""},
		{"GET", "/api/train?noise=3", "", 400, "noise", ""},
		{"GET", "/api/train?pts=1,2", "", 400, "not x,y,class", ""},
		{"GET", "/api/train?pts=1,2,7", "", 400, "class 7", ""},
		{"GET", "/api/train?pts=99,2,0", "", 400, "≤ 10", ""},
		{"GET", "/api/train?neurons=1000", "", 400, "neurons", ""},
		{"GET", "/api/train?rate=-1", "", 400, "rate", ""},
		{"GET", "/api/train?autoplay=yes", "", 400, "autoplay", ""},
		{"GET", "/api/train?record=true", "", 400, "unknown parameter", ""},
		{"GET", "/api/train?data-dir=/tmp", "", 400, "unknown parameter", ""},
		{"GET", "/api/train?lr=0.1&lr=0.2", "", 400, "given 2 times", ""},
		{"GET", "/api/train?out=/tmp/x", "", 400, "unknown parameter \"out\"", ""},
		{"POST", "/api/control", "id=x&action=explode", 400, "action must be", ""},
		{"POST", "/api/control", "id=nosuch&action=play", 404, "no training with that id", ""},
		{"POST", "/api/control", "id=" + strings.Repeat("x", 100<<10) + "&action=play", 400, "too large", ""},
		{"GET", "/api/predict?id=nosuch&pts=0,0", "", 404, "no training", ""},
		{"GET", "/api/graph?expr=sigmoid(", "", 400, "expression", ""},
		{"GET", "/api/graph?expr=w*x&vars={\"w\":[1,2]}", "", 400, "variable x has no value", ""},
		{"GET", "/api/graph?expr=w*x&vars={\"w\":[1,2],\"x\":1}", "", 400, "one number", ""},
		{"GET", "/api/graph?expr=w*x&vars={\"w\":[1,2],\"x\":[1,2,3]}", "", 400, "expression:", ""},
		{"GET", "/api/graph?expr=log(x)&vars={\"x\":-1}", "", 400, "not finite", ""},
		{"GET", "/api/graph?expr=foo(x)&vars={\"x\":1}", "", 400, "unknown function foo", ""},
		{"GET", "/api/graph?expr=x&vars=[1]", "", 400, "vars", ""},
		{"GET", "/api/graph?expr=x&vars={\"x\":1}&file=a", "", 400, "unknown parameter", ""},
		{"GET", "/api/graph?expr=" + strings.Repeat("x+", 300) + "x", "", 400, "too long", ""},
		{"GET", "/api/graph?expr=" + strings.Repeat("x*", 150) + "x&vars={\"x\":1}", "", 400, "nodes", ""},
		{"GET", "/api/activations?n=1", "", 400, "2 ≤ n", ""},
		{"GET", "/api/activations?lo=3&hi=1", "", 400, "lo < hi", ""},
		{"GET", "/api/activations?x=1", "", 400, "unknown parameter", ""},
		{"PUT", "/api/train", "", 405, "Method Not Allowed", ""},
		{"GET", "/nope", "", 404, "not found", ""},
		{"GET", "/api/train?epochs=1", "", 403, "only this server's own page", "https://evil.example"},
		{"POST", "/api/control", "id=x&action=play", 403, "refused", "http://localhost:1"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := strings.TrimSuffix(string(b), "\n")
		if resp.StatusCode != c.code || !strings.Contains(body, c.reason) || strings.Contains(body, "\n") {
			t.Errorf("%s %.90s: %d %q; want %d, one line containing %q", c.method, c.path, resp.StatusCode, body, c.code, c.reason)
		}
	}
}

// The page's run and the command it shows give the same bits: the
// network trained by the server and by `nabla train` (the binary, with
// the command's flags) give identical logits.
func TestServeRunMatchesCommand(t *testing.T) {
	ts := newTestServer(t, testLimits())
	q := url.Values{"data": {"moons"}, "val": {"0.3"}, "hidden": {"6,5"}, "activation": {"tanh"}, "optimizer": {"adam"},
		"lr": {"0.03"}, "schedule": {"cosine"}, "batch": {"16"}, "epochs": {"3"}, "l2": {"0.001"}, "dropout": {"0.1"}, "seed": {"7"}, "autoplay": {"1"}}
	s := openStream(t, ts.URL, q)
	in := s.init()
	if !in.Exact {
		t.Fatalf("init says the command is not exact for a run without page-only settings")
	}
	s.untilState("done")
	pts := [][2]float64{{-1, 0.5}, {0.3, -0.2}, {1.5, 0.1}, {0.9, 0.9}, {2.2, -0.4}}
	got := getPredict(t, ts.URL, in.ID, pts)

	args := splitCommand(in.Command)
	if len(args) < 3 || args[0] != "nabla" || args[1] != "train" {
		t.Fatalf("command %q", in.Command)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := nabla(t, append(args[1:], "--out", dir, "--quiet")...); code != 0 {
		t.Fatalf("%s: exit %d: %s", in.Command, code, stderr)
	}
	m, err := train.LoadModel(dir, train.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(m.Module, false)
	var xs []float64
	for _, p := range pts {
		xs = append(xs, p[0], p[1])
	}
	want := m.Module.Forward(ag.Untracked(tensor.FromValues(tensor.Float32, xs, len(pts), 2))).Value()
	for i := range pts {
		for k, v := range got.Logits[i] {
			if w := want.At(i, k); v != w {
				t.Fatalf("point %v class %d: server logit %v, `%s` gives %v", pts[i], k, v, in.Command, w)
			}
		}
	}
}

// Noise and clicked points are the page's own: the page says the command
// is not exact, and the points are in the training set.
func TestServeCustomDataIsMarked(t *testing.T) {
	ts := newTestServer(t, testLimits())
	s := openStream(t, ts.URL, url.Values{"data": {"xor"}, "noise": {"0.3"}, "pts": {"0.5,0.5,1;-0.5,0.25,0"}, "epochs": {"1"}})
	ev, _ := s.until("init")
	var in struct {
		Exact bool
		Note  string
		Train []addedPoint
	}
	json.Unmarshal(ev.Data, &in)
	if in.Exact || !strings.Contains(in.Note, "bits differ") {
		t.Errorf("exact %v, note %q for a noisier set with added points", in.Exact, in.Note)
	}
	n := len(in.Train)
	if n < 2 || in.Train[n-2] != (addedPoint{0.5, 0.5, 1}) || in.Train[n-1] != (addedPoint{-0.5, 0.25, 0}) {
		t.Errorf("the added points are not the training set's last: %v", in.Train[max(n-3, 0):])
	}
}

// A session starts paused, steps one optimiser step at a time, plays and
// pauses, and answers predictions while paused.
func TestServePauseStepPlay(t *testing.T) {
	ts := newTestServer(t, testLimits())
	s := openStream(t, ts.URL, url.Values{"data": {"circles"}, "epochs": {"50"}, "rate": {"200"}})
	in := s.init()
	s.untilState("paused")
	for want := 1; want <= 2; want++ {
		if code := postControl(t, ts.URL, in.ID, "step"); code != 204 {
			t.Fatalf("step: %d", code)
		}
		st := s.untilState("paused")
		if st["step"] != float64(want) {
			t.Fatalf("after %d steps the session is at step %v", want, st["step"])
		}
	}
	if p := getPredict(t, ts.URL, in.ID, [][2]float64{{0, 0}, {1, 1}}); len(p.Classes) != 2 {
		t.Fatalf("predict: %+v", p)
	}
	postControl(t, ts.URL, in.ID, "play")
	s.untilState("running")
	time.Sleep(150 * time.Millisecond)
	postControl(t, ts.URL, in.ID, "pause")
	st := s.untilState("paused")
	if st["step"].(float64) <= 2 {
		t.Fatalf("played, but still at step %v", st["step"])
	}
	postControl(t, ts.URL, in.ID, "stop")
	for {
		if !s.sc.Scan() {
			break // stopped: the stream ends
		}
	}
	waitFor(t, func() bool { return postControl(t, ts.URL, in.ID, "play") == 404 }, "the stopped session is gone")
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// A run whose loss becomes infinite ends in the diverged state with the
// reason, and the trainer's warnings reach the page.
func TestServeDivergenceIsReported(t *testing.T) {
	ts := newTestServer(t, testLimits())
	s := openStream(t, ts.URL, url.Values{"loss": {"mse"}, "optimizer": {"sgd"}, "lr": {"100"}, "schedule": {"constant"}, "epochs": {"30"}, "autoplay": {"1"}})
	in := s.init()
	for {
		ev, _ := s.until("state")
		var m map[string]any
		json.Unmarshal(ev.Data, &m)
		if m["state"] == "diverged" {
			if msg, _ := m["message"].(string); !strings.Contains(msg, "training diverged: the loss became +Inf") {
				t.Errorf("diverged with message %q", msg)
			}
			break
		}
		if m["state"] == "done" {
			t.Fatal("a run at lr 100 on MSE finished without diverging")
		}
	}
	if p := getPredict(t, ts.URL, in.ID, [][2]float64{{0, 0}}); len(p.Classes) != 1 {
		t.Errorf("no prediction after divergence: %+v", p)
	}
	s = openStream(t, ts.URL, url.Values{"optimizer": {"sgd"}, "lr": {"1000"}, "schedule": {"constant"}, "epochs": {"10"}, "autoplay": {"1"}})
	ev, _ := s.until("warning")
	if !strings.Contains(string(ev.Data), "chance level") {
		t.Errorf("warning %s", ev.Data)
	}
}

// At most Trainings run; Queue more wait; the next is refused. A client
// that leaves frees its slot; a training stops at its time limit and a
// paused one at its idle limit.
func TestServeLimits(t *testing.T) {
	lim := testLimits()
	lim.Trainings, lim.Queue = 1, 1
	lim.TrainTime, lim.Idle = 300*time.Millisecond, 400*time.Millisecond
	srv := newServer(lim)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	q := url.Values{"epochs": {"2000"}, "batch": {"64"}, "rate": {"1000"}}

	a := openStream(t, ts.URL, q)
	a.init()
	b := openStream(t, ts.URL, q)
	if ev := b.next(); ev.Name != "queued" {
		t.Fatalf("second client: %s, want queued", ev.Name)
	}
	resp, err := http.Get(ts.URL + "/api/train?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "busy") {
		t.Fatalf("third client: %s %q, want 503 busy", resp.Status, body)
	}
	a.close() // the first leaves: the second starts
	b.init()
	b.untilState("paused")
	start := time.Now()
	b.untilState("idle") // nobody pressed play
	if d := time.Since(start); d < lim.Idle-100*time.Millisecond || d > lim.Idle+2*time.Second {
		t.Errorf("idle after %v, limit %v", d, lim.Idle)
	}
	c := openStream(t, ts.URL, url.Values{"epochs": {"2000"}, "batch": {"64"}, "autoplay": {"1"}})
	c.init()
	st := c.untilState("limit")
	if !strings.Contains(st["message"].(string), "limit") {
		t.Errorf("limit message %q", st["message"])
	}
	c.close()
	waitFor(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.sessions) == 0 && len(srv.slots) == 0
	}, "every session ended and its slot freed")
}

// The stepper and the explorer use at most as many cores as trainings:
// with every compute token taken, a request waits Wait and gets a 503.
func TestServeComputeIsBounded(t *testing.T) {
	lim := testLimits()
	lim.Wait = 100 * time.Millisecond
	srv := newServer(lim)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for range cap(srv.compute) {
		srv.compute <- struct{}{}
	}
	for _, path := range []string{"/api/activations", "/api/graph?expr=x&vars={\"x\":1}"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "busy") {
			t.Errorf("GET %s with every core busy: %s %q", path, resp.Status, b)
		}
	}
	<-srv.compute
	resp, err := http.Get(ts.URL + "/api/activations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/activations with a core free: %s", resp.Status)
	}
}

// The stepper's numbers: the notes' sigmoid neuron, the chain rule at
// every edge, numerical gradients, and Jacobians that the VJPs agree with.
func TestServeGraph(t *testing.T) {
	ts := newTestServer(t, testLimits())
	get := func(expr, vars string) graphResult {
		resp, err := http.Get(ts.URL + "/api/graph?" + url.Values{"expr": {expr}, "vars": {vars}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: %s", resp.Status, b)
		}
		var g graphResult
		json.NewDecoder(resp.Body).Decode(&g)
		return g
	}
	byLabel := func(g graphResult, label string) graphNode {
		for _, n := range g.Nodes {
			if n.Label == label && n.Op == "var" {
				return n
			}
		}
		t.Fatalf("no variable %s", label)
		return graphNode{}
	}
	round := func(v []float64) string {
		var s []string
		for _, x := range v {
			s = append(s, fmt.Sprintf("%.2f", x))
		}
		return strings.Join(s, ", ")
	}
	for _, ex := range graphExamples {
		g := get(ex.Expr, ex.Vars)
		if ex.Name != "two-layer network" {
			if got := round(byLabel(g, "x").Grad); got != "0.39, -0.59" {
				t.Errorf("%s: dx = [%s], want [0.39, -0.59]", ex.Name, got)
			}
			if got := round(byLabel(g, "w").Grad); got != "-0.20, -0.39, 0.20" {
				t.Errorf("%s: dw = [%s], want [-0.20, -0.39, 0.20]", ex.Name, got)
			}
			if f := g.Nodes[g.Output].Value[0]; math.Abs(f-0.7311) > 1e-4 {
				t.Errorf("%s: f = %v, want σ(1) = 0.7311", ex.Name, f)
			}
		}
		// Each node's gradient is the sum of what its users send it, each
		// edge's downstream is upstreamᵀ·J, and the numerical gradients agree.
		sum := map[int][]float64{}
		for _, n := range g.Nodes {
			if n.Op == "var" && (n.RelErr == nil || *n.RelErr > 1e-6) {
				t.Errorf("%s: %s: relative error %v", ex.Name, n.Label, n.RelErr)
			}
			for _, e := range n.Edges {
				if e.Const {
					if g.Nodes[e.From].Op != "const" || len(e.Downstream) != 0 {
						t.Errorf("%s: edge from %d marked constant", ex.Name, e.From)
					}
					continue
				}
				s := sum[e.From]
				if s == nil {
					s = make([]float64, len(e.Downstream))
				}
				for i, v := range e.Downstream {
					s[i] += v
				}
				sum[e.From] = s
				if e.Jacobian == nil {
					t.Errorf("%s: no Jacobian for a small edge", ex.Name)
					continue
				}
				m, k := e.JacobianDim[0], e.JacobianDim[1]
				for j := 0; j < k; j++ {
					var v float64
					for i := 0; i < m; i++ {
						v += n.Grad[i] * e.Jacobian[i*k+j]
					}
					if math.Abs(v-e.Downstream[j]) > 1e-9 {
						t.Errorf("%s: node %d edge from %d: (upstreamᵀJ)[%d] = %v, downstream %v", ex.Name, n.ID, e.From, j, v, e.Downstream[j])
					}
				}
			}
		}
		for id, s := range sum {
			for i := range s {
				if math.Abs(s[i]-g.Nodes[id].Grad[i]) > 1e-9 {
					t.Errorf("%s: node %d: edges send %v, its gradient is %v", ex.Name, id, s, g.Nodes[id].Grad)
				}
			}
		}
		if len(g.Backward) == 0 || g.Backward[0] != g.Output {
			t.Errorf("%s: the backward order %v does not start at the output %d", ex.Name, g.Backward, g.Output)
		}
	}
}

// The stepper takes any text: 20 000 seeded random expressions (random
// trees of its grammar, some with a character changed) each give a graph
// or a one-line error, never a panic.
func TestServeExprNeverPanics(t *testing.T) {
	vars, err := parseVars(`{"x":1.5,"y":[1,-2],"M":[[1,2],[3,-4]],"w":[2,-3,-3]}`)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	var gen func(depth int) string
	gen = func(depth int) string {
		if depth <= 0 || r.IntN(3) == 0 {
			return pick("x", "y", "M", "w", "z", "y[1]", "w[2]", "M[0]", "M[1][0]", "y[5]", "2", "0.5", "-1", "1e400", "0")
		}
		switch r.IntN(4) {
		case 0:
			return pick(slices.Sorted(maps.Keys(unaryFuncs))...) + "(" + gen(depth-1) + ")"
		case 1:
			return gen(depth-1) + pick(" + ", "-", "*", " / ", " @ ") + gen(depth-1)
		case 2:
			return "(" + gen(depth-1) + ")" + pick("", "^2", "^-1", "^0.5", "[0]")
		}
		return "-" + gen(depth-1)
	}
	graphs := 0
	for i := 0; i < 20000; i++ {
		src := gen(4)
		if r.IntN(2) == 0 {
			src = "sum(" + src + ")"
		}
		if r.IntN(5) == 0 && len(src) > 0 { // a character changed
			k := r.IntN(len(src))
			src = src[:k] + pick("(", ")", "[", "]", "", "^", "@", ".", "e", "9") + src[k+1:]
		}
		func() {
			defer func() {
				if e := recover(); e != nil {
					t.Fatalf("%q: panic: %v", src, e)
				}
			}()
			g, err := computeGraph(src, vars)
			switch {
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("%q: a multi-line error: %v", src, err)
			case err == nil && len(g.Nodes) == 0:
				t.Fatalf("%q: a graph without nodes", src)
			case err == nil:
				graphs++
			}
		}()
	}
	if graphs < 2000 {
		t.Errorf("only %d of 20 000 random expressions gave a graph: the generator tests little", graphs)
	}
	t.Logf("%d of 20 000 gave a graph", graphs)
}

// The explorer's derivatives (from ag) match finite differences of its
// values, away from kinks.
func TestServeActivations(t *testing.T) {
	ts := newTestServer(t, testLimits())
	resp, err := http.Get(ts.URL + "/api/activations?lo=-3&hi=3&n=601")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		X           []float64
		Activations []struct {
			Name  string
			Y, DY []float64
		}
	}
	json.NewDecoder(resp.Body).Decode(&d)
	if len(d.Activations) != len(nn.ActivationNames()) || len(d.X) != 601 {
		t.Fatalf("%d activations, %d points", len(d.Activations), len(d.X))
	}
	for _, a := range d.Activations {
		for i := 1; i < len(d.X)-1; i++ {
			if math.Abs(d.X[i]) < 0.02 {
				continue // the kinks of relu and leaky-relu
			}
			fd := (a.Y[i+1] - a.Y[i-1]) / (d.X[i+1] - d.X[i-1])
			if math.Abs(fd-a.DY[i]) > 1e-3 {
				t.Errorf("%s at %v: derivative %v, finite difference %v", a.Name, d.X[i], a.DY[i], fd)
				break
			}
		}
	}
}

// SIGINT ends `nabla serve` cleanly, streams open.
func TestServeShutdownOnInterrupt(t *testing.T) {
	cmd := exec.Command(nablaBin, "serve", "--addr", "127.0.0.1:0")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("no output from nabla serve")
	}
	line := sc.Text()
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	base := strings.TrimSuffix(strings.Fields(line[i:])[0], "/")
	s := openStream(t, base, url.Values{"epochs": {"500"}, "autoplay": {"1"}, "rate": {"100"}})
	s.init()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() {
		for sc.Scan() {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("nabla serve after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nabla serve still running 10 s after SIGINT")
	}
}

// The load test: 50 clients stream trainings (each bounded, so they take
// turns on the slots) while static requests keep a p99 under 100 ms (above
// this machine's p99 just before, so that a shared machine's own load is
// not blamed on the server); afterwards no goroutine of a client is left
// and the heap is bounded. 30 s of load, as the issue asks.
func TestServeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 50 clients for 30 s")
	}
	const clients, duration = 50, 30 * time.Second
	lim := testLimits()
	lim.Trainings, lim.Queue = defaultTrainings(), clients
	lim.TrainTime = 1 * time.Second
	kernels.SetThreads(1) // as runServe does
	defer kernels.SetThreads(0)
	srv := newServer(lim)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	runtime.GC()
	baseG := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc

	// The static latency of this machine without trainings, as it is now:
	// a shared machine's own load must not be blamed on the server.
	idle := staticLatencies(t, ts.URL, 2*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	started := make(chan int, 1000)
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		go func(c int) {
			for ctx.Err() == nil {
				q := url.Values{"data": {[]string{"spiral", "moons", "circles", "xor", "blobs"}[c%5]}, "hidden": {"16,16"},
					"epochs": {"2000"}, "autoplay": {"1"}, "seed": {fmt.Sprint(c)}}
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/train?"+q.Encode(), nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				if resp.StatusCode != 200 {
					b, _ := io.ReadAll(resp.Body)
					errs <- fmt.Errorf("client %d: %s %s", c, resp.Status, b)
					resp.Body.Close()
					return
				}
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(nil, 16<<20)
				for sc.Scan() {
					if sc.Text() == "event: init" {
						started <- c
					}
				}
				resp.Body.Close()
			}
		}(c)
	}
	lat := staticLatencies(t, ts.URL, duration)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	p99, p99idle := lat[len(lat)*99/100], idle[len(idle)*99/100]
	t.Logf("%d static requests: p50 %v, p99 %v under load; p50 %v, p99 %v before; %d trainings started",
		len(lat), lat[len(lat)/2], p99, idle[len(idle)/2], p99idle, len(started))
	if p99-p99idle > 100*time.Millisecond {
		t.Errorf("the trainings raise the static p99 from %v to %v, by more than 100 ms", p99idle, p99)
	}
	if n := len(started); n < 2*lim.Trainings {
		t.Errorf("only %d trainings started in %v", n, duration)
	}
	// Every client has gone: no session, no slot, no goroutine left.
	waitFor(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.sessions) == 0 && len(srv.slots) == 0 && srv.waiting.Load() == 0
	}, "every session ended")
	ts.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= baseG+2 }, fmt.Sprintf("goroutines back to %d (now %d)", baseG, runtime.NumGoroutine()))
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grow := int64(ms.HeapAlloc) - int64(baseHeap); grow > 64<<20 {
		t.Errorf("the heap grew by %d MiB", grow>>20)
	}
}

// staticLatencies fetches the page's script every 20 ms for d and
// returns the latencies, sorted.
func staticLatencies(t *testing.T, base string, d time.Duration) []time.Duration {
	var lat []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		t0 := time.Now()
		resp, err := http.Get(base + "/static/app.js")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
	}
	sortDurations(lat)
	return lat
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
